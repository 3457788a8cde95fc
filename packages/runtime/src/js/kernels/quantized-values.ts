import { type DType, QuantError, type Tensor, dtypeInfo } from '@quantkit/core';

/** The integer types whose codes the quantized kernels read and write, held one code per array slot. */
export type CodeArray = Uint8Array | Int8Array | Uint16Array | Int16Array | Int32Array;

/** Codes of an 8-bit type, the types the integer GEMM and convolution kernels take. */
export type Code8Array = Uint8Array | Int8Array;

const CODE_TYPES = new Set<DType>(['uint8', 'int8', 'uint16', 'int16', 'int32', 'uint4', 'int4']);

/** Whether `dtype` holds quantized codes (8-, 16-, 32- or 4-bit integers). */
export function isCodeType(dtype: DType): boolean {
  return CODE_TYPES.has(dtype);
}

/**
 * The codes of a tensor of an 8-bit integer type.
 * @throws QuantError UNSUPPORTED naming `what` for other types.
 */
export function codes8(tensor: Tensor, what: string): Code8Array {
  if (tensor.dtype === 'uint8' || tensor.dtype === 'int8') return tensor.data as Code8Array;
  throw new QuantError('UNSUPPORTED', `${what} is ${tensor.dtype}; this kernel takes uint8 or int8`);
}

/** The smallest and largest code of an integer type. */
export function codeRange(dtype: DType): { qmin: number; qmax: number } {
  const info = dtypeInfo(dtype);
  return { qmin: info.min, qmax: info.max };
}

/**
 * The one value of a scale or zero-point tensor that must be a scalar or hold one element.
 * @throws QuantError INVALID_MODEL naming `what` when it holds more.
 */
export function scalarOf(tensor: Tensor, what: string): number {
  if (tensor.data.length !== 1) {
    throw new QuantError(
      'INVALID_MODEL',
      `${what} must be a scalar or hold one element; it has shape [${tensor.shape.join(', ')}]`,
    );
  }
  return Number(tensor.data[0]);
}

/** A float scale: the one value of a float32 tensor (float64 read as float32). */
export function scaleOf(tensor: Tensor, what: string): number {
  if (tensor.dtype !== 'float32' && tensor.dtype !== 'float64') {
    throw new QuantError('UNSUPPORTED', `${what} is ${tensor.dtype}; this kernel takes float32 scales`);
  }
  return Math.fround(scalarOf(tensor, what));
}

/** A zero point: the one value of an integer tensor, 0 when the optional input is absent. */
export function zeroPointOf(tensor: Tensor | undefined, what: string): number {
  return tensor === undefined ? 0 : scalarOf(tensor, what);
}

/** The values of a float32 scale tensor of any length, as float32. */
export function scalesOf(tensor: Tensor, what: string): Float32Array {
  if (tensor.dtype === 'float32') return tensor.data as Float32Array;
  if (tensor.dtype === 'float64') return Float32Array.from(tensor.data as Float64Array);
  throw new QuantError('UNSUPPORTED', `${what} is ${tensor.dtype}; this kernel takes float32 scales`);
}

/** The values of a zero-point tensor of any length as an Int32Array (zeros of `length` when absent). */
export function zeroPointsOf(tensor: Tensor | undefined, length: number): Int32Array {
  if (tensor === undefined) return new Int32Array(length);
  return Int32Array.from(tensor.data as ArrayLike<number>);
}

/**
 * Rounds a float to the nearest integer, ties to even (the rounding of `nearbyint` and SSE `cvtps2dq` under the
 * default rounding mode, which onnxruntime's quantizing kernels use).
 */
export function roundHalfEven(value: number): number {
  const rounded = Math.round(value);
  return rounded - value === 0.5 && (rounded & 1) !== 0 ? rounded - 1 : rounded;
}

/**
 * Quantizes one float32 value as onnxruntime's MlasQuantizeLinear does: `value / scale` in float32, clamped to
 * the codes reachable from the zero point, rounded half to even, then the zero point added.
 */
export function quantizeFloat(
  value: number,
  scale: number,
  zeroPoint: number,
  qmin: number,
  qmax: number,
): number {
  const scaled = Math.fround(value / scale);
  const low = qmin - zeroPoint;
  const high = qmax - zeroPoint;
  // NaN fails both comparisons and lands on the zero point, as the ONNX reference does.
  if (!(scaled > low)) return scaled <= low ? qmin : zeroPoint;
  if (scaled >= high) return qmax;
  return roundHalfEven(scaled) + zeroPoint;
}

/**
 * Requantizes a block of int32 accumulators to codes, as onnxruntime's MlasRequantizeOutput does: the optional
 * int32 bias added (wrapping like int32), the sum converted to float32 and multiplied by the float32 scale,
 * clamped, rounded half to even and offset by the output zero point.
 *
 * @param scalePerRow when the scales (and biases) follow the rows (output channels of a convolution) rather than
 *   the columns (output columns of a GEMM); one scale of length 1 applies to all.
 */
export function requantize(
  accumulators: Int32Array,
  rows: number,
  columns: number,
  scales: Float32Array,
  bias: Int32Array | undefined,
  scalePerRow: boolean,
  zeroPoint: number,
  qmin: number,
  qmax: number,
  out: CodeArray,
  outOffset: number,
): void {
  const low = qmin - zeroPoint;
  const high = qmax - zeroPoint;
  const perChannel = scales.length > 1;
  const biasPerChannel = bias !== undefined && bias.length > 1;
  for (let row = 0; row < rows; row++) {
    const base = row * columns;
    for (let column = 0; column < columns; column++) {
      const channel = scalePerRow ? row : column;
      const scale = scales[perChannel ? channel : 0]!;
      let sum = accumulators[base + column]!;
      if (bias !== undefined) sum = (sum + bias[biasPerChannel ? channel : 0]!) | 0;
      const scaled = Math.fround(Math.fround(sum) * scale);
      let code: number;
      if (scaled <= low) code = qmin;
      else if (scaled >= high) code = qmax;
      else code = roundHalfEven(scaled) + zeroPoint;
      out[outOffset + base + column] = code;
    }
  }
}

/**
 * A 256-entry table mapping each 8-bit code to its output code, built as onnxruntime builds the tables of its
 * lookup-table kernels (QLinearSigmoid, QLinearLeakyRelu, QLinearConcat): each code dequantized in float32, `op`
 * applied, and the result quantized with {@link quantizeFloat}. Indexed by the code's byte (an int8 code c at
 * c & 0xff).
 */
export function lookupTable(
  signed: boolean,
  inputScale: number,
  inputZeroPoint: number,
  outputScale: number,
  outputZeroPoint: number,
  op: (value: number) => number,
): Int32Array {
  const { qmin, qmax } = codeRange(signed ? 'int8' : 'uint8');
  const table = new Int32Array(256);
  for (let byte = 0; byte < 256; byte++) {
    const code = signed && byte > 127 ? byte - 256 : byte;
    const value = Math.fround(inputScale * (code - inputZeroPoint));
    table[byte] = quantizeFloat(Math.fround(op(value)), outputScale, outputZeroPoint, qmin, qmax);
  }
  return table;
}
