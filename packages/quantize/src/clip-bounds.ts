import { type Graph, type Node, floatAttribute, isDefaultDomain } from '@quantkit/onnx';

/**
 * The interval a Relu or a Clip with constant bounds maps its input into ([0, Infinity) for Relu, [0, 6] for
 * Relu6), else undefined. Clip takes its bounds as inputs from opset 11 and as attributes before.
 * @example clipBounds(graph, relu) // [0, Infinity]
 */
export function clipBounds(graph: Graph, node: Node): readonly [number, number] | undefined {
  if (!isDefaultDomain(node.domain)) return undefined;
  if (node.opType === 'Relu') return [0, Number.POSITIVE_INFINITY];
  if (node.opType !== 'Clip') return undefined;
  const bound = (slot: number, attribute: string, fallback: number): number | undefined => {
    const name = node.inputs[slot];
    if (name === undefined || name === '') return floatAttribute(node, attribute) ?? fallback;
    const constant = graph.getConstant(name);
    return constant?.dtype === 'float32' && constant.data.length === 1 ? Number(constant.data[0]) : undefined;
  };
  const low = bound(1, 'min', Number.NEGATIVE_INFINITY);
  const high = bound(2, 'max', Number.POSITIVE_INFINITY);
  return low === undefined || high === undefined ? undefined : [low, high];
}
