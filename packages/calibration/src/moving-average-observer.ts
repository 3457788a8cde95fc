import { API_VERSION, type ObserverOptions, type ObserverState, QuantError } from '@quantkit/core';
import { toValueRange } from './min-max-observer.js';
import { type ObserverSettings, batchLayout, resolveObserverSettings } from './observer-layout.js';
import { observerOption } from './observer-option.js';
import {
  type StatefulObserver,
  type StatefulObserverPlugin,
  checkMergeable,
  checkObserverState,
} from './observer-state.js';

const NAME = 'moving-average';
const ARRAYS = ['min', 'max', 'firstMin', 'firstMax', 'updates'] as const;

/** Options of the moving-average observer. */
export interface MovingAverageObserverOptions extends ObserverOptions {
  /** Weight of each new batch in the exponential average, in (0, 1]. Default 0.01. */
  readonly averagingConstant?: number;
}

/** A moving-average observer plugin. */
export interface MovingAverageObserverPlugin extends StatefulObserverPlugin {
  create(options?: MovingAverageObserverOptions): StatefulObserver;
  restore(state: ObserverState): StatefulObserver;
}

interface Averages {
  /** Exponential averages of the per-batch extremes, per channel. */
  readonly min: Float64Array;
  readonly max: Float64Array;
  /** The extremes of the first batch that updated each channel: what merging a later observer's state needs. */
  readonly firstMin: Float64Array;
  readonly firstMax: Float64Array;
  /** Batches that updated each channel (a batch with no finite value in a channel leaves it alone). */
  readonly updates: Float64Array;
  axis: number | undefined;
}

function allocateAverages(channels: number, axis: number | undefined): Averages {
  return {
    min: new Float64Array(channels),
    max: new Float64Array(channels),
    firstMin: new Float64Array(channels),
    firstMax: new Float64Array(channels),
    updates: new Float64Array(channels),
    axis,
  };
}

function averagesFromState(state: ObserverState): Averages | undefined {
  const channels = state.arrays['min']!.length;
  if (channels === 0) return undefined;
  const averages = allocateAverages(channels, state.options.axis);
  for (const name of ARRAYS) {
    const values = state.arrays[name]!;
    if (values.length !== channels) {
      throw new QuantError(
        'CALIBRATION_DATA',
        `saved "${NAME}" state has ${values.length} values in "${name}" but ${channels} in "min"`,
      );
    }
    averages[name].set(values);
  }
  if (!Array.from(averages.updates).every((n) => Number.isInteger(n) && n >= 0)) {
    throw new QuantError('CALIBRATION_DATA', `saved "${NAME}" state has update counts that are not counts`);
  }
  return averages;
}

