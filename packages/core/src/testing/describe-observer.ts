import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { QuantError } from '../errors.js';
import type { Observer, ObserverOptions, ObserverPlugin, ObserverState, ValueRange } from '../plugins.js';
import { validatePlugin } from '../registry.js';

export interface ObserverConformanceOptions {
  /** Options to create the observer with in every property (granularity is set by the suite). */
  readonly options?: ObserverOptions;
  /** Whether the observer supports granularity 'channel'. Default true. */
  readonly perChannel?: boolean;
  readonly numRuns?: number;
  /**
   * Relative tolerance when comparing a merged observer's range with a single observer's, for observers without a
   * histogram (whose tolerance is one bin width). Default 0: exact, as for min-max. Order-dependent observers such
   * as a moving average merge exactly in real arithmetic but round differently, so they pass e.g. 1e-6.
   */
  readonly mergeTolerance?: number;
}

/** A deep copy through plain arrays, so a restored observer cannot lean on arrays the original still mutates. */
function copyState(state: ObserverState): ObserverState {
  const arrays: Record<string, number[]> = {};
  for (const [name, values] of Object.entries(state.arrays)) arrays[name] = Array.from(values);
  return { ...state, options: { ...state.options }, arrays };
}

/** The range, or the QuantError code it throws instead, so two observers can be compared in either case. */
function rangeOrCode(observer: Observer): ValueRange | string {
  try {
    return observer.range();
  } catch (error) {
    if (QuantError.is(error)) return error.code;
    throw error;
  }
}

function expectRangesClose(actual: ValueRange | string, expected: ValueRange | string, tolerance: number): void {
  if (typeof expected === 'string' || typeof actual === 'string' || tolerance === 0) {
    expect(actual).toEqual(expected);
    return;
  }
  expect(actual.axis).toBe(expected.axis);
  expect(actual.min.length).toBe(expected.min.length);
  for (const [name, values] of [
    ['min', actual.min],
    ['max', actual.max],
  ] as const) {
    values.forEach((value, c) => {
      const reference = expected[name][c]!;
      // One float32 ulp on top: ranges are rounded outward to float32.
      const slack = tolerance + 2 ** -22 * Math.abs(reference);
      expect(Math.abs(value - reference), `${name}[${c}]: ${value} vs ${reference}`).toBeLessThanOrEqual(slack);
    });
  }
}

const batchesArbitrary = fc.array(
  fc.array(fc.double({ min: -1e4, max: 1e4, noNaN: true }), { minLength: 6, maxLength: 60 }).map((values) => {
    // Whole rows of 3 channels.
    const length = values.length - (values.length % 3);
    return Float32Array.from(values.slice(0, length));
  }),
  { minLength: 1, maxLength: 5 },
);

/** Batches plus a cut point: batches before the cut go to one observer, the rest to another. */
const splitArbitrary = batchesArbitrary.chain((batches) =>
  fc.record({ batches: fc.constant(batches), cut: fc.integer({ min: 0, max: batches.length }), symmetric: fc.boolean() }),
);

/**
 * The conformance suite every observer plugin runs on itself.
 *
 * @example
 * describeObserver(minMaxObserver);
 */
