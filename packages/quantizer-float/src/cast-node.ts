import type { DType } from '@quantkit/core';
import { type Graph, type Node, createNode, onnxFromDtype } from '@quantkit/onnx';

/**
 * A Cast node from `input` to `output` of type `to`, named after its output (not yet in the graph).
 *
 * @example
 * graph.insertNodeAfter(castNode(graph, 'y_fp16', 'y', 'float32'), producer);
 */
export function castNode(graph: Graph, input: string, output: string, to: DType): Node {
  return createNode({
    opType: 'Cast',
    name: graph.uniqueName(`${output}_Cast`),
    inputs: [input],
    outputs: [output],
    attributes: { to: onnxFromDtype(to) },
  });
}
