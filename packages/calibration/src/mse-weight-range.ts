import {
  type LinearQuantParams,
  QuantError,
  type Tensor,
  type ValueRange,
  axisLayout,
  fakeQuantize,
  roundHalfToEven,
} from '@quantkit/core';

/** Options of `mseWeightRange`. */
export interface MseWeightRangeOptions {
  /** Code width, 2..16. */
  readonly bits: number;
  /** `[-t, t]` with signed restricted codes `[-(2^(b-1) - 1), 2^(b-1) - 1]`, or `[a, b]` with unsigned codes. */
  readonly symmetric: boolean;
  /** Channel axis for one range per channel; per tensor when absent. */
  readonly axis?: number;
}

// Clip ratios 1.00, 0.99, ..., 0.50 of the channel's extremes; 1.00 first so min-max wins ties.
const RATIOS = Array.from({ length: 51 }, (_, k) => 1 - k / 100);

function paramsFor(low: number, high: number, bits: number, symmetric: boolean): LinearQuantParams | undefined {
  if (symmetric) {
    const qmax = 2 ** (bits - 1) - 1;
    const scale = Math.fround(Math.max(-low, high) / qmax);
    if (!(scale > 0)) return undefined;
    return {
      scale: Float32Array.of(scale),
      zeroPoint: Int32Array.of(0),
      granularity: 'tensor',
      bits,
      dtype: bits <= 8 ? 'int8' : 'int16',
      qmin: -qmax,
      qmax,
    };
  }
  // Quantizers widen asymmetric ranges to include zero so that zero is exact.
  const lo = Math.min(low, 0);
  const hi = Math.max(high, 0);
  const qmax = 2 ** bits - 1;
  const scale = Math.fround((hi - lo) / qmax);
  if (!(scale > 0)) return undefined;
  const zeroPoint = Math.min(Math.max(roundHalfToEven(-lo / scale), 0), qmax);
  return {
    scale: Float32Array.of(scale),
    zeroPoint: Int32Array.of(zeroPoint),
    granularity: 'tensor',
    bits,
    dtype: bits <= 8 ? 'uint8' : 'uint16',
    qmin: 0,
    qmax,
  };
}

function squaredError(values: Float32Array, params: LinearQuantParams): number {
  const approximated = fakeQuantize(values, [values.length], params);
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    const d = values[i]! - approximated[i]!;
    // NaN and infinite weights are left out: their error does not depend on the range.
    if (Number.isFinite(d)) sum += d * d;
  }
  return sum;
}

/** The best [low, high] for one channel's values, by a grid search over clip ratios. */
function channelRange(values: Float32Array, bits: number, symmetric: boolean): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v < min && v !== -Infinity) min = v;
    if (v > max && v !== Infinity) max = v;
  }
  if (!(min <= max)) return [0, 0];
  if (symmetric) {
    const magnitude = Math.max(-min, max);
    min = -magnitude;
    max = magnitude;
  }
  let best: [number, number] = [min, max];
  let bestError = Infinity;
  for (const ratio of RATIOS) {
    const params = paramsFor(ratio * min, ratio * max, bits, symmetric);
    if (params === undefined) return [min, max];
    const error = squaredError(values, params);
    if (error < bestError) {
      bestError = error;
      best = [ratio * min, ratio * max];
    }
  }
  return best;
}

/**
 * The clip range of a weight tensor (per tensor, or per channel along `axis`) that minimises the actual
 * quantization error: a grid search over clip ratios 1.00, 0.99, ..., 0.50 of the extremes (of max |w| when
 * symmetric), each fake-quantized with core's ONNX-exact `fakeQuantize` and scored by squared error. Ratio 1 (plain
 * min-max) is a candidate, so the result is never worse than min-max. Costs 51 quantization passes over the weight.
 *
 * @example
 * const range = mseWeightRange(weight, { bits: 4, symmetric: true, axis: 0 });
 * const params = linearQuantizer.paramsForRange!(range, { bits: 4, symmetric: true, granularity: 'channel', axis: 0 });
 * @throws QuantError INVALID_ARGUMENT for bits outside 2..16, a weight that is not float32, or an axis outside its
 *   rank.
 */
export function mseWeightRange(weight: Tensor<'float32'>, options: MseWeightRangeOptions): ValueRange {
  const { bits, symmetric, axis } = options;
  if (!Number.isInteger(bits) || bits < 2 || bits > 16) {
    throw new QuantError('INVALID_ARGUMENT', `mseWeightRange: bits must be an integer from 2 to 16, got ${bits}`);
  }
  if (weight.dtype !== 'float32') {
    throw new QuantError('INVALID_ARGUMENT', `mseWeightRange: the weight must be float32, got ${weight.dtype}`);
  }
  if (axis === undefined) {
    const [low, high] = channelRange(weight.data, bits, symmetric);
    return { min: Float32Array.of(low), max: Float32Array.of(high), axis: undefined };
  }
  const layout = axisLayout(weight.shape, axis);
  const { outer, axisSize, inner } = layout;
  const min = new Float32Array(axisSize);
  const max = new Float32Array(axisSize);
  const channel = new Float32Array(outer * inner);
  for (let c = 0; c < axisSize; c++) {
    for (let o = 0; o < outer; o++) {
      const start = (o * axisSize + c) * inner;
      channel.set(weight.data.subarray(start, start + inner), o * inner);
    }
    [min[c], max[c]] = channelRange(channel, bits, symmetric);
  }
  return { min, max, axis: layout.axis };
}
