/**
 * Seeded sample generators for tests and benchmarks (not exported from the package): the same seed gives the same
 * samples on every machine, so tests that compare observers on "a Laplace distribution" are reproducible.
 */
import { createSeededRandom } from '@quantkit/core';

/** Uniform numbers in [0, 1) from a seed. */
export const seededUniform = createSeededRandom;

/** Laplace(0, scale) samples by inverting the CDF: x = -scale * sign(u) * ln(1 - 2|u|), u uniform in (-1/2, 1/2). */
export function laplaceSamples(count: number, scale: number, seed: number): Float32Array {
  const uniform = seededUniform(seed);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const u = uniform() - 0.5;
    out[i] = -scale * Math.sign(u) * Math.log(1 - 2 * Math.abs(u));
  }
  return out;
}

/** Cuts values into consecutive batches of `size` (the last may be shorter). */
export function batchesOf(values: Float32Array, size: number): Float32Array[] {
  const batches: Float32Array[] = [];
  for (let start = 0; start < values.length; start += size)
    batches.push(values.subarray(start, start + size));
  return batches;
}

/** The nearest-rank quantile: the ceil(q * n)-th smallest value (the smallest for q = 0). */
export function nearestRank(sorted: ArrayLike<number>, q: number): number {
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[rank - 1]!;
}
