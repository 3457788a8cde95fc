import { type DTypeStorage, type QuantDType, allocate } from './dtype.js';
import { QuantError } from './errors.js';
import type { LinearQuantParams } from './quant-params.js';
import { type Tensor, axisLayout, createTensor, sizeOf } from './tensor.js';

/**
 * Rounds to the nearest integer, ties to even, as ONNX QuantizeLinear does (numpy's `rint`).
 * @example roundHalfToEven(2.5) === 2; roundHalfToEven(3.5) === 4; roundHalfToEven(-2.5) === -2
 */
export function roundHalfToEven(value: number): number {
  const floor = Math.floor(value);
  const fraction = value - floor;
  if (fraction < 0.5) return floor;
  if (fraction > 0.5) return floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
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
 * Visits every element with the index of its scale: calls `visit(start, end, paramIndex)` for contiguous runs.
 * Per-tensor is one run; per-channel and per-block runs are the inner slices.
 */
export function forEachParamRun(
  shape: readonly number[],
  params: Pick<LinearQuantParams, 'granularity' | 'axis' | 'blockSize'>,
  visit: (start: number, end: number, paramIndex: number) => void,
): void {
  if (params.granularity === 'tensor') {
    visit(0, sizeOf(shape), 0);
    return;
  }
  if (params.granularity === 'block' && !(Number.isInteger(params.blockSize) && params.blockSize! >= 1)) {
    throw new QuantError('INVALID_ARGUMENT', `block quantization needs a positive blockSize, got ${params.blockSize}`);
  }
  const { outer, axisSize, inner } = axisLayout(shape, params.axis ?? 0);
  if (params.granularity === 'channel') {
    for (let o = 0; o < outer; o++) {
      for (let d = 0; d < axisSize; d++) {
        const start = (o * axisSize + d) * inner;
        visit(start, start + inner, d);
      }
    }
    return;
  }
  const blockSize = params.blockSize!;
  const blocks = Math.ceil(axisSize / blockSize);
  for (let o = 0; o < outer; o++) {
    for (let d = 0; d < axisSize; d++) {
      const start = (o * axisSize + d) * inner;
      const base = (o * blocks + Math.floor(d / blockSize)) * inner;
      // Within a block row, element i of the inner slice uses scale base + i: runs of length 1.
      if (inner === 1) visit(start, start + 1, base);
      else for (let i = 0; i < inner; i++) visit(start + i, start + i + 1, base + i);
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
  forEachParamRun(shape, params, (start, end, p) => {
    const scale = params.scale[p]!;
    const zeroPoint = params.zeroPoint[p]!;
    for (let i = start; i < end; i++) codes[i] = quantizeValue(values[i]!, scale, zeroPoint, qmin, qmax);
  });
  return createTensor(params.dtype, shape, codes);
}

/** Dequantizes codes back to float32, as ONNX DequantizeLinear does. */
export function dequantizeLinear(codes: ArrayLike<number>, shape: readonly number[], params: LinearQuantParams): Float32Array {
  checkLength(codes, shape);
  const out = new Float32Array(codes.length);
  forEachParamRun(shape, params, (start, end, p) => {
    const scale = params.scale[p]!;
    const zeroPoint = params.zeroPoint[p]!;
    for (let i = start; i < end; i++) out[i] = dequantizeValue(codes[i]!, scale, zeroPoint);
  });
  return out;
}

/** Quantize then dequantize ("fake quantization"): the float values a quantized model computes with. */
export function fakeQuantize(values: ArrayLike<number>, shape: readonly number[], params: LinearQuantParams): Float32Array {
  checkLength(values, shape);
  const out = new Float32Array(values.length);
  const { qmin, qmax } = params;
  forEachParamRun(shape, params, (start, end, p) => {
    const scale = params.scale[p]!;
    const zeroPoint = params.zeroPoint[p]!;
    for (let i = start; i < end; i++) {
      out[i] = dequantizeValue(quantizeValue(values[i]!, scale, zeroPoint, qmin, qmax), scale, zeroPoint);
    }
  });
  return out;
}
