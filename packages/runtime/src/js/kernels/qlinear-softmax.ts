import { QuantError, allocate, sizeOf } from '@quantkit/core';
import { jsKernel } from '../backend.js';
import { normalizeAxis, required, tensorOf } from '../tensor-utils.js';
import { type Code8Array, codes8, roundHalfEven, scaleOf, zeroPointOf } from './quantized-values.js';

const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * The exponentials onnxruntime's QLinearSoftmax tabulates: entry i is `exp((i - 255 + shift) * x_scale)` in
 * float32, with `shift` chosen so that a sum of `length` of them stays finite; entry `255 - (max - x)` serves the
 * code x of a row whose largest code is max.
 */
function exponentTable(xScale: number, length: number): Float32Array {
  const headroom = Math.log(Math.fround(FLOAT32_MAX / length));
  const shift = Math.max(0, headroom - 5) / xScale;
  const table = new Float32Array(256);
  for (let i = 0; i < 256; i++) table[i] = Math.exp((i - 255 + shift) * xScale);
  return table;
}

/**
 * com.microsoft QLinearSoftmax, reproducing onnxruntime's kernel: X, X_scale, x_zero_point, y_scale,
 * y_zero_point; `opset` (required) picks the meaning of `axis` (default -1): below 13 the input flattened to 2-D
 * at it, from 13 that one axis. Each value is `round(e[x] * floor(1 / y_scale) / sum(e))` from a
 * table of exponentials in float32, plus y_zero_point; uint8 results above 255 saturate, int8 results wrap into
 * int8 (onnxruntime does not saturate them).
 */
const qLinearSoftmax = jsKernel('QLinearSoftmax', {
  domain: 'com.microsoft',
  prepare: (node) => {
    if (!node.attributes.has('opset')) {
      throw new QuantError('INVALID_MODEL', 'QLinearSoftmax lacks its required "opset" attribute');
    }
    const opset = node.attributes.int('opset');
    // The schema's default axis is -1 at every opset (onnxruntime's fallback to 1 below 13 is never reached).
    return { opset, axis: node.attributes.int('axis', -1) };
  },
  run: ({ opset, axis }, [x, xScaleInput, , yScaleInput, yZeroInput]) => {
    const input = required(x, 'X');
    const codes = codes8(input, 'X');
    const xScale = scaleOf(required(xScaleInput, 'X_scale'), 'X_scale');
    const yScale = scaleOf(required(yScaleInput, 'y_scale'), 'y_scale');
    const yZero = zeroPointOf(yZeroInput, 'y_zero_point');
    const { shape } = input;
    const out = allocate(input.dtype, codes.length) as Code8Array;
    if (codes.length === 0) return [tensorOf(input.dtype, shape, out)];
    const along = normalizeAxis(axis, shape.length);
    // Below opset 13 a row is everything from the axis on; from 13 it is the axis alone, strided by what follows.
    const length = opset < 13 ? sizeOf(shape.slice(along)) : shape[along]!;
    const inner = opset < 13 ? 1 : sizeOf(shape.slice(along + 1));
    const outer = codes.length / (length * inner);
    const table = exponentTable(xScale, length);
    const multiplier = Math.fround(Math.floor(Math.fround(1 / yScale)));
    const signed = input.dtype === 'int8';
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const base = o * length * inner + i;
        let max = codes[base]!;
        for (let d = 1; d < length; d++) max = Math.max(max, codes[base + d * inner]!);
        const offset = 255 - max;
        let sum = 0;
        for (let d = 0; d < length; d++) sum = Math.fround(sum + table[offset + codes[base + d * inner]!]!);
        for (let d = 0; d < length; d++) {
          const value = table[offset + codes[base + d * inner]!]!;
          const code = roundHalfEven(Math.fround(Math.fround(value * multiplier) / sum)) + yZero;
          out[base + d * inner] = code > 255 ? (signed ? -1 : 255) : code;
        }
      }
    }
    return [tensorOf(input.dtype, shape, out)];
  },
});

export const qLinearSoftmaxKernels = [qLinearSoftmax];
