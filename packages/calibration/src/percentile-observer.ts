import type { ObserverOptions } from '@quantkit/core';
import { type HistogramObserverPlugin, createHistogramObserverPlugin } from './histogram-observer.js';
import { observerOption } from './observer-option.js';

const NAME = 'percentile';

/** Options of the percentile observer (besides granularity 'tensor' and symmetric). */
export interface PercentileObserverOptions extends ObserverOptions {
  /** Percentage of values kept inside the range, in (0, 100]. Default 99.999. */
  readonly percentile?: number;
  /** Histogram bins (memory per tensor), an integer >= 2. Default 2048. */
  readonly bins?: number;
}

/**
 * Creates the percentile observer plugin: the range keeps `percentile` percent of the values and clips the rest.
 *
 * Which percentiles (as onnxruntime's calibrator): symmetric ranges are `[-t, t]` with t the p-th percentile of
 * |x|; asymmetric ranges are the `(100 - p) / 2`-th and `(100 + p) / 2`-th percentiles of x, so the clipped
 * share is split evenly between both tails. Percentiles are nearest-rank (the ceil(q * n)-th smallest value)
 * read from a bounded histogram of |x| or x, interpolated inside a bin, so within one bin width of the exact
 * value, and never outside the observed extremes.
 *
 * @example
 * const observer = createPercentileObserver({ percentile: 99.99 }).create({ symmetric: true });
 * observer.observe(batch.data, batch.shape);
 * const { min, max } = observer.range();
 * @throws QuantError INVALID_ARGUMENT for a percentile outside (0, 100], bins that are not an integer >= 2, or
 *   granularity 'channel' (from the factory for bad defaults, from `create` for bad options).
 */
export function createPercentileObserver(
  defaults?: PercentileObserverOptions,
): HistogramObserverPlugin<PercentileObserverOptions> {
  return createHistogramObserverPlugin(
    {
      name: NAME,
      description: 'clip range at a percentile of a bounded histogram (per tensor)',
      settings: (options) => ({
        percentile: observerOption(NAME, options, 'percentile', 99.999, (v) => v > 0 && v <= 100, 'in (0, 100]'),
        bins: observerOption(NAME, options, 'bins', 2048, (v) => Number.isInteger(v) && v >= 2, 'an integer >= 2'),
      }),
      domain: (symmetric) => (symmetric ? 'abs' : 'signed'),
      choose(histogram, { percentile }, symmetric) {
        if (symmetric) {
          const magnitude = Math.min(histogram.quantile(percentile / 100), histogram.domainHigh);
          return [-magnitude, magnitude];
        }
        const clip = (value: number) => Math.min(Math.max(value, histogram.lowest), histogram.highest);
        return [clip(histogram.quantile((100 - percentile) / 200)), clip(histogram.quantile((100 + percentile) / 200))];
      },
    },
    defaults,
  );
}

/** The percentile observer plugin with default options (99.999th percentile, 2048 bins). */
export const percentileObserver: HistogramObserverPlugin<PercentileObserverOptions> = createPercentileObserver();
