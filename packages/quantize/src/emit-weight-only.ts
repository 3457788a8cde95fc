import { emitMatMulNBits } from './emit-nbits.js';
import type { QdqEmitter } from './emitter.js';
import { type QuantizerFor, weightOptions } from './emit-static.js';
import type { Recipe } from './options.js';
import type { QuantPlan } from './plan.js';

/**
 * Weight-only: each planned weight is stored in int8 and dequantized in front of its float op; with block
 * granularity, MatMul and Gemm become 4-bit MatMulNBits instead.
 */
export function emitWeightOnly(emitter: QdqEmitter, plan: QuantPlan, recipe: Recipe, quantizerFor: QuantizerFor): void {
  for (const use of plan.nbitsNodes) emitMatMulNBits(emitter, use, recipe, quantizerFor(use));
  for (const use of plan.constants) {
    const original = use.node.inputs[use.slot]!;
    const quantizer = quantizerFor(use);
    if (recipe.format === 'packed' && quantizer.packing !== undefined) {
      const quantized = emitter.quantizeWeight(quantizer, use.node, original, use.tensor, weightOptions(recipe, use));
      emitter.packWeight(use.node, use.slot, quantizer.packing.pack(quantized));
      continue;
    }
    const dequantized = emitter.sharedDequantizedConstant(`weight\u0000${original}\u0000${use.axis}`, original, () =>
      emitter.quantizeWeight(quantizer, use.node, original, use.tensor, weightOptions(recipe, use)),
    );
    emitter.graph.replaceInput(use.node, original, dequantized);
  }
}
