import { createTensor } from '@quantkit/core';
import { isDefaultDomain } from './domain.js';
import { dropIfUnused } from './remove-unused.js';
import type { Graph } from './graph.js';

/**
 * Rewrites every Div by a float32 constant holding one nonzero value (the `x / 6` of hard-swish, a `/ sqrt(d)`
 * attention scale) as Mul by its reciprocal. The result differs from the division by at most one rounding of the
 * reciprocal (none for powers of two). Quantized, a Mul by a constant fuses into onnxruntime's QLinearMul where a
 * Div stays float between a DequantizeLinear and a QuantizeLinear.
 *
 * @example const rewritten = divideByConstantAsMul(model.graph); // Div(x, 6) -> Mul(x, 0.16666667)
 * @returns how many Div nodes became Mul
 */
export function divideByConstantAsMul(graph: Graph): number {
  let rewritten = 0;
  for (const node of [...graph.nodes]) {
    if (node.opType !== 'Div' || !isDefaultDomain(node.domain)) continue;
    const divisor = graph.getConstant(node.inputs[1] ?? '');
    if (divisor?.dtype !== 'float32' || divisor.data.length !== 1) continue;
    const value = (divisor.data as Float32Array)[0]!;
    if (value === 0 || !Number.isFinite(value)) continue;
    const reciprocal = graph.uniqueName(`${node.inputs[1]}_reciprocal`);
    graph.addInitializer(reciprocal, createTensor('float32', [...divisor.shape], Float32Array.of(1 / value)));
    graph.removeNode(node);
    graph.addNode({ ...node, opType: 'Mul', inputs: [node.inputs[0]!, reciprocal] });
    dropIfUnused(graph, node.inputs[1]!);
    rewritten++;
  }
  return rewritten;
}
