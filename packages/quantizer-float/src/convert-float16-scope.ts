import type { Tensor } from '@quantkit/core';
import {
  type Attribute,
  type Graph,
  type Node,
  constantNodeValue,
  createNode,
  isConstantNode,
  onnxFromDtype,
} from '@quantkit/onnx';
import { castNode } from './cast-node.js';
import { FIXED_OUTPUTS } from './float16-op-rules.js';
import { type Float16Scope, type Precision, precisionsWanted, wantedAt } from './plan-float16-scope.js';
import { toFloat16Bits } from './to-float16-bits.js';

/** The float32 tensor of a float32 constant value (initializer or Constant node), or undefined. */
function constantTensor(graph: Graph, name: string): Tensor<'float32'> | undefined {
  const initializer = graph.initializers.get(name);
  if (initializer !== undefined) {
    return initializer.dtype === 'float32' && !graph.isInput(name)
      ? (initializer as Tensor<'float32'>)
      : undefined;
  }
  const producer = graph.producer(name);
  if (producer === undefined || !isConstantNode(producer)) return undefined;
  const value = constantNodeValue(producer);
  return value?.dtype === 'float32' ? (value as Tensor<'float32'>) : undefined;
}

/** Gives the name of `name` (a value of an enclosing graph) in the precision a body wants, adding a Cast there if needed. */
type OuterResolver = (name: string, want: Precision) => string;

function float16Tensor(tensor: Tensor<'float32'>): Tensor<'float16'> {
  // Saturate: a weight beyond 65504 would otherwise become infinity and turn whole outputs into NaN.
  return { dtype: 'float16', shape: [...tensor.shape], data: toFloat16Bits(tensor.data, { saturate: true }) };
}

/** Rewrites the attributes that carry an output type in a node that now computes in float16. */
function convertNodeAttributes(node: Node): void {
  const float32 = onnxFromDtype('float32');
  const float16 = onnxFromDtype('float16');
  if (node.opType === 'Cast' || node.opType === 'EyeLike') {
    const key = node.opType === 'Cast' ? 'to' : 'dtype';
    const attribute = node.attributes.get(key);
    if (attribute?.type === 'int' && attribute.value === float32)
      node.attributes.set(key, { type: 'int', value: float16 });
  } else if (node.opType === 'ConstantOfShape') {
    const attribute = node.attributes.get('value');
    if (attribute === undefined) {
      // The default fill value is a float32 zero.
      node.attributes.set('value', {
        type: 'tensor',
        value: { dtype: 'float16', shape: [1], data: new Uint16Array(1) },
      });
    } else if (attribute.type === 'tensor' && attribute.value.dtype === 'float32') {
      node.attributes.set('value', {
        type: 'tensor',
        value: float16Tensor(attribute.value as Tensor<'float32'>),
      });
    }
  }
}

/** Replaces a Constant node's value with `tensor` (value_float/value_floats become a `value` tensor). */
function setConstantValue(node: Node, tensor: Tensor): void {
  const attributes = new Map<string, Attribute>([['value', { type: 'tensor', value: tensor }]]);
  node.attributes = attributes;
}

/**
 * Converts one graph's operators, then its subgraph bodies (which keep float32 inputs and outputs, so the If, Loop
 * and Scan nodes holding them do not change). `resolveOuter` gives enclosing graphs' values in a wanted precision;
 * `reserved` holds every name of the enclosing graphs, which a body may not define again.
 *
 * @example
 * convertFloat16Scope(planFloat16Scope(graph, lists, new Map()), true, undefined, new Set());
 * // then sort the graph and its bodies: the Casts were inserted wherever they were needed
 */
