import { QuantError, allocate } from '@quantkit/core';
import { isDefaultDomain } from './domain.js';
import type { Graph } from './graph.js';
import type { ValueInfo } from './value-info.js';
import { type Model, cloneModel } from './model.js';
import { valueInfoToProto } from './graph-proto.js';
import { createNode } from './model-builder.js';
import { onnxTypes } from './onnx-schema.js';

/**
 * Makes `name`, a value computed inside a branch of an If node of `graph` (at any depth), an extra output of that
 * If: the branch outputs it and the other branch a placeholder scalar 0 of its type. Returns the new output's name
 * in `graph`, or undefined when no branch computes it (Loop and Scan bodies are not searched: their values exist
 * once per iteration).
 */
function exposeFromBranches(graph: Graph, name: string): string | undefined {
  for (const node of graph.nodes) {
    if (node.opType !== 'If' || !isDefaultDomain(node.domain)) continue;
    const thenBranch = node.attributes.get('then_branch');
    const elseBranch = node.attributes.get('else_branch');
    if (thenBranch?.type !== 'graph' || elseBranch?.type !== 'graph') continue;
    for (const [own, other] of [
      [thenBranch.value, elseBranch.value],
      [elseBranch.value, thenBranch.value],
    ] as const) {
      const inner = own.producer(name) !== undefined ? name : exposeFromBranches(own, name);
      if (inner === undefined) continue;
      const dtype = own.valueType(inner)?.dtype ?? 'float32';
      // A fresh value per branch output: a body may not output one value twice, nor an outer-scope value.
      const carried = own.uniqueName(`${name}_exposed`);
      own.addNode(createNode({ opType: 'Identity', inputs: [inner], outputs: [carried] }));
      own.outputs.push({ name: carried, dtype });
      const placeholder = other.uniqueName(`${name}_absent`);
      other.addNode(
        createNode({
          opType: 'Constant',
          outputs: [placeholder],
          attributes: { value: { type: 'tensor', value: { dtype, shape: [], data: allocate(dtype, 1) } } },
        }),
      );
      other.outputs.push({ name: placeholder, dtype });
      const outer = graph.uniqueName(`${name}_exposed`);
      node.outputs.push(outer);
      graph.invalidate();
      return outer;
    }
  }
  return undefined;
}

/**
 * A copy of `model` whose main graph also outputs the named intermediate values, so an executor can fetch them
 * (calibration observes activations this way). The original model is not modified.
 *
 * Added outputs carry the element type when it is known (from value_info, initializers or Constant nodes) but no
 * shape: onnxruntime checks declared output shapes against its own inference, and a stale value_info shape would
 * then fail the whole session; without a type onnxruntime infers it.
 *
 * With `aliases`, a value computed inside an If branch can be named too: the If gets an extra output carrying it
 * (its value from the branch taken, a scalar 0 from the other) and `aliases` maps the name to the output to fetch.
 *
 * @example
 * const probe = exposeOutputs(model, ['conv1_out', 'relu1_out']);
 * const aliases = new Map<string, string>();
 * const deep = exposeOutputs(model, ['branch_value'], aliases); // fetch aliases.get('branch_value')
 * @throws QuantError INVALID_ARGUMENT when a name is not produced by any node, input or initializer of the graph
 *   (or, with `aliases`, of an If branch in it).
 */
export function exposeOutputs(model: Model, names: readonly string[], aliases?: Map<string, string>): Model {
  const graph = model.graph.clone();
  const present = new Set(graph.outputs.map((output) => output.name));
  for (const name of names) {
    if (present.has(name)) continue;
    if (graph.producer(name) === undefined && !graph.isInput(name) && !graph.isInitializer(name)) {
      const exposed = aliases === undefined ? undefined : exposeFromBranches(graph, name);
      if (exposed === undefined) {
        throw new QuantError(
          'INVALID_ARGUMENT',
          `cannot expose "${name}": no node, input or initializer of graph "${graph.name}" provides it` +
            (aliases === undefined ? '' : ', nor a node in an If branch'),
        );
      }
      graph.outputs.push({ name: exposed });
      aliases!.set(name, exposed);
      present.add(name);
      continue;
    }
    const info: ValueInfo = { name };
    const dtype = graph.valueType(name)?.dtype;
    if (dtype !== undefined) info.dtype = dtype;
    graph.outputs.push(info);
    present.add(name);
  }
  return cloneModel(model, graph);
}

/**
 * The encoding of a model whose main graph also outputs the named values, made from `bytes` (the model's
 * encoding) without encoding the model again: protobuf merges a repeated message field, so a short ModelProto
 * holding only the extra graph outputs, appended to the bytes, adds them (see exposeOutputs for what an added
 * output declares). `model` gives the element types; it must be the model `bytes` encode, or one whose main graph
 * computes every named value under the same name. The weights are copied once, never re-encoded.
 *
 * @example
 * const probe = exposeOutputsInBytes(bytes, model, ['conv1_out']);
 * @throws QuantError INVALID_ARGUMENT when a name is not a value of the model's main graph.
 */
export function exposeOutputsInBytes(bytes: Uint8Array, model: Model, names: readonly string[]): Uint8Array {
  const { graph } = model;
  const present = new Set(graph.outputs.map((output) => output.name));
  const added: ValueInfo[] = [];
  for (const name of names) {
    if (present.has(name)) continue;
    if (graph.producer(name) === undefined && !graph.isInput(name) && !graph.isInitializer(name)) {
      throw new QuantError(
        'INVALID_ARGUMENT',
        `cannot expose "${name}": no node, input or initializer of graph "${graph.name}" provides it`,
      );
    }
    const info: ValueInfo = { name };
    const dtype = graph.valueType(name)?.dtype;
    if (dtype !== undefined) info.dtype = dtype;
    added.push(info);
    present.add(name);
  }
  if (added.length === 0) return bytes;
  const tail = onnxTypes.ModelProto.encode({ graph: { output: added.map(valueInfoToProto) } }).finish();
  const probe = new Uint8Array(bytes.length + tail.length);
  probe.set(bytes);
  probe.set(tail, bytes.length);
  return probe;
}
