import { describeObserver, quantErrorOf } from '@quantkit/core/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { minMaxObserver } from './min-max-observer.js';
import { createPercentileObserver, percentileObserver } from './percentile-observer.js';
import { batchesOf, laplaceSamples, nearestRank } from './test-samples.js';

describeObserver(percentileObserver, { perChannel: false });
describeObserver(createPercentileObserver({ percentile: 90, bins: 256 }), { perChannel: false });

/** Laplace(0, 1) with a handful of huge outliers, in batches. */
function laplaceWithOutliers(): Float32Array {
  const values = laplaceSamples(100_000, 1, 11);
  for (const [i, v] of [
    [10, 100],
    [20_000, -100],
    [50_000, 95],
    [70_000, -90],
    [99_999, 100],
  ] as const) {
    values[i] = v;
  }
  return values;
}

describe('percentileObserver', () => {
  it('clips a few large outliers that min-max keeps', () => {
    const values = laplaceWithOutliers();
    const percentile = percentileObserver.create({ percentile: 99.99, symmetric: true });
    const minMax = minMaxObserver.create({ symmetric: true });
    for (const batch of batchesOf(values, 4096)) {
      percentile.observe(batch, [batch.length]);
      minMax.observe(batch, [batch.length]);
    }
    expect(minMax.range().max[0]).toBe(100);
    const clipped = percentile.range().max[0]!;
    // Laplace(0, 1) has P(|x| > 12) = e^-12: the 99.99th percentile of |x| is near ln(10^4) = 9.2.
    expect(clipped).toBeGreaterThan(5);
    expect(clipped).toBeLessThan(20);
  });

  it('matches the sorted-array nearest-rank percentile within one bin width', () => {
    const values = laplaceWithOutliers();
    const magnitudes = Float64Array.from(values, Math.abs).sort();
    const sorted = Float64Array.from(values).sort();
    for (const p of [50, 99, 99.9, 99.99, 99.999]) {
      const symmetric = percentileObserver.create({ percentile: p, symmetric: true });
      const asymmetric = percentileObserver.create({ percentile: p, symmetric: false });
      // The negative outliers arrive in later batches than the first positive one: the signed histogram re-bins.
      for (const batch of batchesOf(values, 10_000)) {
        symmetric.observe(batch, [batch.length]);
        asymmetric.observe(batch, [batch.length]);
      }
      const width = (h: { min: number; max: number; counts: readonly number[] }) => (h.max - h.min) / h.counts.length;
      const t = nearestRank(magnitudes, p / 100);
      expect(Math.abs(symmetric.range().max[0]! - t)).toBeLessThanOrEqual(width(symmetric.histogram()!) + 1e-6 * t);
      const low = nearestRank(sorted, (100 - p) / 200);
      const high = nearestRank(sorted, (100 + p) / 200);
      const range = asymmetric.range();
      const w = width(asymmetric.histogram()!);
      expect(Math.abs(range.min[0]! - low)).toBeLessThanOrEqual(w + 1e-6 * Math.abs(low));
      expect(Math.abs(range.max[0]! - high)).toBeLessThanOrEqual(w + 1e-6 * Math.abs(high));
    }
  });

  it('at percentile 100 equals min-max exactly', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1e3, max: 1e3, noNaN: true }), { minLength: 1, maxLength: 50 }),
        fc.boolean(),
        (values, symmetric) => {
          const batch = Float32Array.from(values);
          const percentile = percentileObserver.create({ percentile: 100, symmetric });
          const minMax = minMaxObserver.create({ symmetric });
          percentile.observe(batch, [batch.length]);
          minMax.observe(batch, [batch.length]);
          expect(percentile.range()).toEqual(minMax.range());
        },
      ),
    );
  });

  it('keeps a histogram of |x| for symmetric ranges and of x otherwise', () => {
    const symmetric = percentileObserver.create({ symmetric: true, bins: 16 });
    symmetric.observe([-3, 1], [2]);
    expect(symmetric.histogram()?.min).toBe(0);
    const asymmetric = percentileObserver.create({ bins: 16 });
    asymmetric.observe([-3, 1], [2]);
    expect(asymmetric.histogram()?.min).toBeLessThanOrEqual(-3);
    expect(percentileObserver.create().histogram()).toBeUndefined();
  });

  it('validates percentile, bins and granularity, naming the option', () => {
    for (const bad of [0, -1, 100.5, Number.NaN]) {
      const error = quantErrorOf(() => percentileObserver.create({ percentile: bad }));
      expect(error.code).toBe('INVALID_ARGUMENT');
      expect(error.message).toMatch(/option percentile must be in \(0, 100\]/);
    }
    expect(quantErrorOf(() => percentileObserver.create({ bins: 1 })).message).toMatch(/option bins/);
    expect(quantErrorOf(() => createPercentileObserver({ percentile: 101 })).code).toBe('INVALID_ARGUMENT');
    const perChannel = quantErrorOf(() => percentileObserver.create({ granularity: 'channel', axis: 1 }));
    expect(perChannel.code).toBe('INVALID_ARGUMENT');
    expect(perChannel.message).toMatch(/granularity must be "tensor"/);
  });

  it('takes defaults from the factory and lets create options override them', () => {
    const plugin = createPercentileObserver({ percentile: 50 });
    const observer = plugin.create();
    observer.observe([1, 2, 3, 4], [4]);
    expect(observer.saveState().options['percentile']).toBe(50);
    expect(plugin.create({ percentile: 90 }).saveState().options['percentile']).toBe(90);
  });
});
