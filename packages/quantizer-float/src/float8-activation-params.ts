import { QuantError, type ValueRange, listChoices } from '@quantkit/core';
import { FLOAT8_DTYPES, FLOAT8_FORMATS, FLOAT8_MAX, type Float8Format } from './float32-to-float8.js';

/**
 * Parameters of a float8 QuantizeLinear/DequantizeLinear pair (opset 19+): `y = saturate(x / scale)` rounded to
 * the float8 format, `x' = y * scale`. The zero point is the float8 zero (the spec keeps it for symmetry with the
 * integer forms; it is not an offset).
 */
export interface Float8QuantParams {
  readonly format: Float8Format;
  /** The ONNX type of the quantized values and the zero point. */
  readonly dtype: 'float8e4m3fn' | 'float8e5m2';
  /** One scale per tensor (length 1) or per slice along `axis`. */
  readonly scale: Float32Array;
  /** Float8 zero codes, same length as scale. */
  readonly zeroPoint: Uint8Array;
  readonly axis?: number | undefined;
}

/**
 * The float32 scale that maps `absMax` onto the largest finite value of `format` (448 for e4m3fn, 57344 for e5m2),
 * so the format's whole range is used; 1 when `absMax` is 0 (any scale represents an all-zero tensor exactly).
 *
 * @example
 * float8Scale(4.48, 'e4m3fn'); // 0.01
 * @throws QuantError INVALID_ARGUMENT when absMax is negative, infinite or NaN.
 */
export function float8Scale(absMax: number, format: Float8Format): number {
  if (!Number.isFinite(absMax) || absMax < 0) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      `float8 scale needs a finite non-negative magnitude, got ${absMax}`,
    );
  }
  if (absMax === 0) return 1;
  // Rounded to float32 because that is how it is stored; a scale of 0 after rounding (absMax below float32's
  // subnormals times 448) would make QuantizeLinear divide by zero, so it falls back to the smallest positive.
  return Math.fround(absMax / FLOAT8_MAX[format]) || 1e-45;
}

/**
 * Float8 QDQ parameters for an activation whose calibrated range is `range` (per tensor, or per axis when the
 * range has one): scale = max(|min|, |max|) / max finite float8, zero point float8 zero. Values beyond the
 * calibrated range saturate (ONNX QuantizeLinear's default saturate=1).
 *
 * @example
 * float8ActivationParams({ min: Float32Array.of(-2), max: Float32Array.of(8.96) }, 'e4m3fn');
 * // { format: 'e4m3fn', dtype: 'float8e4m3fn', scale: Float32Array [0.02], zeroPoint: Uint8Array [0], axis: undefined }
 * @throws QuantError INVALID_ARGUMENT when min and max differ in length or hold non-finite values.
 */
export function float8ActivationParams(range: ValueRange, format: Float8Format): Float8QuantParams {
  if (!(FLOAT8_FORMATS as readonly string[]).includes(format)) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      `float8 format "${String(format)}" is not supported; choose ${listChoices(FLOAT8_FORMATS)}`,
    );
  }
  const dtype = FLOAT8_DTYPES[format];
  if (range.min.length !== range.max.length || range.min.length === 0) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      `activation range has ${range.min.length} minima and ${range.max.length} maxima; expected equal, non-zero counts`,
    );
  }
  const scale = new Float32Array(range.min.length);
  for (let i = 0; i < scale.length; i++) {
    const low = range.min[i]!;
    const high = range.max[i]!;
    if (!Number.isFinite(low) || !Number.isFinite(high)) {
      throw new QuantError(
        'INVALID_ARGUMENT',
        `activation range [${low}, ${high}] (entry ${i}) is not finite`,
      );
    }
    scale[i] = float8Scale(Math.max(Math.abs(low), Math.abs(high)), format);
  }
  return { format, dtype, scale, zeroPoint: new Uint8Array(scale.length), axis: range.axis };
}
