import {
  API_VERSION,
  type ObserverOptions,
  type ObserverState,
  QuantError,
  type ValueRange,
} from '@quantkit/core';
import { type ObserverSettings, batchLayout, resolveObserverSettings } from './observer-layout.js';
import {
  type StatefulObserver,
  type StatefulObserverPlugin,
  checkMergeable,
  checkObserverState,
} from './observer-state.js';

const NAME = 'minmax';

/**
 * A min-max observer. Besides the `Observer` contract it can save its bounded state (the running extremes) so a
 * calibration cache can resume without rerunning the model, and merge the state of another min-max observer.
 */
export interface MinMaxObserver extends StatefulObserver {
  /** A plain, JSON-friendly copy of the running extremes; see `serializeObserverState`. */
  saveState(): ObserverState;
  /**
   * Folds in another min-max observer's extremes; exact, in any order.
   * @throws QuantError CALIBRATION_DATA for state of another observer, other options or another channel count.
   */
  merge(state: ObserverState): void;
}

/** An observer plugin whose observers can be rebuilt from a saved state. */
export interface MinMaxObserverPlugin extends StatefulObserverPlugin {
  create(options?: ObserverOptions): MinMaxObserver;
  /**
   * Rebuilds an observer from `saveState()` output.
   * @throws QuantError CALIBRATION_DATA when the state was written by another observer or is malformed.
   */
  restore(state: ObserverState): MinMaxObserver;
}

/**
 * Widens `[min, max]` per channel to `[-m, m]`, `m = max(|min|, |max|)`, when symmetric; rounds to float32 outward
 * so the reported range still contains every observed value.
 */
export function toValueRange(
  min: Float64Array,
  max: Float64Array,
  axis: number | undefined,
  symmetric: boolean,
): ValueRange {
  const low = new Float32Array(min.length);
  const high = new Float32Array(max.length);
  for (let c = 0; c < min.length; c++) {
    // Adding 0 turns -0 into 0: which zero wins a min/max depends on arrival order, and the range must not.
    let lo = min[c]! + 0;
    let hi = max[c]! + 0;
    if (symmetric) {
      const magnitude = Math.max(Math.abs(lo), Math.abs(hi));
      lo = -magnitude;
      hi = magnitude;
    }
    low[c] = roundDown(lo);
    high[c] = roundUp(hi);
  }
  return { min: low, max: high, axis };
}

// float32 rounding goes to nearest; nudging by one ulp when it moved inward keeps observed values inside the range.
function roundDown(value: number): number {
  const rounded = Math.fround(value);
  return rounded <= value ? rounded : nextFloat32Toward(rounded, -Infinity);
}

function roundUp(value: number): number {
  const rounded = Math.fround(value);
  return rounded >= value ? rounded : nextFloat32Toward(rounded, Infinity);
}

const scratch = new Float32Array(1);
const scratchBits = new Int32Array(scratch.buffer);

function nextFloat32Toward(value: number, direction: number): number {
  if (value === direction) return value;
  if (value === 0) {
    scratchBits[0] = 1;
    return direction > 0 ? scratch[0]! : -scratch[0]!;
  }
  scratch[0] = value;
  const awayFromZero = value > 0 === direction > value;
  scratchBits[0] = scratchBits[0]! + (awayFromZero ? 1 : -1);
  return scratch[0]!;
}