export function convertFloat16Scope(
  scope: Float16Scope,
  keepIoTypes: boolean,
  resolveOuter: OuterResolver | undefined,
  reserved: ReadonlySet<string>,
): void {
  const { plan, defined } = scope;
  const { graph, types, converted } = plan;
  graph.reserveNames(reserved);
  const isFloat32 = (name: string): boolean => name !== '' && types.get(name) === 'float32';
  const isConstant = (name: string): boolean => constantTensor(graph, name) !== undefined;
  const originalNodes = [...graph.nodes];

  // Precision of every non-constant float32 value after conversion.
  const precision = new Map<string, Precision>();
  for (const input of graph.inputs) {
    // An input with an initializer of its name (a default value) keeps float32, like its initializer.
    if (isFloat32(input.name)) {
      precision.set(input.name, keepIoTypes || graph.initializers.has(input.name) ? 'float32' : 'float16');
    }
  }
  for (const node of graph.nodes) {
    if (isConstantNode(node)) continue;
    const fixed = FIXED_OUTPUTS[node.opType] ?? [];
    node.outputs.forEach((output, i) => {
      if (!isFloat32(output)) return;
      precision.set(output, converted.has(node) && !fixed.includes(i) ? 'float16' : 'float32');
    });
  }
  for (const node of converted) convertNodeAttributes(node);

  // One Cast per value and target precision, shared by all consumers.
  const casts = new Map<string, string>();
  const castOf = (name: string, to: Precision): string => {
    const key = `${to}:${name}`;
    let output = casts.get(key);
    if (output === undefined) {
      output = graph.uniqueName(`${name}_${to === 'float16' ? 'fp16' : 'fp32'}`);
      const cast = castNode(graph, name, output, to);
      const producer = graph.producer(name);
      if (producer === undefined) graph.addNode(cast, 0);
      else graph.insertNodeAfter(cast, producer);
      casts.set(key, output);
    }
    return output;
  };

  // Graph inputs and outputs.
  graph.inputs = graph.inputs.map((input) =>
    precision.get(input.name) === 'float16' ? { ...input, dtype: 'float16' } : input,
  );
  const outputs: typeof graph.outputs = [];
  for (const output of graph.outputs) {
    if (precision.get(output.name) !== 'float16' || graph.isInput(output.name)) {
      outputs.push(output);
      continue;
    }
    if (!keepIoTypes) {
      outputs.push({ ...output, dtype: 'float16' });
      continue;
    }
    // The producer writes a new float16 value; a Cast writes the output under its old name, float32. Internal
    // consumers move to the float16 value, and ones that want float32 reuse the output itself.
    const producer = graph.producer(output.name);
    outputs.push(output);
    if (producer === undefined) continue;
    const internal = graph.uniqueName(`${output.name}_fp16`);
    graph.replaceOutput(producer, output.name, internal);
    graph.replaceAllUses(output.name, internal, { outputs: false });
    graph.insertNodeAfter(castNode(graph, internal, output.name, 'float32'), producer);
    precision.set(internal, 'float16');
    precision.set(output.name, 'float32');
    types.set(internal, 'float32');
    casts.set(`float32:${internal}`, output.name);
  }
  graph.outputs = outputs;

  // Constants: converted in place when every use wants float16, duplicated when uses disagree.
  const constantNames = new Set<string>();
  for (const name of graph.initializers.keys()) if (isConstant(name)) constantNames.add(name);
  for (const node of graph.nodes)
    if (isConstantNode(node) && node.outputs[0] && isConstant(node.outputs[0]))
      constantNames.add(node.outputs[0]);
  const constantRenames = new Map<string, string>();
  const halfConstants = new Set<string>();
  for (const name of constantNames) {
    const wants = precisionsWanted(scope, name);
    if (graph.isOutput(name)) wants.push('float32');
    if (!wants.includes('float16')) continue;
    const tensor = float16Tensor(constantTensor(graph, name)!);
    const producer = graph.producer(name);
    if (!wants.includes('float32')) {
      if (producer === undefined) graph.addInitializer(name, tensor);
      else setConstantValue(producer, tensor);
      halfConstants.add(name);
      continue;
    }
    const copy = graph.uniqueName(`${name}_fp16`);
    if (producer === undefined) graph.addInitializer(copy, tensor);
    else
      graph.insertNodeAfter(
        createNode({
          opType: 'Constant',
          name: graph.uniqueName(`${copy}_Constant`),
          outputs: [copy],
          attributes: { value: tensor },
        }),
        producer,
      );
    constantRenames.set(name, copy);
  }

  /** `name`, defined here or further out, as a value of precision `want`. */
  const resolve = (name: string, want: Precision): string => {
    if (!defined.has(name)) return resolveOuter?.(name, want) ?? name;
    if (constantNames.has(name)) {
      const have: Precision = halfConstants.has(name) ? 'float16' : 'float32';
      if (have === want) return name;
      const copy = constantRenames.get(name);
      if (want === 'float16' && copy !== undefined) return copy;
      return castOf(name, want);
    }
    return (precision.get(name) ?? 'float32') === want ? name : castOf(name, want);
  };

  // Node inputs: point each at a value of the precision it needs (only original nodes; inserted Casts are right).
  for (const node of originalNodes) {
    if (isConstantNode(node)) continue;
    node.inputs.forEach((name, position) => {
      if (!isFloat32(name)) return;
      const want = wantedAt(plan, node, position);
      if (!defined.has(name)) {
        const resolved = resolve(name, want);
        if (resolved !== name) graph.setInput(node, position, resolved);
        return;
      }
      if (constantNames.has(name)) {
        const copy = constantRenames.get(name);
        if (want === 'float16' && copy !== undefined) graph.setInput(node, position, copy);
        return;
      }
      const have = precision.get(name) ?? 'float32';
      if (have !== want) graph.setInput(node, position, castOf(name, want));
    });
  }

  // Declared types of values that became float16.
  graph.valueInfo = graph.valueInfo.map((info) =>
    info.dtype === 'float32' && precision.get(info.name) === 'float16' ? { ...info, dtype: 'float16' } : info,
  );

  // Bodies last: the values they read from here now have their final precision. A name a body gets back is
  // reserved in it too, so the body never defines it again.
  for (const [, bodies] of scope.bodies) {
    for (const body of bodies) {
      const bodyGraph = body.plan.graph;
      const outer: OuterResolver = (name, want) => {
        const resolved = resolve(name, want);
        bodyGraph.reserveNames([resolved]);
        return resolved;
      };
      convertFloat16Scope(body, true, outer, new Set([...reserved, ...graph.allNames()]));
    }
  }
}
