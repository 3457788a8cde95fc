import { type Observer, type ObserverOptions, type ObserverPlugin, type ObserverState, QuantError } from '@quantkit/core';

// The state type lives in @quantkit/core (observers of any package share it); re-exported for existing imports.
export type { ObserverState } from '@quantkit/core';

/** An observer that can save its state and merge another's (all built-in observers can). */
export interface StatefulObserver extends Observer {
  saveState(): ObserverState;
  merge(state: ObserverState): void;
}

/** An observer plugin whose observers are stateful and can be rebuilt from saved state. */
export interface StatefulObserverPlugin extends ObserverPlugin {
  create(options?: ObserverOptions): StatefulObserver;
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

/**
 * Checks that `other` can be merged into an observer whose own state is `own`: same plugin, same format, same
 * options (the axis only once both have seen data, since before that it may still be negative).
 * @throws QuantError CALIBRATION_DATA naming the first difference.
 */
export function checkMergeable(own: ObserverState, other: ObserverState, arrays: readonly string[]): ObserverState {
  if (typeof other !== 'object' || other === null || other.observer !== own.observer) {
    throw new QuantError(
      'CALIBRATION_DATA',
      `observer "${own.observer}" cannot merge state written by observer ${JSON.stringify(other?.observer)}`,
    );
  }
  checkObserverState(other, own.observer, arrays);
  const keys = new Set([...Object.keys(own.options), ...Object.keys(other.options)]);
  for (const key of keys) {
    if (key === 'axis' && (own.batches === 0 || other.batches === 0)) continue;
    if (own.options[key] !== other.options[key]) {
      throw new QuantError(
        'CALIBRATION_DATA',
        `observer "${own.observer}" cannot merge state observed with ${key} ${JSON.stringify(other.options[key])}; ` +
          `this observer uses ${key} ${JSON.stringify(own.options[key])}`,
      );
    }
  }
  return other;
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
  const saveState = observer.saveState;
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
export function restoreObserverState(plugin: ObserverPlugin, text: string): Observer {
  const restore = plugin.restore;
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
