import {
  type LinearQuantParams,
  type QuantizerOptions,
  type ValueRange,
  roundHalfToEven,
} from '@quantkit/core';
import { rangeAxis } from './range-axis.js';
import { type ResolvedLinearOptions, resolveLinearOptions } from './resolve-linear-options.js';

/**
 * Smallest positive normal float32 (2^-126). Scales are stored as float32; a smaller scale would become a denormal
 * or 0, and ONNX runtimes divide by it.
 */
export const MIN_FLOAT32_SCALE = 2 ** -126;

/** Scale and zero point for one [min, max] group under resolved options (onnxruntime's compute_scale_zp). */
function linearScaleAndZeroPoint(min: number, max: number, options: ResolvedLinearOptions): [number, number] {
  // Zero must be exactly representable (padding, ReLU outputs), so the range always includes it.
  const rmin = Math.min(min, 0);
  const rmax = Math.max(max, 0);
  const { qmin, qmax } = options;
  const steps = qmax - qmin;
  if (options.symmetric) {
    const absmax = Math.max(-rmin, rmax);
    // 2 * absmax / (qmax - qmin) is onnxruntime's absmax / ((qmax - qmin) / 2).
    const scale = absmax === 0 ? 1 : Math.max(Math.fround((2 * absmax) / steps), MIN_FLOAT32_SCALE);
    return [scale, options.symmetricZeroPoint];
  }
  if (rmax === rmin) return [1, qmin];
  // The zero point comes from the float64 scale, as onnxruntime computes it before casting the scale to float32.
  const scale = Math.max((rmax - rmin) / steps, MIN_FLOAT32_SCALE);
  const zeroPoint = roundHalfToEven(qmin - rmin / scale);
  return [Math.fround(scale), Math.min(Math.max(zeroPoint, qmin), qmax)];
}

/**
 * Linear quantization parameters for values in `range`, following onnxruntime's quantization tool:
 * the range is widened to include 0; symmetric uses `scale = 2 * absmax / (qmax - qmin)` with zero point 0 for signed
 * storage (the middle code, e.g. 128, for unsigned); asymmetric uses `scale = (rmax - rmin) / (qmax - qmin)` and
 * `zeroPoint = roundHalfToEven(qmin - rmin / scale)`. A range of [0, 0] gets scale 1; scales are float32 and never
 * smaller than {@link MIN_FLOAT32_SCALE}.
 *
 * One group per entry of `range.min`: per tensor (1 entry), per channel, or per block (entries row-major over the
 * blocked shape, as `computeWeightRange` returns them; blockSize comes from options).
 *
 * @example
 * const params = linearParamsForRange({ min: Float32Array.of(-1), max: Float32Array.of(2) },
 *   { bits: 8, symmetric: false, granularity: 'tensor' });
 * // params.scale[0] === Math.fround(3 / 255), params.zeroPoint[0] === 85, params.dtype === 'uint8'
 * @throws QuantError INVALID_ARGUMENT for invalid options (bits outside 2..16, unknown granularity, missing
 * blockSize, ...) or a range that is non-finite, has min > max, or does not fit the granularity.
 */
export function linearParamsForRange(range: ValueRange, options: QuantizerOptions): LinearQuantParams {
  return linearParamsForResolved(range, resolveLinearOptions(options, 'linear'), 'linear');
}

/** {@link linearParamsForRange} for options that were already resolved (the plugins resolve once per call). */
export function linearParamsForResolved(
  range: ValueRange,
  options: ResolvedLinearOptions,
  quantizer: string,
): LinearQuantParams {
  const axis = rangeAxis(range, options, quantizer);
  const count = range.min.length;
  const scale = new Float32Array(count);
  const zeroPoint = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const [s, z] = linearScaleAndZeroPoint(range.min[i]!, range.max[i]!, options);
    scale[i] = s;
    zeroPoint[i] = z;
  }
  return {
    scale,
    zeroPoint,
    granularity: options.granularity,
    axis,
    blockSize: options.blockSize,
    bits: options.codeBits,
    dtype: options.dtype,
    qmin: options.qmin,
    qmax: options.qmax,
  };
}
