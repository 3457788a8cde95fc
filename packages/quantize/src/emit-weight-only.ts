import type { ComputedQuantization } from './compute-quantization.js';
import { emitMatMulNBits } from './emit-nbits.js';
import type { QdqEmitter } from './emitter.js';
import type { Recipe } from './options.js';
import type { QuantPlan } from './plan.js';

/** Finds the emitter of the enclosing graph that holds a weight a body reads, to store its codes there once. */
export type WeightOwner = (name: string) => QdqEmitter | undefined;

/**
 * Weight-only: each planned weight is stored in int8 (or narrower, packed) and dequantized in front of its float
 * op; with block granularity, MatMul and Gemm become 4-bit MatMulNBits instead; with format "packed", the node
 * becomes a custom op reading the packed codes. `ownerOf` names the emitter of the enclosing graph that holds a
 * weight an If/Loop/Scan body reads from outside: the weight is stored and dequantized once there, and every body
 * reads the one copy.
 */
export function emitWeightOnly(
  emitter: QdqEmitter,
  plan: QuantPlan,
  recipe: Recipe,
  computed: ComputedQuantization,
  ownerOf: WeightOwner = () => undefined,
): void {
  for (const use of plan.nbitsNodes) emitMatMulNBits(emitter, use, recipe, computed.weights.get(use)!);
  // Packing replaces the node, so a node's other weights are rewired first, while `use.node` is still the node.
  const packed = plan.constants.filter((use) => computed.weights.get(use)!.packed !== undefined);
  for (const use of plan.constants) {
    const weight = computed.weights.get(use)!;
    if (weight.packed !== undefined) continue;
    const owner = ownerOf(use.name) ?? emitter;
    // Stored where it lives, in the form of the graph that reads it (a static run's bodies fold theirs).
    const dequantized = owner.sharedDequantizedConstant(
      weight.key,
      use.name,
      () => weight.quantized,
      emitter.foldDequantize,
    );
    emitter.graph.replaceInput(use.node, use.name, dequantized);
  }
  for (const use of packed) emitter.packWeight(use.node, use.slot, computed.weights.get(use)!.packed!);
}
