import {
  QuantError,
  type QuantizedTensor,
  type Tensor,
  createTensor,
  forEachParamRun,
  sizeOf,
} from '@quantkit/core';
import type { BinaryLayout } from './resolve-binary-options.js';

/**
 * The smallest alpha the binary quantizer writes (the smallest normal float32). A group whose mean |W| is 0 (all
 * zeros, or values too small for a normal float32 mean) gets this instead, because DequantizeLinear scales must be
 * positive; its reconstruction error stays below 2^-126 per element.
 */
export const MIN_BINARY_SCALE = 2 ** -126;

/** Storage types for binary codes: int8 runs in every DequantizeLinear (opset 10+); int4 needs opset 21. */
export type BinaryCodeDType = 'int8' | 'int4';

/** The sign code of one value: +1 for x >= 0 (including 0 and -0), -1 for x < 0. */
export function signCode(value: number): 1 | -1 {
  return value >= 0 ? 1 : -1;
}

/**
 * XNOR-Net weight binarization: `W ~ alpha * sign(W)` with `alpha = mean |W|` over each scale group (the whole
 * tensor, or each slice along the channel axis). For fixed signs, that alpha minimises `||W - alpha * sign(W)||^2`
 * (the derivative `-2 * sum(|w| - alpha)` vanishes there).
 *
 * sign(0) is +1, not 0: a third code for zero would make the method ternary (log2(3) bits per weight) and break
 * the one-bit-per-weight packing and the XNOR-popcount dot product, which need exactly two states.
 *
 * Codes are int8 (or int4) -1/+1 with `bits: 1`, zero point 0, `qmin: -1`, `qmax: 1`, so the stock-ONNX
 * DequantizeLinear `(code - 0) * alpha` reproduces `alpha * sign(W)` exactly. `bits` is 1 although core's
 * `storageDTypeFor` starts at 2: the storage type is chosen here, and `validateParams` checks only the code
 * range against it.
 *
 * @example
 * const { codes, params } = binarizeWeight(weight, { granularity: 'channel', axis: 0 }, 'int8');
 * // codes.data: Int8Array of -1/+1; params.scale[c] = mean |W[c, ...]|
 * @throws QuantError INVALID_ARGUMENT for a non-finite weight (naming the element) or data that does not fit
 * the shape.
 */
export function binarizeWeight(
  weight: Tensor<'float32'>,
  layout: BinaryLayout,
  dtype: BinaryCodeDType = 'int8',
  quantizer = 'binary',
): QuantizedTensor {
  const { shape, data } = weight;
  if (data.length !== sizeOf(shape)) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      `${quantizer} quantizer: a weight of shape [${shape.join(', ')}] needs ${sizeOf(shape)} values, got ${data.length}`,
    );
  }
  const groups = layout.granularity === 'tensor' ? 1 : (shape[layout.axis ?? 0] ?? 1);
  const sums = new Float64Array(groups);
  const counts = new Float64Array(groups);
  const codes = new Int8Array(data.length);
  forEachParamRun(shape, layout, (start, end, group, stride) => {
    let sum = 0;
    let count = 0;
    for (let i = start; i < end; i += stride) {
      const value = data[i]!;
      if (!Number.isFinite(value)) {
        throw new QuantError(
          'INVALID_ARGUMENT',
          `${quantizer} quantizer: weight of shape [${shape.join(', ')}] has ${value} at flat index ${i}; ` +
            'binarization needs finite weights',
        );
      }
      sum += Math.abs(value);
      count++;
      codes[i] = signCode(value);
    }
    sums[group]! += sum;
    counts[group]! += count;
  });
  const scale = new Float32Array(groups);
  for (let g = 0; g < groups; g++) {
    const mean = counts[g]! > 0 ? Math.fround(sums[g]! / counts[g]!) : 0;
    scale[g] = mean >= MIN_BINARY_SCALE ? mean : MIN_BINARY_SCALE;
  }
  return {
    codes: createTensor(dtype, shape, codes),
    params: {
      scale,
      zeroPoint: new Int32Array(groups),
      granularity: layout.granularity,
      axis: layout.axis,
      bits: 1,
      dtype,
      qmin: -1,
      qmax: 1,
    },
  };
}
