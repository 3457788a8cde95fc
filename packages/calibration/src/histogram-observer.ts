import {
  API_VERSION,
  type ObserverHistogram,
  type ObserverOptions,
  type ObserverState,
  QuantError,
} from '@quantkit/core';
import { Histogram, type HistogramArrays, type HistogramDomain } from './histogram.js';
import { toValueRange } from './min-max-observer.js';
import { type ObserverSettings, batchLayout, resolveObserverSettings } from './observer-layout.js';
import { requirePerTensor } from './observer-option.js';
import {
  type StatefulObserver,
  type StatefulObserverPlugin,
  checkMergeable,
  checkObserverState,
} from './observer-state.js';

/** An observer that chooses its range from a bounded histogram of the tensor (per tensor only). */
export interface HistogramObserver extends StatefulObserver {
  /** The histogram behind the range (of |x| or of x, see the observer), or undefined before any finite value. */
  histogram(): ObserverHistogram | undefined;
}

/** A plugin of histogram observers; `O` lists the options it reads besides the shared ones. */
export interface HistogramObserverPlugin<O extends ObserverOptions = ObserverOptions> extends StatefulObserverPlugin {
  create(options?: O): HistogramObserver;
  restore(state: ObserverState): HistogramObserver;
}

/** What distinguishes one histogram observer from another. */
export interface HistogramObserverSpec<S extends { readonly bins: number }> {
  readonly name: string;
  readonly description: string;
  /**
   * Validates the observer's own options (besides granularity/axis/symmetric). The result is saved with the state
   * and must be equal for two observers to merge.
   * @throws QuantError INVALID_ARGUMENT naming the option.
   */
  settings(options: ObserverOptions): S;
  /** Whether the histogram counts x or |x|. */
  domain(symmetric: boolean): HistogramDomain;
  /** The range `[low, high]` chosen from a non-empty histogram, inside the observed extremes. */
  choose(histogram: Histogram, settings: S, symmetric: boolean): readonly [number, number];
}

const ARRAYS = ['counts', 'grid', 'extremes'] as const;

/**
 * Builds an observer plugin from a histogram strategy: observe folds every batch into one bounded `Histogram`, and
 * `range()` asks the strategy. Save, restore and merge come with it; merges are exact since the histogram's grid
 * depends only on the data's extremes.
 *
 * @example
 * const plugin = createHistogramObserverPlugin({ name: 'median', description: '...', settings: () => ({ bins: 512 }),
 *   domain: () => 'abs', choose: (h) => [-h.quantile(0.5), h.quantile(0.5)] });
 * @throws QuantError INVALID_ARGUMENT when `defaults` hold an invalid option.
 */
export function createHistogramObserverPlugin<S extends { readonly bins: number }, O extends ObserverOptions>(
  spec: HistogramObserverSpec<S>,
  defaults: O | undefined,
): HistogramObserverPlugin<O> {
  const { name } = spec;

  function resolve(options: ObserverOptions | undefined): { shared: ObserverSettings; own: S } {
    const merged: ObserverOptions = { ...defaults, ...options };
    const shared = resolveObserverSettings(name, merged);
    requirePerTensor(name, shared.granularity);
    return { shared, own: spec.settings(merged) };
  }

  function build(shared: ObserverSettings, own: S, histogram: Histogram, initialBatches: number): HistogramObserver {
    let batches = initialBatches;
    const saveState = (): ObserverState => ({
      observer: name,
      version: 1,
      options: { granularity: 'tensor', symmetric: shared.symmetric, ...own },
      batches,
      arrays: histogram.toArrays(),
    });
    return {
      get batches() {
        return batches;
      },
      observe(values, shape) {
        batchLayout(name, shared, values, shape, undefined);
        histogram.add(values);
        batches++;
      },
      range() {
        if (batches === 0) {
          throw new QuantError('CALIBRATION_DATA', `observer "${name}" has seen no calibration batch yet`);
        }
        if (histogram.count === 0) {
          throw new QuantError(
            'CALIBRATION_DATA',
            `observer "${name}" saw ${batches} batch(es) but no finite value (all NaN, infinite or empty)`,
          );
        }
        const [low, high] = spec.choose(histogram, own, shared.symmetric);
        return toValueRange(Float64Array.of(low), Float64Array.of(high), undefined, shared.symmetric);
      },
      saveState,
      merge(state) {
        checkMergeable(saveState(), state, ARRAYS);
        histogram.merge(Histogram.fromArrays(own.bins, histogram.domain, state.arrays as HistogramArrays));
        batches += state.batches;
      },
      histogram() {
        return histogram.count === 0 ? undefined : histogram.view();
      },
    };
  }

  // Fail on bad defaults when the plugin is made, not when the first tensor is calibrated.
  resolve(undefined);

  return {
    kind: 'observer',
    name,
    apiVersion: API_VERSION,
    description: spec.description,
    create(options) {
      const { shared, own } = resolve(options);
      return build(shared, own, new Histogram(own.bins, spec.domain(shared.symmetric)), 0);
    },
    restore(state) {
      const checked = checkObserverState(state, name, ARRAYS);
      const { shared, own } = resolve(checked.options);
      const histogram = Histogram.fromArrays(own.bins, spec.domain(shared.symmetric), checked.arrays as HistogramArrays);
      return build(shared, own, histogram, checked.batches);
    },
  };
}
