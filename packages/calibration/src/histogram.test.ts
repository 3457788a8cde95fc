import { QuantError } from '@quantkit/core';
import { quantErrorOf } from '@quantkit/core/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Histogram, type HistogramDomain } from './histogram.js';
import { nearestRank, seededUniform } from './test-samples.js';

/** Batches whose values span very different scales, with a few non-finite values mixed in. */
const batchesArbitrary = fc.array(
  fc.tuple(
    fc.array(
      fc.oneof(
        { weight: 20, arbitrary: fc.double({ min: -1, max: 1, noNaN: true }) },
        { weight: 1, arbitrary: fc.constantFrom(Number.NaN, Infinity, -Infinity) },
      ),
      { maxLength: 40 },
    ),
    fc.constantFrom(1e-6, 1e-2, 1, 3, 100, 1e5),
    fc.double({ min: -5, max: 5, noNaN: true }),
  ).map(([values, scale, shift]) => Float32Array.from(values, (v) => v * scale + shift * scale)),
  { minLength: 1, maxLength: 6 },
);

const domainArbitrary = fc.constantFrom<HistogramDomain>('signed', 'abs');

function finiteValues(batches: readonly Float32Array[], domain: HistogramDomain): number[] {
  const values: number[] = [];
  for (const batch of batches) {
    for (const v of batch) if (Number.isFinite(v)) values.push(domain === 'abs' ? Math.abs(v) : v);
  }
  return values;
}

function build(bins: number, domain: HistogramDomain, batches: readonly Float32Array[]): Histogram {
  const histogram = new Histogram(bins, domain);
  for (const batch of batches) histogram.add(batch);
  return histogram;
}

