import { QuantError } from '@quantkit/core';
import type { ValueInfo } from './graph.js';
import type { Model } from './model.js';

/**
 * A copy of `model` whose main graph also outputs the named intermediate values, so an executor can fetch them
 * (calibration observes activations this way). The original model is not modified.
 *
 * Added outputs carry the element type when it is known (from value_info, initializers or Constant nodes) but no
 * shape: onnxruntime checks declared output shapes against its own inference, and a stale value_info shape would
 * then fail the whole session; without a type onnxruntime infers it.
 *
 * @example
 * const probe = exposeOutputs(model, ['conv1_out', 'relu1_out']);
 * @throws QuantError INVALID_ARGUMENT when a name is not produced by any node, input or initializer of the graph.
 */
export function exposeOutputs(model: Model, names: readonly string[]): Model {
  const graph = model.graph.clone();
  const present = new Set(graph.outputs.map((output) => output.name));
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
    graph.outputs.push(info);
    present.add(name);
  }
  return {
    ...model,
    opsetImports: model.opsetImports.map((entry) => ({ ...entry })),
    metadata: new Map(model.metadata),
    graph,
  };
}
