import type { QuantDType, TargetPlugin, TargetTypePair } from '@quantkit/core';

/** The activation x weight pairs a target runs: its typePairs, or its one preferred pair. */
export function targetTypePairs(target: TargetPlugin): readonly TargetTypePair[] {
  return target.typePairs ?? [{ activation: target.activation.dtype, weight: target.weight.dtype }];
}

/** Activation (or weight) types that appear in any of the target's pairs. */
export function acceptedTypes(target: TargetPlugin, side: 'activation' | 'weight'): QuantDType[] {
  return [...new Set(targetTypePairs(target).map((pair) => pair[side]))];
}

/** `u8 x s8, u8 x u8` */
export function formatPairs(pairs: readonly TargetTypePair[]): string {
  const short = (dtype: string) => dtype.replace(/^uint/, 'u').replace(/^int/, 's');
  return pairs.map((pair) => `${short(pair.activation)} x ${short(pair.weight)}`).join(', ');
}
