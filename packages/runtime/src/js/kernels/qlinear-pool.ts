import { QuantError, type Tensor, allocate, sizeOf } from '@quantkit/core';
import { jsKernel } from '../backend.js';
import { required, tensorOf } from '../tensor-utils.js';
import { readWindowAttributes, windowGeometry } from './window-geometry.js';
import {
  type Code8Array,
  codeRange,
  codes8,
  requantize,
  roundHalfEven,
  scaleOf,
  zeroPointOf,
} from './quantized-values.js';

/** A pooled input seen as images of `size` elements per channel, channels first or last. */
interface PoolLayout {
  readonly images: number;
  readonly channels: number;
  readonly spatial: readonly number[];
}

function poolLayout(x: Tensor, channelsLast: boolean): PoolLayout {
  if (x.shape.length < 3) {
    throw new QuantError('INVALID_MODEL', `X of shape [${x.shape.join(', ')}] has no spatial dimensions`);
  }
  const images = x.shape[0]!;
  const channels = channelsLast ? x.shape[x.shape.length - 1]! : x.shape[1]!;
  const spatial = channelsLast ? x.shape.slice(1, -1) : x.shape.slice(2);
  return { images, channels, spatial };
}

/**
 * The global average of 8-bit codes as onnxruntime computes it: the codes summed in int32 less `size *
 * x_zero_point`, then requantized with the float32 scale `x_scale / (y_scale * size)`.
 */
function globalAverage(
  codes: Code8Array,
  layout: PoolLayout,
  channelsLast: boolean,
  xScale: number,
  xZero: number,
  yScale: number,
  yZero: number,
  out: Code8Array,
  dtype: 'uint8' | 'int8',
): void {
  const { images, channels } = layout;
  const size = sizeOf(layout.spatial);
  const sums = new Int32Array(images * channels);
  for (let image = 0; image < images; image++) {
    for (let c = 0; c < channels; c++) {
      let sum = -xZero * size;
      if (channelsLast) {
        const base = image * size * channels + c;
        for (let i = 0; i < size; i++) sum += codes[base + i * channels]!;
      } else {
        const base = (image * channels + c) * size;
        for (let i = 0; i < size; i++) sum += codes[base + i]!;
      }
      sums[image * channels + c] = sum;
    }
  }
  const scale = Math.fround(xScale / Math.fround(yScale * size));
  const { qmin, qmax } = codeRange(dtype);
  requantize(sums, 1, sums.length, Float32Array.of(scale), undefined, false, yZero, qmin, qmax, out, 0);
}

interface QuantizedPoolInputs {
  readonly x: Tensor;
  readonly codes: Code8Array;
  readonly dtype: 'uint8' | 'int8';
  readonly xScale: number;
  readonly xZero: number;
  readonly yScale: number;
  readonly yZero: number;
}

function poolInputs(inputs: readonly (Tensor | undefined)[]): QuantizedPoolInputs {
  const [xInput, xScaleInput, xZeroInput, yScaleInput, yZeroInput] = inputs;
  const x = required(xInput, 'X');
  const codes = codes8(x, 'X');
  return {
    x,
    codes,
    dtype: x.dtype as 'uint8' | 'int8',
    xScale: scaleOf(required(xScaleInput, 'x_scale'), 'x_scale'),
    xZero: zeroPointOf(xZeroInput, 'x_zero_point'),
    yScale: scaleOf(required(yScaleInput, 'y_scale'), 'y_scale'),
    yZero: zeroPointOf(yZeroInput, 'y_zero_point'),
  };
}

/**
 * com.microsoft QLinearGlobalAveragePool: X, x_scale, x_zero_point, y_scale, y_zero_point; channels first (the
 * output [N, C, 1, ...]) or, with channels_last, [N, ..., C] (output [N, 1, ..., C]).
 */
const qLinearGlobalAveragePool = jsKernel('QLinearGlobalAveragePool', {
  domain: 'com.microsoft',
  prepare: (node) => ({ channelsLast: node.attributes.int('channels_last', 0) !== 0 }),
  run: ({ channelsLast }, inputs) => {
    const { x, codes, dtype, xScale, xZero, yScale, yZero } = poolInputs(inputs);
    const layout = poolLayout(x, channelsLast);
    const out = allocate(dtype, layout.images * layout.channels) as Code8Array;
    globalAverage(codes, layout, channelsLast, xScale, xZero, yScale, yZero, out, dtype);
    const ones = layout.spatial.map(() => 1);
    const shape = channelsLast
      ? [layout.images, ...ones, layout.channels]
      : [layout.images, layout.channels, ...ones];
    return [tensorOf(dtype, shape, out)];
  },
});

