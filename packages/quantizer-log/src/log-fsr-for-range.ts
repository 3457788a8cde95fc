import { QuantError, type ValueRange } from '@quantkit/core';
import { type LogFsrRule, type LogRounding, logFsr } from './log-levels.js';
import { nnieFsr } from './nnie-levels.js';

function maxAbsOf(range: ValueRange, index: number, caller: string): number {
  const low = range.min[index]!;
  const high = range.max[index]!;
  if (!Number.isFinite(low) || !Number.isFinite(high) || low > high) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      `${caller}: range ${index} is [${low}, ${high}]; calibrated ranges must be finite with min <= max`,
    );
  }
  return Math.max(Math.abs(low), Math.abs(high));
}

/**
 * FSR of log codes for calibrated ranges (activations), one per range entry: the same rule the log quantizer
 * applies to weights, from max(|min|, |max|). Log activations cannot be written as a QuantizeLinear, so this feeds
 * quantkit's own kernels and simulations rather than a QDQ pair.
 *
 * @example logFsrForRange({ min: Float32Array.of(-0.5), max: Float32Array.of(3) }) // Int32Array [2]
 * @throws QuantError INVALID_ARGUMENT for a non-finite or inverted range, or mismatched min/max lengths.
 */
export function logFsrForRange(
  range: ValueRange,
  rules: { rounding?: LogRounding; fsr?: LogFsrRule } = {},
): Int32Array {
  if (range?.min?.length !== range?.max?.length) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      'logFsrForRange: range.min and range.max must have the same length',
    );
  }
  return Int32Array.from({ length: range.min.length }, (_, i) =>
    logFsr(maxAbsOf(range, i, 'logFsrForRange'), rules.rounding ?? 'log', rules.fsr ?? 'round'),
  );
}

/**
 * NNIE's top exponent T (sixteenths of an octave) for a calibrated per-tensor range: round(16 log2 max(|min|, |max|)).
 *
 * @example nnieFsrForRange({ min: Float32Array.of(0), max: Float32Array.of(1) }) === 0
 * @throws QuantError INVALID_ARGUMENT for a range that is not a single finite [min, max].
 */
export function nnieFsrForRange(range: ValueRange): number {
  if (range?.min?.length !== 1 || range?.max?.length !== 1) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      'nnieFsrForRange: NNIE ranges are per tensor (one min and one max)',
    );
  }
  return nnieFsr(maxAbsOf(range, 0, 'nnieFsrForRange'));
}
