import { type ObserverOptions, QuantError, axisLayout, listChoices, sizeOf } from '@quantkit/core';

/** The resolved, validated form of the options every range observer shares. */
export interface ObserverSettings {
  readonly granularity: 'tensor' | 'channel';
  /** As given by the user (may be negative); normalized per batch against that batch's rank. */
  readonly axis: number | undefined;
  readonly symmetric: boolean;
}

const GRANULARITY_CHOICES = ['tensor', 'channel'] as const;

/**
 * Validates the shared observer options once, at create time, so a typo fails before any model runs.
 * @throws QuantError INVALID_ARGUMENT naming the observer and the bad option.
 */
export function resolveObserverSettings(observerName: string, options: ObserverOptions = {}): ObserverSettings {
  const granularity = options.granularity ?? 'tensor';
  if (!(GRANULARITY_CHOICES as readonly string[]).includes(granularity)) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      `observer "${observerName}": granularity ${JSON.stringify(granularity)} is not supported; ` +
        `expected ${listChoices(GRANULARITY_CHOICES)}`,
    );
  }
  const axis = options.axis;
  if (granularity === 'channel' && (axis === undefined || !Number.isInteger(axis))) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      `observer "${observerName}": granularity "channel" needs an integer axis (e.g. 1 for NCHW activations), ` +
        `got ${JSON.stringify(axis)}`,
    );
  }
  const symmetric = options.symmetric ?? false;
  if (typeof symmetric !== 'boolean') {
    throw new QuantError(
      'INVALID_ARGUMENT',
      `observer "${observerName}": symmetric must be true or false, got ${JSON.stringify(symmetric)}`,
    );
  }
  return { granularity, axis: granularity === 'channel' ? axis : undefined, symmetric };
}

/** Where the channels of one batch sit: element `(o, c, i)` is at `(o * channels + c) * inner + i`. */
export interface BatchLayout {
  readonly outer: number;
  readonly channels: number;
  readonly inner: number;
  /** Normalized (non-negative) axis; undefined per tensor. */
  readonly axis: number | undefined;
}

/**
 * Checks one batch against the settings and the channel count seen so far, and returns its layout.
 * @param expectedChannels channel count of earlier batches, or undefined for the first batch.
 * @throws QuantError CALIBRATION_DATA when the values do not fill the shape or the channel count changed;
 *   INVALID_ARGUMENT when the axis is outside the batch's rank.
 */
export function batchLayout(
  observerName: string,
  settings: ObserverSettings,
  values: ArrayLike<number>,
  shape: readonly number[],
  expectedChannels: number | undefined,
): BatchLayout {
  const size = sizeOf(shape);
  if (values.length !== size) {
    throw new QuantError(
      'CALIBRATION_DATA',
      `observer "${observerName}": a batch of shape [${shape.join(', ')}] needs ${size} values, got ${values.length}`,
    );
  }
  if (settings.granularity === 'tensor') return { outer: 1, channels: 1, inner: size, axis: undefined };
  const layout = axisLayout(shape, settings.axis ?? 0);
  if (expectedChannels !== undefined && layout.axisSize !== expectedChannels) {
    throw new QuantError(
      'CALIBRATION_DATA',
      `observer "${observerName}": expected ${expectedChannels} channels along axis ${settings.axis} as in earlier ` +
        `batches, got ${layout.axisSize} (batch shape [${shape.join(', ')}])`,
    );
  }
  return { outer: layout.outer, channels: layout.axisSize, inner: layout.inner, axis: layout.axis };
}
