import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { QuantError } from '../errors.js';
import type { ObserverOptions, ObserverPlugin } from '../plugins.js';
import { validatePlugin } from '../registry.js';

export interface ObserverConformanceOptions {
  /** Options to create the observer with in every property (granularity is set by the suite). */
  readonly options?: ObserverOptions;
  /** Whether the observer supports granularity 'channel'. Default true. */
  readonly perChannel?: boolean;
  readonly numRuns?: number;
}

const batchesArbitrary = fc.array(
  fc.array(fc.double({ min: -1e4, max: 1e4, noNaN: true }), { minLength: 6, maxLength: 60 }).map((values) => {
    // Whole rows of 3 channels.
    const length = values.length - (values.length % 3);
    return Float32Array.from(values.slice(0, length));
  }),
  { minLength: 1, maxLength: 5 },
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
  });
}
