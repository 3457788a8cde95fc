/**
 * Seeded sample generators for tests and benchmarks (not exported from the package): the same seed gives the same
 * samples on every machine, so tests that compare observers on "a Laplace distribution" are reproducible.
 */

/** mulberry32: a small 32-bit PRNG; returns uniform numbers in [0, 1). */
export function seededUniform(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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
  for (let start = 0; start < values.length; start += size) batches.push(values.subarray(start, start + size));
  return batches;
}

/** The nearest-rank quantile: the ceil(q * n)-th smallest value (the smallest for q = 0). */
export function nearestRank(sorted: ArrayLike<number>, q: number): number {
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[rank - 1]!;
}