export function describeObserver(plugin: ObserverPlugin, settings: ObserverConformanceOptions = {}): void {
  const numRuns = settings.numRuns ?? 50;
  const base = settings.options ?? {};

  describe(`observer conformance: ${plugin.name}`, () => {
    it('is a valid plugin', () => {
      expect(validatePlugin(plugin)).toBe(plugin);
    });

    it('refuses to report a range before observing anything', () => {
      const observer = plugin.create(base);
      let caught: unknown;
      try {
        observer.range();
      } catch (error) {
        caught = error;
      }
      expect(QuantError.is(caught, 'CALIBRATION_DATA')).toBe(true);
    });

    it('reports a finite range inside the observed extremes, counting batches', () => {
      fc.assert(
        fc.property(batchesArbitrary, (batches) => {
          const observer = plugin.create({ ...base, granularity: 'tensor', symmetric: false });
          let low = Infinity;
          let high = -Infinity;
          for (const batch of batches) {
            observer.observe(batch, [batch.length]);
            for (const v of batch) {
              low = Math.min(low, v);
              high = Math.max(high, v);
            }
          }
          expect(observer.batches).toBe(batches.length);
          const range = observer.range();
          expect(range.min.length).toBe(1);
          expect(range.max.length).toBe(1);
          const min = range.min[0]!;
          const max = range.max[0]!;
          expect(Number.isFinite(min) && Number.isFinite(max)).toBe(true);
          expect(min).toBeLessThanOrEqual(max);
          const slack = 1e-3 * Math.max(1, Math.abs(low), Math.abs(high));
          expect(min).toBeGreaterThanOrEqual(Math.fround(low) - slack);
          expect(max).toBeLessThanOrEqual(Math.fround(high) + slack);
        }),
        { numRuns },
      );
    });

    it('makes symmetric ranges symmetric', () => {
      fc.assert(
        fc.property(batchesArbitrary, (batches) => {
          const observer = plugin.create({ ...base, granularity: 'tensor', symmetric: true });
          for (const batch of batches) observer.observe(batch, [batch.length]);
          const range = observer.range();
          expect(range.min[0]).toBe(-range.max[0]!);
        }),
        { numRuns },
      );
    });

    if (settings.perChannel ?? true) {
      it('reports one range per channel along the axis', () => {
        fc.assert(
          fc.property(batchesArbitrary, (batches) => {
            const observer = plugin.create({ ...base, granularity: 'channel', axis: 1, symmetric: false });
            const channelLow = [Infinity, Infinity, Infinity];
            const channelHigh = [-Infinity, -Infinity, -Infinity];
            for (const batch of batches) {
              observer.observe(batch, [batch.length / 3, 3]);
              batch.forEach((v, i) => {
                channelLow[i % 3] = Math.min(channelLow[i % 3]!, v);
                channelHigh[i % 3] = Math.max(channelHigh[i % 3]!, v);
              });
            }
            const range = observer.range();
            expect(range.axis).toBe(1);
            expect(range.min.length).toBe(3);
            for (let c = 0; c < 3; c++) {
              const slack = 1e-3 * Math.max(1, Math.abs(channelLow[c]!), Math.abs(channelHigh[c]!));
              expect(range.min[c]!).toBeLessThanOrEqual(range.max[c]!);
              expect(range.min[c]!).toBeGreaterThanOrEqual(channelLow[c]! - slack);
              expect(range.max[c]!).toBeLessThanOrEqual(channelHigh[c]! + slack);
            }
          }),
          { numRuns },
        );
      });
    }

    const probe = plugin.create(base);
    const granularities: readonly ('tensor' | 'channel')[] = (settings.perChannel ?? true) ? ['tensor', 'channel'] : ['tensor'];
    const shapeOf = (batch: Float32Array, granularity: 'tensor' | 'channel') =>
      granularity === 'tensor' ? [batch.length] : [batch.length / 3, 3];
    const optionsFor = (granularity: 'tensor' | 'channel', symmetric: boolean): ObserverOptions =>
      granularity === 'tensor' ? { ...base, granularity, symmetric } : { ...base, granularity, axis: 1, symmetric };

    if (typeof probe.saveState === 'function' && typeof plugin.restore === 'function') {
      const restore = plugin.restore.bind(plugin);
      for (const granularity of granularities) {
        it(`restores a saved state that continues like the original (${granularity})`, () => {
          fc.assert(
            fc.property(splitArbitrary, ({ batches, cut, symmetric }) => {
              const original = plugin.create(optionsFor(granularity, symmetric));
              for (const batch of batches.slice(0, cut)) original.observe(batch, shapeOf(batch, granularity));
              const restored = restore(copyState(original.saveState!()));
              expect(restored.batches).toBe(original.batches);
              expect(rangeOrCode(restored)).toEqual(rangeOrCode(original));
              for (const batch of batches.slice(cut)) {
                original.observe(batch, shapeOf(batch, granularity));
                restored.observe(batch, shapeOf(batch, granularity));
              }
              expect(restored.batches).toBe(batches.length);
              expect(rangeOrCode(restored)).toEqual(rangeOrCode(original));
            }),
            { numRuns },
          );
        });
      }
    }

    if (typeof probe.merge === 'function' && typeof probe.saveState === 'function') {
      for (const granularity of granularities) {
        it(`merging observers over split batches equals one observer over all batches (${granularity})`, () => {
          fc.assert(
            fc.property(splitArbitrary, ({ batches, cut, symmetric }) => {
              const options = optionsFor(granularity, symmetric);
              const whole = plugin.create(options);
              const first = plugin.create(options);
              const second = plugin.create(options);
              batches.forEach((batch, i) => {
                whole.observe(batch, shapeOf(batch, granularity));
                (i < cut ? first : second).observe(batch, shapeOf(batch, granularity));
              });
              first.merge!(copyState(second.saveState!()));
              expect(first.batches).toBe(whole.batches);
              const histogram = whole.histogram?.();
              // Histogram observers may re-bin differently when data arrives in another order: one bin of slack.
              const tolerance =
                histogram === undefined
                  ? (settings.mergeTolerance ?? 0) *
                    Math.max(...batches.map((batch) => Math.max(...Array.from(batch, Math.abs))))
                  : (histogram.max - histogram.min) / histogram.counts.length;
              expectRangesClose(rangeOrCode(first), rangeOrCode(whole), tolerance);
            }),
            { numRuns },
          );
        });
      }

      it('refuses to merge the state of another plugin', () => {
        const observer = plugin.create(base);
        observer.observe([1, 2, 3], [3]);
        const other = plugin.create(base);
        other.observe([4, 5, 6], [3]);
        const state = { ...other.saveState!(), observer: `not-${plugin.name}` };
        let caught: unknown;
        try {
          observer.merge!(state);
        } catch (error) {
          caught = error;
        }
        expect(QuantError.is(caught)).toBe(true);
      });
    }

    if (typeof probe.histogram === 'function') {
      it('keeps a histogram that covers and counts every finite value', () => {
        fc.assert(
          fc.property(batchesArbitrary, fc.boolean(), (batches, symmetric) => {
            const observer = plugin.create({ ...base, granularity: 'tensor', symmetric });
            let count = 0;
            let low = Infinity;
            let high = -Infinity;
            for (const batch of batches) {
              observer.observe(batch, [batch.length]);
              for (const v of batch) {
                count++;
                low = Math.min(low, v);
                high = Math.max(high, v);
              }
            }
            const histogram = observer.histogram!();
            if (histogram === undefined) return;
            expect(histogram.counts.length).toBeGreaterThan(0);
            expect(histogram.counts.every((c) => c >= 0)).toBe(true);
            expect(histogram.counts.reduce((a, b) => a + b, 0)).toBe(count);
            if (histogram.min < 0 || low >= 0) {
              // A histogram of x covers [low, high].
              expect(histogram.min).toBeLessThanOrEqual(low);
              expect(histogram.max).toBeGreaterThanOrEqual(high);
            } else {
              // A histogram of |x| starts at 0 and covers the largest magnitude.
              expect(histogram.min).toBe(0);
              expect(histogram.max).toBeGreaterThanOrEqual(Math.max(-low, high));
            }
          }),
          { numRuns },
        );
      });
    }
  });
}
