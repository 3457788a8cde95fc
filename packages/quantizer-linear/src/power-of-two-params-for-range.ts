import { type LinearQuantParams, QuantError, type QuantizerOptions, type ValueRange } from '@quantkit/core';
import { rangeAxis } from './range-axis.js';
import { type ResolvedLinearOptions, resolveLinearOptions } from './resolve-linear-options.js';

/** Exponent bounds of power-of-two scales: 2^-126 is the smallest normal float32, 2^127 the largest power of two. */
const MIN_EXPONENT = -126;
const MAX_EXPONENT = 127;

/**
 * Checks what the power-of-two quantizer adds to the linear option rules: symmetric, signed storage.
 * @throws QuantError INVALID_ARGUMENT
 */
export function resolvePowerOfTwoOptions(
  options: QuantizerOptions,
  quantizer = 'pow2',
): ResolvedLinearOptions {
  const resolved = resolveLinearOptions(options, quantizer);
  if (!resolved.symmetric) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      `${quantizer} quantizer: options.symmetric must be true (power-of-two scales have zero point 0), got false; ` +
        'use the "linear" quantizer for asymmetric ranges',
    );
  }
  if (!resolved.signed) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      `${quantizer} quantizer: options.signed must be true or absent (codes are signed with zero point 0), got false`,
    );
  }
  return resolved;
}

/** Smallest power of two s in [2^-126, 2^127] with qmin * s <= rmin and qmax * s >= rmax (qmin < 0 < qmax). */
function powerOfTwoScale(min: number, max: number, qmin: number, qmax: number): number {
  const rmin = Math.min(min, 0);
  const rmax = Math.max(max, 0);
  if (rmin === 0 && rmax === 0) return 1;
  const covers = (exponent: number) => 2 ** exponent * qmax >= rmax && 2 ** exponent * qmin <= rmin;
  const needed = Math.max(rmax / qmax, rmin / qmin);
  let exponent = Math.min(Math.max(Math.ceil(Math.log2(needed)), MIN_EXPONENT), MAX_EXPONENT);
  // log2 is not correctly rounded everywhere; settle on the exact smallest exponent.
  while (exponent < MAX_EXPONENT && !covers(exponent)) exponent++;
  while (exponent > MIN_EXPONENT && covers(exponent - 1)) exponent--;
  return 2 ** exponent;
}

/**
 * Power-of-two ("Ristretto" dynamic fixed point) parameters: per group, scale = 2^-n is the smallest power of two
 * whose code range [qmin * scale, qmax * scale] covers the range widened to include 0; zero point 0. Multiplying by
 * such a scale is a shift, which fixed-point hardware and the runtime's shift-add kernels exploit. Scales stay in
 * [2^-126, 2^127] (float32 normal powers of two); only ranges beyond 2^127 * qmax are clipped.
 *
 * @example
 * powerOfTwoParamsForRange({ min: Float32Array.of(-1), max: Float32Array.of(0.5) },
 *   { bits: 8, symmetric: true, granularity: 'tensor' });
 * // scale [2^-7] (codes -128..127 cover [-1, 0.992]), zeroPoint [0], dtype 'int8'
 * @throws QuantError INVALID_ARGUMENT for asymmetric or unsigned options, or any option or range the linear
 * quantizer refuses.
 */
export function powerOfTwoParamsForRange(range: ValueRange, options: QuantizerOptions): LinearQuantParams {
  return powerOfTwoParamsForResolved(range, resolvePowerOfTwoOptions(options), 'pow2');
}

/** {@link powerOfTwoParamsForRange} for options already resolved by {@link resolvePowerOfTwoOptions}. */
export function powerOfTwoParamsForResolved(
  range: ValueRange,
  options: ResolvedLinearOptions,
  quantizer: string,
): LinearQuantParams {
  const axis = rangeAxis(range, options, quantizer);
  const count = range.min.length;
  const scale = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    scale[i] = powerOfTwoScale(range.min[i]!, range.max[i]!, options.qmin, options.qmax);
  }
  return {
    scale,
    zeroPoint: new Int32Array(count),
    granularity: options.granularity,
    axis,
    blockSize: options.blockSize,
    bits: options.codeBits,
    dtype: options.dtype,
    qmin: options.qmin,
    qmax: options.qmax,
  };
}
