/**
 * A seeded pseudo-random generator (mulberry32) returning uniform numbers in [0, 1). The same seed gives the same
 * sequence on every platform, which is what generated test models, random comparison inputs and benchmarks need;
 * it is not for anything that must be unpredictable.
 *
 * @example
 * const random = createSeededRandom(1);
 * const noise = Float32Array.from({ length: 16 }, () => random() * 2 - 1);
 */
export function createSeededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
