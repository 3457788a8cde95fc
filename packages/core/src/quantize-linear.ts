import { type DTypeStorage, type QuantDType, allocate } from './dtype.js';
import { QuantError } from './errors.js';
import type { QuantizedTensor } from './plugins.js';
import type { LinearQuantParams } from './quant-params.js';
import { type Tensor, axisLayout, createTensor, sizeOf } from './tensor.js';

/**
 * Rounds to the nearest integer, ties to even, as ONNX QuantizeLinear does (numpy's `rint`).
 * @example roundHalfToEven(2.5) === 2; roundHalfToEven(3.5) === 4; roundHalfToEven(-2.5) === -2
 */
export function roundHalfToEven(value: number): number {
  // Math.round sends ties up; an odd result of a tie steps back down to the even neighbour.
  const rounded = Math.round(value);
  return rounded - value === 0.5 && rounded % 2 !== 0 ? rounded - 1 : rounded;
}

/**
 * Quantizes one value. The division happens in float32, as in onnxruntime, so codes agree bit for bit with it.
 */
export function quantizeValue(value: number, scale: number, zeroPoint: number, qmin: number, qmax: number): number {
  const code = roundHalfToEven(Math.fround(value / scale)) + zeroPoint;
  // NaN saturates to zero point like the reference implementation's int cast of 0; keep it deterministic.
  if (Number.isNaN(code)) return Math.min(Math.max(zeroPoint, qmin), qmax);
  return code < qmin ? qmin : code > qmax ? qmax : code;
}

/** Dequantizes one code in float32: `(code - zeroPoint) * scale`. */
export function dequantizeValue(code: number, scale: number, zeroPoint: number): number {
  return Math.fround((code - zeroPoint) * scale);
}

function checkLength(values: ArrayLike<number>, shape: readonly number[]): void {
  if (values.length !== sizeOf(shape)) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      `shape [${shape.join(', ')}] has ${sizeOf(shape)} elements but ${values.length} values were given`,
    );
  }
}

/**
 * Visits every element with the index of its scale: `visit(start, end, paramIndex, stride)` covers elements
 * `start, start + stride, ...` below `end`, all sharing scale `paramIndex`. Per-tensor is one run; a channel is
 * one strided run when the axis is last (a MatMul weight [K, N] per column is N runs, not K * N calls) and
 * contiguous slices otherwise; a block is one run along the axis, strided by the size of the dims after it.
 */
export function forEachParamRun(
  shape: readonly number[],
  params: Pick<LinearQuantParams, 'granularity' | 'axis' | 'blockSize'>,
  visit: (start: number, end: number, paramIndex: number, stride: number) => void,
): void {
  if (params.granularity === 'tensor') {
    visit(0, sizeOf(shape), 0, 1);
    return;
  }
  if (params.granularity === 'block' && !(Number.isInteger(params.blockSize) && params.blockSize! >= 1)) {
    throw new QuantError('INVALID_ARGUMENT', `block quantization needs a positive blockSize, got ${params.blockSize}`);
  }
  const { outer, axisSize, inner } = axisLayout(shape, params.axis ?? 0);
  if (params.granularity === 'channel') {
    if (inner === 1) {
      for (let d = 0; d < axisSize; d++) visit(d, outer * axisSize, d, axisSize);
      return;
    }
    for (let o = 0; o < outer; o++) {
      for (let d = 0; d < axisSize; d++) {
        const start = (o * axisSize + d) * inner;
        visit(start, start + inner, d, 1);
      }
    }
    return;
  }
  const blockSize = params.blockSize!;
  const blocks = Math.ceil(axisSize / blockSize);
  for (let o = 0; o < outer; o++) {
    for (let b = 0; b < blocks; b++) {
      const first = b * blockSize;
      const count = Math.min(blockSize, axisSize - first);
      for (let i = 0; i < inner; i++) {
        const start = (o * axisSize + first) * inner + i;
        visit(start, start + count * inner, (o * blocks + b) * inner + i, inner);
      }
    }
  }
}

/**
 * Quantizes float values to codes held in `params.dtype`, exactly as ONNX QuantizeLinear (round half to even,
 * saturate to [qmin, qmax]).
 *
 * @example
 * const codes = quantizeLinear(weights, [4, 3], params); // Tensor<'int8'>
 */
export function quantizeLinear<D extends QuantDType>(
  values: ArrayLike<number>,
  shape: readonly number[],
  params: LinearQuantParams & { dtype: D },
): Tensor<D> {
  checkLength(values, shape);
  const codes = allocate(params.dtype, values.length) as DTypeStorage[D] & { [i: number]: number };
  const { qmin, qmax } = params;
  forEachParamRun(shape, params, (start, end, p, stride) => {
    const scale = params.scale[p]!;
    const zeroPoint = params.zeroPoint[p]!;
    for (let i = start; i < end; i += stride) codes[i] = quantizeValue(values[i]!, scale, zeroPoint, qmin, qmax);
  });
  return createTensor(params.dtype, shape, codes);
}

/** Dequantizes codes back to float32, as ONNX DequantizeLinear does. */
export function dequantizeLinear(codes: ArrayLike<number>, shape: readonly number[], params: LinearQuantParams): Float32Array {
  checkLength(codes, shape);
  const out = new Float32Array(codes.length);
  forEachParamRun(shape, params, (start, end, p, stride) => {
    const scale = params.scale[p]!;
    const zeroPoint = params.zeroPoint[p]!;
    for (let i = start; i < end; i += stride) out[i] = dequantizeValue(codes[i]!, scale, zeroPoint);
  });
  return out;
}

/** Quantize then dequantize ("fake quantization"): the float values a quantized model computes with. */
export function fakeQuantize(values: ArrayLike<number>, shape: readonly number[], params: LinearQuantParams): Float32Array {
  checkLength(values, shape);
  const out = new Float32Array(values.length);
  const { qmin, qmax } = params;
  forEachParamRun(shape, params, (start, end, p, stride) => {
    const scale = params.scale[p]!;
    const zeroPoint = params.zeroPoint[p]!;
    for (let i = start; i < end; i += stride) {
      out[i] = dequantizeValue(quantizeValue(values[i]!, scale, zeroPoint, qmin, qmax), scale, zeroPoint);
    }
  });
  return out;
}

/**
 * Dequantizes any quantizer's output: `table[code] * scale` for lookup codes, `(code - zeroPoint) * scale`
 * otherwise, in float32 like the ONNX forms the pipeline writes.
 */
export function dequantizeQuantized(quantized: QuantizedTensor): Float32Array {
  const { codes, params, lookup } = quantized;
  if (lookup === undefined) return dequantizeLinear(codes.data, codes.shape, params);
  const out = new Float32Array(codes.data.length);
  forEachParamRun(codes.shape, params, (start, end, p, stride) => {
    const scale = params.scale[p]!;
    for (let i = start; i < end; i += stride) out[i] = Math.fround(lookup.table[codes.data[i]!]! * scale);
  });
  return out;
}
