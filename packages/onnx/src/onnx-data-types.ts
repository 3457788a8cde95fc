// ONNX's TensorProto.DataType numbers and quantkit's dtypes: which are held as Tensors, their names and the bytes
// raw_data takes for them.
import { type DType, QuantError, listChoices } from '@quantkit/core';
import { ONNX_DATA_TYPES } from './onnx-schema.js';

const DTYPE_TO_ONNX: Record<DType, number> = {
  float32: ONNX_DATA_TYPES.FLOAT,
  uint8: ONNX_DATA_TYPES.UINT8,
  int8: ONNX_DATA_TYPES.INT8,
  uint16: ONNX_DATA_TYPES.UINT16,
  int16: ONNX_DATA_TYPES.INT16,
  int32: ONNX_DATA_TYPES.INT32,
  int64: ONNX_DATA_TYPES.INT64,
  bool: ONNX_DATA_TYPES.BOOL,
  float16: ONNX_DATA_TYPES.FLOAT16,
  float64: ONNX_DATA_TYPES.DOUBLE,
  bfloat16: ONNX_DATA_TYPES.BFLOAT16,
  float8e4m3fn: ONNX_DATA_TYPES.FLOAT8E4M3FN,
  float8e5m2: ONNX_DATA_TYPES.FLOAT8E5M2,
  uint4: ONNX_DATA_TYPES.UINT4,
  int4: ONNX_DATA_TYPES.INT4,
};

const ONNX_TO_DTYPE = new Map<number, DType>(
  Object.entries(DTYPE_TO_ONNX).map(([dtype, code]) => [code, dtype as DType]),
);

const ONNX_TYPE_NAMES = new Map<number, string>(
  Object.entries(ONNX_DATA_TYPES).map(([name, code]) => [code, name]),
);

/** Bytes per element in raw_data; 4-bit types are handled separately (two per byte). */
const BYTES_PER_ELEMENT: Record<DType, number> = {
  float32: 4,
  float64: 8,
  float16: 2,
  bfloat16: 2,
  float8e4m3fn: 1,
  float8e5m2: 1,
  int64: 8,
  int32: 4,
  int16: 2,
  uint16: 2,
  int8: 1,
  uint8: 1,
  int4: 1,
  uint4: 1,
  bool: 1,
};

/** True when `code` is one of the values of the ONNX TensorProto.DataType enum. */
export function isOnnxDataType(code: number): boolean {
  return ONNX_TYPE_NAMES.has(code);
}

/** The ONNX enum name of a data type number (e.g. 1 -> "FLOAT"), or `"<code>"` when it is not in the enum. */
export function onnxDataTypeName(code: number): string {
  return ONNX_TYPE_NAMES.get(code) ?? String(code);
}

/** True when quantkit holds ONNX data type `code` as a {@link Tensor}. */
export function isSupportedOnnxDataType(code: number): boolean {
  return ONNX_TO_DTYPE.has(code);
}

/**
 * Maps an ONNX TensorProto.DataType number to a quantkit dtype.
 *
 * @example
 * dtypeFromOnnx(1); // 'float32'
 * @throws QuantError UNSUPPORTED for types quantkit does not hold (string, uint32, uint64, complex, ...);
 *   `what` (e.g. `tensor "w"`) is named in the message.
 */
export function dtypeFromOnnx(code: number, what?: string): DType {
  const dtype = ONNX_TO_DTYPE.get(code);
  if (dtype === undefined) {
    const subject = what === undefined ? '' : `${what}: `;
    throw new QuantError(
      'UNSUPPORTED',
      `${subject}ONNX data type ${onnxDataTypeName(code)} (${code}) is not supported; expected one of ` +
        listChoices([...ONNX_TO_DTYPE.keys()].map((c) => onnxDataTypeName(c))),
    );
  }
  return dtype;
}

/**
 * Maps a quantkit dtype to its ONNX TensorProto.DataType number.
 *
 * @example
 * onnxFromDtype('int8'); // 3
 * @throws QuantError INVALID_ARGUMENT for a string that is not a dtype.
 */
export function onnxFromDtype(dtype: DType): number {
  const code = DTYPE_TO_ONNX[dtype];
  if (code === undefined) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      `unknown dtype "${dtype}"; expected ${listChoices(Object.keys(DTYPE_TO_ONNX))}`,
    );
  }
  return code;
}

/** Number of bytes raw_data needs for `size` elements of `dtype`. */
export function rawByteLength(dtype: DType, size: number): number {
  return dtype === 'int4' || dtype === 'uint4' ? Math.ceil(size / 2) : size * BYTES_PER_ELEMENT[dtype];
}
