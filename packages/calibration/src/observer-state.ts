import { type Observer, type ObserverPlugin, QuantError } from '@quantkit/core';

/**
 * The bounded state of an observer as plain data, so calibration can be cached and resumed. `arrays` holds the
 * observer's running statistics (min/max, histogram bins...); non-finite numbers survive `serializeObserverState`.
 */
export interface ObserverState {
  /** Name of the observer plugin that wrote the state. */
  readonly observer: string;
  readonly version: 1;
  readonly options: {
    readonly granularity: 'tensor' | 'channel';
    readonly axis?: number | undefined;
    readonly symmetric: boolean;
  };
  readonly batches: number;
  readonly arrays: Readonly<Record<string, readonly number[]>>;
}

/** An observer that can save its state (all built-in observers can). */
export interface StatefulObserver extends Observer {
  saveState(): ObserverState;
}

/** An observer plugin that can rebuild observers from saved state. */
export interface StatefulObserverPlugin extends ObserverPlugin {
  restore(state: ObserverState): StatefulObserver;
}

/**
 * Checks a state (typically parsed from a cache file) before an observer trusts it.
 * @throws QuantError CALIBRATION_DATA naming what is wrong.
 */
export function checkObserverState(state: ObserverState, observer: string, arrays: readonly string[]): ObserverState {
  const problem = (what: string) =>
    new QuantError('CALIBRATION_DATA', `saved observer state for "${observer}" is not usable: ${what}`);
  if (typeof state !== 'object' || state === null) throw problem('it is not an object');
  if (state.observer !== observer) throw problem(`it was written by observer ${JSON.stringify(state.observer)}`);
  if (state.version !== 1) throw problem(`version ${JSON.stringify(state.version)} is not 1`);
  if (!Number.isInteger(state.batches) || state.batches < 0) throw problem('batches is not a count');
  if (typeof state.options !== 'object' || state.options === null) throw problem('options are missing');
  for (const name of arrays) {
    const values = state.arrays?.[name];
    if (!Array.isArray(values) || values.some((v) => typeof v !== 'number')) {
      throw problem(`array "${name}" is missing or holds non-numbers`);
    }
  }
  return state;
}

// JSON has no Infinity or NaN; running extremes start at +-Infinity, so they are written as strings.
function encodeNumber(value: number): number | string {
  return Number.isFinite(value) ? value : String(value);
}

function decodeNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  if (value === 'Infinity') return Infinity;
  if (value === '-Infinity') return -Infinity;
  if (value === 'NaN') return Number.NaN;
  throw new QuantError('CALIBRATION_DATA', `saved observer state holds ${JSON.stringify(value)} where a number belongs`);
}

/**
 * Serializes an observer's state to JSON text.
 *
 * @example
 * const text = serializeObserverState(observer);
 * const resumed = restoreObserverState(minMaxObserver, text);
 * @throws QuantError UNSUPPORTED when the observer cannot save its state.
 */
export function serializeObserverState(observer: Observer): string {
  const saveState = (observer as Partial<StatefulObserver>).saveState;
  if (typeof saveState !== 'function') {
    throw new QuantError('UNSUPPORTED', 'this observer has no saveState() method, so its state cannot be cached');
  }
  const state = saveState.call(observer);
  const arrays: Record<string, (number | string)[]> = {};
  for (const [name, values] of Object.entries(state.arrays)) arrays[name] = values.map(encodeNumber);
  return JSON.stringify({ ...state, arrays });
}

/**
 * Rebuilds an observer from `serializeObserverState` output.
 * @throws QuantError CALIBRATION_DATA when the text is not a saved state of this plugin; UNSUPPORTED when the
 *   plugin cannot restore state.
 */
export function restoreObserverState(plugin: ObserverPlugin, text: string): StatefulObserver {
  const restore = (plugin as Partial<StatefulObserverPlugin>).restore;
  if (typeof restore !== 'function') {
    throw new QuantError('UNSUPPORTED', `observer "${plugin.name}" cannot restore saved state`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new QuantError('CALIBRATION_DATA', `saved observer state for "${plugin.name}" is not valid JSON`, {
      cause: error,
    });
  }
  const raw = parsed as ObserverState & { arrays?: Record<string, unknown> };
  const arrays: Record<string, number[]> = {};
  if (typeof raw === 'object' && raw !== null && typeof raw.arrays === 'object' && raw.arrays !== null) {
    for (const [name, values] of Object.entries(raw.arrays)) {
      arrays[name] = Array.isArray(values) ? values.map(decodeNumber) : [];
    }
  }
  return restore.call(plugin, { ...raw, arrays });
}