function createObserver(settings: ObserverSettings, constant: number, initial?: ObserverState): StatefulObserver {
  let averages = initial === undefined ? undefined : averagesFromState(initial);
  let batches = initial?.batches ?? 0;
  // Per-batch extremes, reused from batch to batch: observe() allocates nothing after the first batch.
  let batchMin = new Float64Array(0);
  let batchMax = new Float64Array(0);

  function saveState(): ObserverState {
    const arrays: Record<string, number[]> = {};
    for (const name of ARRAYS) arrays[name] = Array.from(averages?.[name] ?? []);
    return {
      observer: NAME,
      version: 1,
      options: {
        granularity: settings.granularity,
        axis: averages?.axis ?? settings.axis,
        symmetric: settings.symmetric,
        averagingConstant: constant,
      },
      batches,
      arrays,
    };
  }

  return {
    get batches() {
      return batches;
    },
    observe(values, shape) {
      const layout = batchLayout(NAME, settings, values, shape, averages?.min.length);
      const { outer, channels, inner } = layout;
      averages ??= allocateAverages(channels, layout.axis);
      if (batchMin.length !== channels) {
        batchMin = new Float64Array(channels);
        batchMax = new Float64Array(channels);
      }
      batchMin.fill(Infinity);
      batchMax.fill(-Infinity);
      for (let o = 0; o < outer; o++) {
        for (let c = 0; c < channels; c++) {
          let lo = batchMin[c]!;
          let hi = batchMax[c]!;
          const start = (o * channels + c) * inner;
          for (let i = start; i < start + inner; i++) {
            const v = values[i]!;
            // NaN fails both comparisons; infinities are skipped as in min-max.
            if (v < lo && v !== -Infinity) lo = v;
            if (v > hi && v !== Infinity) hi = v;
          }
          batchMin[c] = lo;
          batchMax[c] = hi;
        }
      }
      const { min, max, firstMin, firstMax, updates } = averages;
      for (let c = 0; c < channels; c++) {
        const lo = batchMin[c]!;
        const hi = batchMax[c]!;
        if (!(lo <= hi)) continue;
        if (updates[c] === 0) {
          // The first batch initialises the average rather than being pulled toward zero.
          min[c] = firstMin[c] = lo;
          max[c] = firstMax[c] = hi;
        } else {
          min[c] = min[c]! + constant * (lo - min[c]!);
          max[c] = max[c]! + constant * (hi - max[c]!);
        }
        updates[c]!++;
      }
      batches++;
    },
    range() {
      if (averages === undefined || batches === 0) {
        throw new QuantError('CALIBRATION_DATA', `observer "${NAME}" has seen no calibration batch yet`);
      }
      const { updates, axis } = averages;
      for (let c = 0; c < updates.length; c++) {
        if (updates[c] === 0) {
          const where = settings.granularity === 'channel' ? `channel ${c} along axis ${axis}` : 'the tensor';
          throw new QuantError(
            'CALIBRATION_DATA',
            `observer "${NAME}" saw ${batches} batch(es) but no finite value for ${where} (all NaN, infinite or empty)`,
          );
        }
      }
      return toValueRange(averages.min, averages.max, axis, settings.symmetric);
    },
    saveState,
    merge(state) {
      const other = averagesFromState(checkMergeable(saveState(), state, ARRAYS));
      if (other !== undefined) {
        averages ??= allocateAverages(other.min.length, other.axis);
        if (other.min.length !== averages.min.length) {
          throw new QuantError(
            'CALIBRATION_DATA',
            `observer "${NAME}" cannot merge state of ${other.min.length} channel(s) into one of ${averages.min.length}`,
          );
        }
        const { min, max, firstMin, firstMax, updates } = averages;
        for (let c = 0; c < min.length; c++) {
          const later = other.updates[c]!;
          if (later === 0) continue;
          if (updates[c] === 0) {
            min[c] = other.min[c]!;
            max[c] = other.max[c]!;
            firstMin[c] = other.firstMin[c]!;
            firstMax[c] = other.firstMax[c]!;
          } else {
            // Had the later batches continued this average, each would differ from the other observer's average by
            // (1 - constant)^k times (this average - their first batch): the first of them would have averaged
            // instead of initialising, and that difference decays by (1 - constant) per batch.
            const decay = (1 - constant) ** later;
            min[c] = other.min[c]! + decay * (min[c]! - other.firstMin[c]!);
            max[c] = other.max[c]! + decay * (max[c]! - other.firstMax[c]!);
          }
          updates[c] = updates[c]! + later;
        }
      }
      batches += state.batches;
    },
  };
}

/**
 * Creates the moving-average min-max observer plugin: each batch's minimum and maximum (per tensor or per channel)
 * enter an exponential average, `m += averagingConstant * (batchValue - m)`, the first batch initialising it. Less
 * sensitive than min-max to a rare extreme batch; the range reflects typical batches. Merging treats the merged
 * state's batches as coming after this observer's own, which reproduces one observer over both in that order.
 *
 * @example
 * const observer = createMovingAverageObserver({ averagingConstant: 0.1 }).create({ granularity: 'channel', axis: 1 });
 * observer.observe(batch.data, batch.shape);
 * const { min, max } = observer.range();
 * @throws QuantError INVALID_ARGUMENT for averagingConstant outside (0, 1], an unknown granularity or a per-channel
 *   request without axis (from the factory for bad defaults, from `create` for bad options).
 */
export function createMovingAverageObserver(defaults?: MovingAverageObserverOptions): MovingAverageObserverPlugin {
  const resolve = (options: ObserverOptions | undefined) => {
    const merged: ObserverOptions = { ...defaults, ...options };
    const constant = observerOption(NAME, merged, 'averagingConstant', 0.01, (v) => v > 0 && v <= 1, 'in (0, 1]');
    return { settings: resolveObserverSettings(NAME, merged), constant };
  };
  resolve(undefined);
  return {
    kind: 'observer',
    name: NAME,
    apiVersion: API_VERSION,
    description: 'exponential moving average of per-batch minimum and maximum (per tensor or per channel)',
    create(options) {
      const { settings, constant } = resolve(options);
      return createObserver(settings, constant);
    },
    restore(state) {
      const checked = checkObserverState(state, NAME, ARRAYS);
      const { settings, constant } = resolve(checked.options);
      return createObserver(settings, constant, checked);
    },
  };
}

/** The moving-average observer plugin with the default averaging constant 0.01. */
export const movingAverageObserver: MovingAverageObserverPlugin = createMovingAverageObserver();
