import { emitMatMulNBits } from './emit-nbits.js';
import type { QdqEmitter } from './emitter.js';
import { type QuantizerFor, sharedWeightKey, weightOptions } from './emit-static.js';
import type { Recipe } from './options.js';
import type { QuantPlan } from './plan.js';

/**
 * Weight-only: each planned weight is stored in int8 and dequantized in front of its float op; with block
 * granularity, MatMul and Gemm become 4-bit MatMulNBits instead.
 */
export function emitWeightOnly(
  emitter: QdqEmitter,
  plan: QuantPlan,
  recipe: Recipe,
  quantizerFor: QuantizerFor,
): void {
  for (const use of plan.nbitsNodes) emitMatMulNBits(emitter, use, recipe, quantizerFor(use));
  for (const use of plan.constants) {
    const original = use.name;
    const quantizer = quantizerFor(use);
    const options = weightOptions(recipe, use);
    if (recipe.format === 'packed' && quantizer.packing !== undefined) {
      const quantized = emitter.quantizeWeight(quantizer, use.node, original, use.tensor, options);
      emitter.packWeight(use.node, use.slot, quantizer.packing.pack(quantized));
      continue;
    }
    const key = sharedWeightKey(use, quantizer.name, options);
    const dequantized = emitter.sharedDequantizedConstant(key, original, () =>
      emitter.quantizeWeight(quantizer, use.node, original, use.tensor, options),
    );
    emitter.graph.replaceInput(use.node, original, dequantized);
  }
}
