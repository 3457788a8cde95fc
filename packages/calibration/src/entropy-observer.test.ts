import { describeObserver, quantErrorOf } from '@quantkit/core/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createEntropyObserver, entropyObserver, entropyThresholdBins } from './entropy-observer.js';
import { minMaxObserver } from './min-max-observer.js';
import { batchesOf, laplaceSamples } from './test-samples.js';

describeObserver(entropyObserver, { perChannel: false, numRuns: 25 });
describeObserver(createEntropyObserver({ bins: 128, bits: 4 }), { perChannel: false });

/**
 * The KL divergence of candidate threshold i, written the plain way from the description of TensorRT's algorithm
 * with MXNet-style smoothing: explicit P and Q arrays, smoothing in counts, then normalisation and the sum.
 */
function referenceDivergence(histogram: readonly number[], i: number, levels: number): number {
  const p = histogram.slice(0, i);
  p[i - 1] = p[i - 1]! + histogram.slice(i).reduce((a, b) => a + b, 0);
  const q = new Array<number>(i).fill(0);
  const perLevel = Math.floor(i / levels);
  for (let level = 0; level < levels; level++) {
    const start = level * perLevel;
    const stop = level === levels - 1 ? i : start + perLevel;
    const indices = Array.from({ length: stop - start }, (_, k) => start + k);
    const mass = indices.reduce((sum, j) => sum + histogram[j]!, 0);
    const nonZero = indices.filter((j) => p[j] !== 0);
    for (const j of nonZero) q[j] = mass / nonZero.length;
  }
  const smooth = (d: number[]) => {
    const zeros = d.filter((v) => v === 0).length;
    const take = (1e-4 * zeros) / (d.length - zeros);
    return d.map((v) => (v === 0 ? 1e-4 : v - take));
  };
  const ps = smooth(p);
  const qs = smooth(q);
  const sumP = ps.reduce((a, b) => a + b, 0);
  const sumQ = qs.reduce((a, b) => a + b, 0);
  return ps.reduce((kl, v, j) => kl + (v / sumP) * Math.log(v / sumP / (qs[j]! / sumQ)), 0);
}

describe('entropyThresholdBins', () => {
  it('picks the candidate of minimum KL divergence of an independent reference', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 8 }).chain((levels) =>
          fc.record({
            levels: fc.constant(levels),
            counts: fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 1000 })), {
              minLength: levels + 1,
              maxLength: 60,
            }),
          }),
        ),
        ({ levels, counts }) => {
          fc.pre(counts.slice(0, levels).some((c) => c > 0));
          const chosen = entropyThresholdBins(Float64Array.from(counts), levels);
          let best = Infinity;
          for (let i = levels; i <= counts.length; i++) {
            if (counts.slice(0, i).some((c) => c > 0)) best = Math.min(best, referenceDivergence(counts, i, levels));
          }
          expect(chosen).toBeGreaterThanOrEqual(levels);
          expect(chosen).toBeLessThanOrEqual(counts.length);
          expect(referenceDivergence(counts, chosen, levels)).toBeLessThanOrEqual(best + 1e-9);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps every bin when there are no more bins than levels', () => {
    expect(entropyThresholdBins(Float64Array.of(1, 2, 3), 8)).toBe(3);
  });
});

describe('entropyObserver', () => {
  const values = laplaceSamples(100_000, 1, 5);
  for (const [i, v] of [
    [3, 100],
    [40_000, -100],
    [80_000, 97],
  ] as const) {
    values[i] = v;
  }

  it('clips a few large outliers that min-max keeps, but not the Laplace bulk', () => {
    const entropy = entropyObserver.create({ symmetric: true });
    const minMax = minMaxObserver.create({ symmetric: true });
    for (const batch of batchesOf(values, 8192)) {
      entropy.observe(batch, [batch.length]);
      minMax.observe(batch, [batch.length]);
    }
    expect(minMax.range().max[0]).toBe(100);
    const { min, max } = entropy.range();
    expect(min[0]).toBe(-max[0]!);
    // Well inside the outliers, and above the bulk: P(|x| > 4) = e^-4 for Laplace(0, 1).
    expect(max[0]!).toBeLessThan(25);
    expect(max[0]!).toBeGreaterThan(4);
  });

  it('clips asymmetric ranges to the observed extremes', () => {
    // ReLU output: min 0, so the asymmetric range is [0, t] with the symmetric observer's t.
    const relu = values.map((v) => Math.max(v, 0));
    const asymmetric = entropyObserver.create();
    const symmetric = entropyObserver.create({ symmetric: true });
    asymmetric.observe(relu, [relu.length]);
    symmetric.observe(relu, [relu.length]);
    const range = asymmetric.range();
    expect(range.min[0]).toBe(0);
    expect(range.max[0]).toBe(symmetric.range().max[0]);
    expect(range.max[0]!).toBeLessThan(50);
  });

  it('derives levels from bits and validates bins, bits and levels, naming the option', () => {
    expect(entropyObserver.create({ bits: 4 }).saveState().options['levels']).toBe(8);
    expect(entropyObserver.create().saveState().options['levels']).toBe(128);
    expect(entropyObserver.create({ levels: 64, bits: 4 }).saveState().options['levels']).toBe(64);
    const bins = quantErrorOf(() => entropyObserver.create({ bins: 100 }));
    expect(bins.code).toBe('INVALID_ARGUMENT');
    expect(bins.message).toMatch(/option bins must be an integer >= 128, got 100/);
    for (const bits of [1, 17, 2.5]) {
      expect(quantErrorOf(() => entropyObserver.create({ bits })).message).toMatch(/option bits must be an integer from 2 to 16/);
    }
    expect(quantErrorOf(() => entropyObserver.create({ bits: 16 })).message).toMatch(/levels \(2\^\(bits - 1\) for bits 16\) is 32768, more than bins 2048/);
    expect(quantErrorOf(() => createEntropyObserver({ bins: 64 })).code).toBe('INVALID_ARGUMENT');
  });
});