function createObserver(settings: ObserverSettings, initial?: ObserverState): MinMaxObserver {
  // Only the running extremes are kept: memory is O(channels) however much data flows through.
  const resumed = initial !== undefined && (initial.arrays['min']?.length ?? 0) > 0;
  let min: Float64Array | undefined = resumed ? Float64Array.from(initial.arrays['min'] ?? []) : undefined;
  let max: Float64Array | undefined = resumed ? Float64Array.from(initial.arrays['max'] ?? []) : undefined;
  let axis: number | undefined = resumed ? initial.options.axis : undefined;
  let batches = initial?.batches ?? 0;

  return {
    get batches() {
      return batches;
    },
    observe(values, shape) {
      const layout = batchLayout(NAME, settings, values, shape, min?.length);
      if (min === undefined || max === undefined) {
        min = new Float64Array(layout.channels).fill(Infinity);
        max = new Float64Array(layout.channels).fill(-Infinity);
        axis = layout.axis;
      }
      const { outer, channels, inner } = layout;
      for (let o = 0; o < outer; o++) {
        for (let c = 0; c < channels; c++) {
          let lo = min[c]!;
          let hi = max[c]!;
          const start = (o * channels + c) * inner;
          for (let i = start; i < start + inner; i++) {
            const v = values[i]!;
            // NaN fails both comparisons and is skipped; infinities are skipped because an infinite range would
            // give an infinite scale and quantize every other value to zero.
            if (v < lo && v !== -Infinity) lo = v;
            if (v > hi && v !== Infinity) hi = v;
          }
          min[c] = lo;
          max[c] = hi;
        }
      }
      batches++;
    },
    range() {
      if (min === undefined || max === undefined || batches === 0) {
        throw new QuantError('CALIBRATION_DATA', `observer "${NAME}" has seen no calibration batch yet`);
      }
      for (let c = 0; c < min.length; c++) {
        if (!(min[c]! <= max[c]!)) {
          const where = settings.granularity === 'channel' ? `channel ${c} along axis ${axis}` : 'the tensor';
          throw new QuantError(
            'CALIBRATION_DATA',
            `observer "${NAME}" saw ${batches} batch(es) but no finite value for ${where} (all NaN, infinite or empty)`,
          );
        }
      }
      return toValueRange(min, max, axis, settings.symmetric);
    },
    saveState,
    merge(state) {
      const other = checkStateArrays(checkMergeable(saveState(), state, ['min', 'max']));
      const otherMin = other.arrays['min']!;
      const otherMax = other.arrays['max']!;
      if (otherMin.length > 0) {
        if (min === undefined || max === undefined) {
          min = new Float64Array(otherMin.length).fill(Infinity);
          max = new Float64Array(otherMin.length).fill(-Infinity);
          axis = other.options.axis;
        }
        if (otherMin.length !== min.length) {
          throw new QuantError(
            'CALIBRATION_DATA',
            `observer "${NAME}" cannot merge state of ${otherMin.length} channel(s) into one of ${min.length}`,
          );
        }
        for (let c = 0; c < min.length; c++) {
          min[c] = Math.min(min[c]!, otherMin[c]!);
          max[c] = Math.max(max[c]!, otherMax[c]!);
        }
      }
      batches += other.batches;
    },
  };

  function saveState(): ObserverState {
    return {
      observer: NAME,
      version: 1,
      options: { granularity: settings.granularity, axis: axis ?? settings.axis, symmetric: settings.symmetric },
      batches,
      arrays: { min: Array.from(min ?? []), max: Array.from(max ?? []) },
    };
  }
}

function checkStateArrays(state: ObserverState): ObserverState {
  if (state.arrays['min']?.length !== state.arrays['max']?.length) {
    throw new QuantError('CALIBRATION_DATA', `saved "${NAME}" state has min and max of different lengths`);
  }
  return state;
}

/**
 * Creates the min-max observer plugin: the range is the smallest and largest finite value seen, per tensor or per
 * channel. Simple and exact, but one outlier widens the range for everyone; prefer percentile or entropy observers
 * for activations with long tails.
 *
 * @example
 * const observer = createMinMaxObserver().create({ granularity: 'channel', axis: 1, symmetric: true });
 * observer.observe(batch.data, batch.shape);
 * const { min, max } = observer.range();
 * @param defaults options every `create` call starts from (its own options win).
 * @throws QuantError INVALID_ARGUMENT from `create` (or from the factory, for bad defaults) for an unknown granularity
 *   or a per-channel request without axis.
 */
export function createMinMaxObserver(defaults?: ObserverOptions): MinMaxObserverPlugin {
  resolveObserverSettings(NAME, defaults);
  return {
    kind: 'observer',
    name: NAME,
    apiVersion: API_VERSION,
    description: 'running minimum and maximum (per tensor or per channel)',
    create(options?: ObserverOptions) {
      return createObserver(resolveObserverSettings(NAME, { ...defaults, ...options }));
    },
    restore(state: ObserverState) {
      const checked = checkStateArrays(checkObserverState(state, NAME, ['min', 'max']));
      return createObserver(resolveObserverSettings(NAME, checked.options), checked);
    },
  };
}

/** The min-max observer plugin value, ready for `createRegistry([minMaxObserver])`. */
export const minMaxObserver: MinMaxObserverPlugin = createMinMaxObserver();
