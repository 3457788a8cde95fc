import { emitMatMulNBits } from './emit-nbits.js';
import type { QdqEmitter } from './emitter.js';
import { type QuantizerFor, sharedWeightKey, weightOptions } from './emit-static.js';
import type { Recipe } from './options.js';
import type { QuantPlan } from './plan.js';

/**
 * Weight-only: each planned weight is stored in int8 and dequantized in front of its float op; with block
 * granularity, MatMul and Gemm become 4-bit MatMulNBits instead. `ownerOf` names the emitter of the enclosing
 * graph that holds a weight an If/Loop/Scan body reads from outside: the weight is stored and dequantized once
 * there, and every body reads the one copy.
 */
export function emitWeightOnly(
  emitter: QdqEmitter,
  plan: QuantPlan,
  recipe: Recipe,
  quantizerFor: QuantizerFor,
  ownerOf: (name: string) => QdqEmitter | undefined = () => undefined,
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
    const owner = ownerOf(original) ?? emitter;
    const dequantized = owner.sharedDequantizedConstant(key, original, () =>
      owner.quantizeWeight(quantizer, use.node, original, use.tensor, options),
    );
    emitter.graph.replaceInput(use.node, original, dequantized);
  }
}