describe('Histogram', () => {
  it('counts every finite value in the bin that holds it, on a power-of-two grid', () => {
    fc.assert(
      fc.property(batchesArbitrary, domainArbitrary, fc.constantFrom(2, 16, 128, 2048), (batches, domain, bins) => {
        const histogram = build(bins, domain, batches);
        const values = finiteValues(batches, domain);
        expect(histogram.count).toBe(values.length);
        if (values.length === 0) {
          expect(histogram.usedBins).toBe(0);
          return;
        }
        const view = histogram.view();
        const width = (view.max - view.min) / view.counts.length;
        expect(Number.isInteger(Math.log2(width))).toBe(true);
        expect(view.counts.length).toBeLessThanOrEqual(bins);
        // Reference binning: bin edges are view.min + j * width; count each value where it falls.
        const reference = new Array<number>(view.counts.length).fill(0);
        for (const v of values) {
          const j = Math.floor(v / width) - Math.round(view.min / width);
          expect(j).toBeGreaterThanOrEqual(0);
          expect(j).toBeLessThan(view.counts.length);
          reference[j]!++;
        }
        expect(view.counts).toEqual(reference);
        // The grid is as fine as a power-of-two grid can be: half the width would not fit in `bins` bins.
        const low = domain === 'abs' ? 0 : Math.min(...values);
        const high = Math.max(...values);
        const half = width / 2;
        const fitsHalf = Math.floor(high / half) - Math.floor(low / half) < bins;
        const atRelativeFloor = half < Math.max(Math.abs(low), high) * 2 ** -40 || half < 2 ** -149;
        expect(fitsHalf && !atRelativeFloor).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  it('does not depend on batch order, and merging equals one pass exactly', () => {
    fc.assert(
      fc.property(
        batchesArbitrary,
        domainArbitrary,
        fc.integer({ min: 0, max: 6 }),
        fc.integer(),
        (batches, domain, cut, seed) => {
          const whole = build(256, domain, batches);
          const uniform = seededUniform(seed);
          const shuffled = [...batches].sort(() => uniform() - 0.5);
          expect(build(256, domain, shuffled).toArrays()).toEqual(whole.toArrays());
          const first = build(256, domain, batches.slice(0, cut));
          first.merge(build(256, domain, batches.slice(cut)));
          expect(first.toArrays()).toEqual(whole.toArrays());
          expect(first.count).toBe(whole.count);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('keeps the total and the mean within a bin width while the range grows 10x over batches', () => {
    const uniform = seededUniform(7);
    const histogram = new Histogram(2048, 'signed');
    let sum = 0;
    let count = 0;
    for (let b = 0; b < 40; b++) {
      // The scale grows from 1 to 10 over the batches, so the grid re-bins several times.
      const scale = 10 ** (b / 39);
      const batch = Float32Array.from({ length: 5000 }, () => (uniform() * 2 - 0.7) * scale);
      for (const v of batch) sum += v;
      count += batch.length;
      histogram.add(batch);
    }
    const view = histogram.view();
    const width = (view.max - view.min) / view.counts.length;
    const total = view.counts.reduce((a, b) => a + b, 0);
    expect(total).toBe(count);
    const centreMean = view.counts.reduce((acc, c, j) => acc + c * (view.min + (j + 0.5) * width), 0) / total;
    expect(Math.abs(centreMean - sum / count)).toBeLessThanOrEqual(width);
    // Resolution survives the growth: at least half of the bins cover the data.
    expect(histogram.usedBins).toBeGreaterThanOrEqual(1024 - 1);
  });

  it('reads nearest-rank quantiles within one bin width', () => {
    fc.assert(
      fc.property(batchesArbitrary, domainArbitrary, fc.double({ min: 0, max: 1, noNaN: true }), (batches, domain, q) => {
        const histogram = build(512, domain, batches);
        const values = finiteValues(batches, domain).sort((a, b) => a - b);
        if (values.length === 0) {
          expect(quantErrorOf(() => histogram.quantile(q))?.code).toBe('CALIBRATION_DATA');
          return;
        }
        const exact = nearestRank(values, q);
        expect(Math.abs(histogram.quantile(q) - exact)).toBeLessThanOrEqual(histogram.binWidth);
      }),
      { numRuns: 200 },
    );
  });

  it('keeps its memory fixed: the state has `bins` counts after 1 or 1000 batches', () => {
    const uniform = seededUniform(3);
    const histogram = new Histogram(300, 'abs');
    histogram.add([1, -2]);
    const lengths = (h: Histogram) => Object.values(h.toArrays()).map((a) => a.length);
    const after1 = lengths(histogram);
    for (let b = 0; b < 1000; b++) histogram.add(Float32Array.from({ length: 50 }, () => (uniform() - 0.5) * 1000 * b));
    expect(lengths(histogram)).toEqual(after1);
    expect(after1).toEqual([300, 2, 2]);
  });

  it('survives zeros, tiny and huge magnitudes together', () => {
    const histogram = new Histogram(128, 'signed');
    histogram.add([0, 0, 0]);
    expect(histogram.usedBins).toBe(1);
    histogram.add([1e-30, -1e-30]);
    histogram.add([3e38, -3e38]);
    histogram.add([Number.MAX_VALUE, -Number.MAX_VALUE]);
    expect(histogram.count).toBe(9);
    expect(histogram.view().counts.reduce((a, b) => a + b, 0)).toBe(9);
    expect(histogram.view().max).toBeGreaterThanOrEqual(Number.MAX_VALUE);
  });

  it('round-trips through plain arrays and refuses arrays that do not describe a histogram', () => {
    const histogram = build(64, 'signed', [Float32Array.of(-3, 1, 2, 7.5)]);
    const arrays = histogram.toArrays();
    expect(Histogram.fromArrays(64, 'signed', arrays).toArrays()).toEqual(arrays);
    expect(Histogram.fromArrays(64, 'signed', new Histogram(64, 'signed').toArrays()).count).toBe(0);
    const refused = [
      { ...arrays, counts: arrays.counts.slice(1) },
      { ...arrays, counts: arrays.counts.map((c, j) => (j === 0 ? -1 : c)) },
      { ...arrays, counts: arrays.counts.map((c, j) => (j === 63 ? 1 : c)) },
      { ...arrays, grid: [arrays.grid[0]! + 1, arrays.grid[1]!] },
      { ...arrays, grid: [0.5, 0] },
      { ...arrays, extremes: [Infinity, -Infinity] },
    ];
    for (const bad of refused) {
      expect(quantErrorOf(() => Histogram.fromArrays(64, 'signed', bad))?.code).toBe('CALIBRATION_DATA');
    }
  });

  it('refuses to merge histograms of other sizes or domains, and bad bin counts', () => {
    const error = quantErrorOf(() => new Histogram(64, 'signed').merge(new Histogram(32, 'signed')));
    expect(error?.code).toBe('CALIBRATION_DATA');
    expect(error?.message).toMatch(/32-bin histogram of signed values into a 64-bin/);
    expect(quantErrorOf(() => new Histogram(64, 'signed').merge(new Histogram(64, 'abs')))?.code).toBe(
      'CALIBRATION_DATA',
    );
    expect(QuantError.is(quantErrorOf(() => new Histogram(1.5, 'abs')), 'INVALID_ARGUMENT')).toBe(true);
  });
});
