import { sizeOf } from '@quantkit/core';
import { jsKernel } from '../backend.js';
import { float32Data, normalizeAxis, required } from '../tensor-utils.js';
import { floatOutput } from './float-output.js';

interface SoftmaxState {
  readonly axis: number;
  /** Before opset 13 the input is coerced to 2-D at `axis` and each row (all axes from `axis` on) normalized. */
  readonly flatten: boolean;
}

/**
 * Softmax or LogSoftmax: before opset 13 over the axes from `axis` on (default 1), from opset 13 along the single
 * axis `axis` (default -1). Each slice is shifted by its maximum and summed in float64.
 */
function softmax(opType: string, logarithm: boolean) {
  return jsKernel(opType, {
    prepare: (node): SoftmaxState => {
      const flatten = node.opset < 13;
      return { axis: node.attributes.int('axis', flatten ? 1 : -1), flatten };
    },
    run: ({ axis, flatten }, [input]) => {
      const x = required(input, 'input');
      const rank = x.shape.length;
      const at = normalizeAxis(axis, rank);
      const outer = sizeOf(x.shape.slice(0, at));
      const length = flatten ? sizeOf(x.shape.slice(at)) : (x.shape[at] ?? 1);
      const inner = flatten ? 1 : sizeOf(x.shape.slice(at + 1));
      const data = float32Data(x, 'input');
      const out = new Float32Array(data.length);
      if (inner === 1) softmaxRows(data, out, outer, length, logarithm);
      else softmaxStrided(data, out, outer, length, inner, logarithm);
      return [floatOutput(x.dtype, x.shape, out)];
    },
  });
}

/** Softmax over contiguous rows: the exponentials stored once, then scaled (or turned into log-probabilities). */
function softmaxRows(
  data: Float32Array,
  out: Float32Array,
  rows: number,
  length: number,
  logarithm: boolean,
): void {
  for (let row = 0; row < rows; row++) {
    const begin = row * length;
    const end = begin + length;
    let max = Number.NEGATIVE_INFINITY;
    for (let i = begin; i < end; i++) if (data[i]! > max) max = data[i]!;
    let sum = 0;
    if (logarithm) {
      for (let i = begin; i < end; i++) sum += Math.exp(data[i]! - max);
      const logSum = Math.log(sum);
      for (let i = begin; i < end; i++) out[i] = data[i]! - max - logSum;
    } else {
      for (let i = begin; i < end; i++) {
        const value = Math.exp(data[i]! - max);
        out[i] = value;
        sum += value;
      }
      const scale = 1 / sum;
      for (let i = begin; i < end; i++) out[i] = out[i]! * scale;
    }
  }
}

/** Softmax along an axis with `inner` elements after it: maxima and sums kept per inner position. */
function softmaxStrided(
  data: Float32Array,
  out: Float32Array,
  outer: number,
  length: number,
  inner: number,
  logarithm: boolean,
): void {
  const maxima = new Float64Array(inner);
  const sums = new Float64Array(inner);
  for (let o = 0; o < outer; o++) {
    const base = o * length * inner;
    maxima.fill(Number.NEGATIVE_INFINITY);
    sums.fill(0);
    for (let d = 0; d < length; d++) {
      const row = base + d * inner;
      for (let i = 0; i < inner; i++) if (data[row + i]! > maxima[i]!) maxima[i] = data[row + i]!;
    }
    for (let d = 0; d < length; d++) {
      const row = base + d * inner;
      for (let i = 0; i < inner; i++) sums[i]! += Math.exp(data[row + i]! - maxima[i]!);
    }
    for (let d = 0; d < length; d++) {
      const row = base + d * inner;
      for (let i = 0; i < inner; i++) {
        const shifted = data[row + i]! - maxima[i]!;
        out[row + i] = logarithm ? shifted - Math.log(sums[i]!) : Math.exp(shifted) / sums[i]!;
      }
    }
  }
}

export const softmaxKernel = softmax('Softmax', false);
export const logSoftmaxKernel = softmax('LogSoftmax', true);