/**
 * com.microsoft QLinearAveragePool, as onnxruntime runs it: X dequantized to float32, each window summed in
 * float32 in row-major order and divided by its count (the whole kernel with count_include_pad, else the
 * window's part inside X), then quantized as `round(y / y_scale + y_zero_point)` with the zero point added in
 * float32 before rounding. A window covering all of X without padding takes the integer global-average path.
 * Attributes: auto_pad, ceil_mode, channels_last, count_include_pad, kernel_shape, pads, strides.
 */
const qLinearAveragePool = jsKernel('QLinearAveragePool', {
  domain: 'com.microsoft',
  prepare: (node) => {
    const window = readWindowAttributes(node);
    if (window.kernelShape === undefined) {
      throw new QuantError('INVALID_MODEL', 'QLinearAveragePool lacks kernel_shape');
    }
    return {
      window: { ...window, dilations: undefined },
      kernel: window.kernelShape,
      channelsLast: node.attributes.int('channels_last', 0) !== 0,
      countIncludePad: node.attributes.int('count_include_pad', 0) !== 0,
    };
  },
  run: ({ window, kernel, channelsLast, countIncludePad }, inputs) => {
    const { x, codes, dtype, xScale, xZero, yScale, yZero } = poolInputs(inputs);
    const layout = poolLayout(x, channelsLast);
    const { images, channels, spatial } = layout;
    const geometry = windowGeometry(window, spatial, kernel);
    const outputShape = channelsLast
      ? [images, ...geometry.output, channels]
      : [images, channels, ...geometry.output];
    const out = allocate(dtype, sizeOf(outputShape)) as Code8Array;
    const unpadded = geometry.padBegin.every((pad) => pad === 0) && geometry.padEnd.every((pad) => pad === 0);
    if (unpadded && kernel.join() === spatial.join()) {
      globalAverage(codes, layout, channelsLast, xScale, xZero, yScale, yZero, out, dtype);
      return [tensorOf(dtype, outputShape, out)];
    }
    const values = new Float32Array(codes.length);
    for (let i = 0; i < codes.length; i++) values[i] = Math.fround(xScale * (codes[i]! - xZero));
    const { qmin, qmax } = codeRange(dtype);
    const rank = spatial.length;
    const inputSize = sizeOf(spatial);
    const outputSize = sizeOf(geometry.output);
    const kernelSize = sizeOf(kernel);
    const start = new Array<number>(rank);
    const end = new Array<number>(rank);
    const position = new Array<number>(rank).fill(0);
    for (let p = 0; p < outputSize; p++) {
      // The window, clipped to X (onnxruntime clips the end to X, not to X plus its end padding).
      let count = 1;
      for (let axis = 0; axis < rank; axis++) {
        const from = position[axis]! * geometry.strides[axis]! - geometry.padBegin[axis]!;
        start[axis] = Math.max(from, 0);
        end[axis] = Math.min(from + kernel[axis]!, spatial[axis]!);
        count *= Math.max(end[axis]! - start[axis]!, 0);
      }
      const divisor = countIncludePad ? kernelSize : count;
      for (let image = 0; image < images; image++) {
        for (let c = 0; c < channels; c++) {
          let sum = 0;
          if (count > 0) {
            const index = [...start];
            for (;;) {
              let offset = 0;
              for (let axis = 0; axis < rank; axis++) offset = offset * spatial[axis]! + index[axis]!;
              const at = channelsLast
                ? (image * inputSize + offset) * channels + c
                : (image * channels + c) * inputSize + offset;
              sum = Math.fround(sum + values[at]!);
              let axis = rank - 1;
              for (; axis >= 0; axis--) {
                index[axis]! += 1;
                if (index[axis]! < end[axis]!) break;
                index[axis] = start[axis]!;
              }
              if (axis < 0) break;
            }
          }
          const average = Math.fround(sum / divisor);
          const shifted = Math.fround(Math.fround(average / yScale) + yZero);
          const code = Math.min(Math.max(roundHalfEven(shifted), qmin), qmax);
          const to = channelsLast
            ? (image * outputSize + p) * channels + c
            : (image * channels + c) * outputSize + p;
          out[to] = Number.isNaN(shifted) ? yZero : code;
        }
      }
      for (let axis = rank - 1; axis >= 0; axis--) {
        position[axis]! += 1;
        if (position[axis]! < geometry.output[axis]!) break;
        position[axis] = 0;
      }
    }
    return [tensorOf(dtype, outputShape, out)];
  },
});

export const qLinearPoolKernels = [qLinearGlobalAveragePool, qLinearAveragePool];
