import {
  type DType,
  type Tensor,
  type TypedArray,
  QuantError,
  allocate,
  packNibbles,
  sizeOf,
  unpackNibbles,
} from '@quantkit/core';
import { int64ToBigInt, int64ToNumber } from './int64.js';
import { dtypeFromOnnx, isOnnxDataType, onnxFromDtype, rawByteLength } from './onnx-data-types.js';
import { type TensorProto, onnxTypes } from './onnx-schema.js';
import { pagedTensor } from './paged-tensor.js';

/**
 * Reads `length` bytes at `offset` of an external data file named by a tensor's `location` (relative to the model's
 * folder). `length` is undefined when the tensor does not say, meaning "to the end of the file".
 */
export type ExternalDataLoader = (location: string, offset: number, length: number | undefined) => Uint8Array;

/**
 * Defers reading external data: checks now that `length` bytes at `offset` of `location` exist, and returns a
 * function that reads them later (it must stay usable after decoding ends), or undefined to read them now.
 */
export type ExternalDataPager = (
  location: string,
  offset: number,
  length: number,
) => (() => Uint8Array) | undefined;

export interface TensorFromProtoOptions {
  /** Resolves tensors stored outside the model file (data_location = EXTERNAL). */
  externalData?: ExternalDataLoader | undefined;
  /**
   * Leaves external tensors in their file until their data is used ({@link pagedTensor}) where it returns a
   * reader; readModelFile passes one for large tensors, so big models never sit in memory whole.
   */
  pageExternalData?: ExternalDataPager | undefined;
}

function tensorLabel(proto: TensorProto): string {
  return proto.name ? `tensor "${proto.name}"` : 'an unnamed tensor';
}

function invalid(label: string, message: string): QuantError {
  return new QuantError('INVALID_MODEL', `${label} ${message}`);
}

/** Shape of a TensorProto, checked to be non-negative safe integers. */
export function shapeFromProto(proto: TensorProto): number[] {
  const dims = (proto.dims ?? []).map((dim) => int64ToNumber(dim));
  for (const dim of dims) {
    if (!Number.isSafeInteger(dim) || dim < 0) {
      throw invalid(tensorLabel(proto), `has an invalid dimension ${dim} in dims [${dims.join(', ')}]`);
    }
  }
  if (!Number.isSafeInteger(sizeOf(dims))) {
    throw invalid(tensorLabel(proto), `has too many elements for dims [${dims.join(', ')}]`);
  }
  return dims;
}

function lengthMismatch(label: string, bytes: number, dtype: DType, size: number): QuantError {
  const expected = rawByteLength(dtype, size);
  return invalid(label, `has ${bytes} bytes of data but ${dtype} with ${size} elements needs ${expected}`);
}

/**
 * The elements of raw little-endian bytes. `owned` bytes (a fresh buffer nobody else holds, starting at offset 0)
 * become the typed array's storage; others are copied first.
 */
function fromRaw(bytes: Uint8Array, dtype: DType, size: number, label: string, owned = false): TypedArray {
  const expected = rawByteLength(dtype, size);
  if (bytes.length !== expected) throw lengthMismatch(label, bytes.length, dtype, size);
  if (dtype === 'int4' || dtype === 'uint4') return unpackNibbles(bytes, size, dtype === 'int4');
  // Copy so the typed array is aligned (raw_data sits at arbitrary offsets of the file buffer) and owns its data.
  // ONNX stores little-endian, the byte order of every platform JS engines ship on.
  let storageBytes = bytes;
  if (!owned || bytes.byteOffset !== 0) {
    storageBytes = new Uint8Array(expected);
    storageBytes.set(bytes);
  }
  const storage = allocate(dtype, 0);
  const Ctor = storage.constructor as new (
    buffer: ArrayBufferLike,
    offset: number,
    length: number,
  ) => TypedArray;
  return new Ctor(storageBytes.buffer, 0, size);
}

function fromTyped(proto: TensorProto, dtype: DType, size: number, label: string): TypedArray {
  const check = (length: number, field: string, expected = size): void => {
    if (length !== expected) {
      throw invalid(
        label,
        `has ${length} values in ${field} but ${dtype} with ${size} elements needs ${expected}`,
      );
    }
  };
  switch (dtype) {
    case 'float32': {
      const values = proto.float_data ?? [];
      check(values.length, 'float_data');
      return Float32Array.from(values);
    }
    case 'float64': {
      const values = proto.double_data ?? [];
      check(values.length, 'double_data');
      return Float64Array.from(values);
    }
    case 'int64': {
      const values = proto.int64_data ?? [];
      check(values.length, 'int64_data');
      const out = new BigInt64Array(size);
      for (let i = 0; i < size; i++) out[i] = int64ToBigInt(values[i]);
      return out;
    }
    case 'int4':
    case 'uint4': {
      // The spec packs 4-bit values two per int32_data entry (low nibble first), like raw_data bytes.
      const values = proto.int32_data ?? [];
      check(values.length, 'int32_data', Math.ceil(size / 2));
      return unpackNibbles(
        Uint8Array.from(values, (v) => v & 0xff),
        size,
        dtype === 'int4',
      );
    }
    default: {
      // int8/uint8/int16/uint16/int32/bool and the bit patterns of float16/bfloat16/float8 live in int32_data.
      const values = proto.int32_data ?? [];
      check(values.length, 'int32_data');
      const out = allocate(dtype, size);
      for (let i = 0; i < size; i++) out[i] = values[i]!;
      return out;
    }
  }
}

function externalEntries(proto: TensorProto): Map<string, string> {
  const entries = new Map<string, string>();
  for (const entry of proto.external_data ?? []) entries.set(entry.key ?? '', entry.value ?? '');
  return entries;
}

function parseNonNegative(value: string | undefined, label: string, key: string): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(number)) {
    throw invalid(label, `has external data ${key} "${value}"; expected a non-negative integer`);
  }
  return number;
}

/** Where an external tensor's bytes are: file location (relative), byte offset and length. */
export interface ExternalDataRef {
  location: string;
  offset: number;
  length: number | undefined;
}

/**
 * The external data reference of a TensorProto with data_location = EXTERNAL, or undefined for inline tensors.
 * @throws QuantError INVALID_MODEL when the location key is missing or offset/length are not integers.
 */
export function externalDataRef(proto: TensorProto): ExternalDataRef | undefined {
  if (proto.data_location !== 1) return undefined;
  const label = tensorLabel(proto);
  const entries = externalEntries(proto);
  const location = entries.get('location');
  if (!location) throw invalid(label, 'has data_location EXTERNAL but no "location" in external_data');
  return {
    location,
    offset: parseNonNegative(entries.get('offset'), label, 'offset') ?? 0,
    length: parseNonNegative(entries.get('length'), label, 'length'),
  };
}

/**
 * Converts an ONNX TensorProto to a quantkit {@link Tensor}. Reads raw_data (copied, so the result never aliases
 * the file buffer), the typed fields (float_data, int32_data, int64_data, double_data) and external data.
 * int4/uint4 are unpacked to one element per slot.
 *
 * @example
 * const weight = tensorFromProto(graphProto.initializer[0]);
 * @throws QuantError UNSUPPORTED for data types quantkit does not hold, segmented tensors, or external data
 *   without `options.externalData`; INVALID_MODEL when the data does not match dims and data type.
 */
export function tensorFromProto(proto: TensorProto, options: TensorFromProtoOptions = {}): Tensor {
  const label = tensorLabel(proto);
  const dtype = dtypeFromOnnx(proto.data_type ?? 0, label);
  const shape = shapeFromProto(proto);
  const size = sizeOf(shape);
  if (proto.segment)
    throw new QuantError('UNSUPPORTED', `${label} is segmented, which quantkit does not read`);
  const external = externalDataRef(proto);
  let data: TypedArray;
  if (external !== undefined) {
    if (options.externalData === undefined) {
      throw new QuantError(
        'UNSUPPORTED',
        `${label} is stored in external file "${external.location}"; read the model from a file ` +
          '(readModelFile from @quantkit/onnx/node) or pass an externalData loader',
      );
    }
    const expected = rawByteLength(dtype, size);
    if (external.length !== undefined && external.length !== expected) {
      throw lengthMismatch(label, external.length, dtype, size);
    }
    const pageIn = options.pageExternalData?.(external.location, external.offset, expected);
    if (pageIn !== undefined) {
      return pagedTensor(dtype, shape, () => fromRaw(pageIn(), dtype, size, label, true)) as Tensor;
    }
    const bytes = options.externalData(external.location, external.offset, expected);
    data = fromRaw(bytes, dtype, size, label);
  } else if (proto.raw_data !== undefined && proto.raw_data !== null && proto.raw_data.length > 0) {
    data = fromRaw(proto.raw_data, dtype, size, label);
  } else {
    data = fromTyped(proto, dtype, size, label);
  }
  return { dtype, shape, data } as Tensor;
}

/**
 * The bytes ONNX stores for a tensor's data (little-endian; int4/uint4 packed two per byte, low nibble first).
 * Views the tensor's buffer where possible, so do not modify the result.
 * @throws QuantError INVALID_ARGUMENT when the data length disagrees with the shape.
 */
export function tensorBytes(tensor: Tensor, name = ''): Uint8Array {
  const size = sizeOf(tensor.shape);
  if (tensor.data.length !== size) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      `tensor "${name}" of shape [${tensor.shape.join(', ')}] needs ${size} elements, got ${tensor.data.length}`,
    );
  }
  if (tensor.dtype === 'int4' || tensor.dtype === 'uint4')
    return packNibbles(tensor.data as Int8Array | Uint8Array);
  const data = tensor.data;
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * Converts a {@link Tensor} to a TensorProto holding its data in raw_data.
 *
 * @example
 * const proto = tensorToProto('conv.weight', weight);
 * @throws QuantError INVALID_ARGUMENT for an unknown dtype or a data length that disagrees with the shape.
 */
export function tensorToProto(name: string, tensor: Tensor): TensorProto {
  return { ...tensorHeaderProto(name, tensor), raw_data: tensorBytes(tensor, name) };
}

/**
 * A TensorProto's name, dims and data type, without data (an external tensor adds where its bytes are). Does not
 * read the tensor's data.
 * @throws QuantError INVALID_ARGUMENT for an unknown dtype or an invalid dimension.
 */
export function tensorHeaderProto(
  name: string,
  tensor: Tensor,
): { name: string; dims: number[]; data_type: number } {
  const dataType = onnxFromDtype(tensor.dtype);
  for (const dim of tensor.shape) {
    if (!Number.isSafeInteger(dim) || dim < 0) {
      throw new QuantError(
        'INVALID_ARGUMENT',
        `tensor "${name}" has an invalid dimension in [${tensor.shape.join(', ')}]`,
      );
    }
  }
  return { name, dims: [...tensor.shape], data_type: dataType };
}

/**
 * Decodes a serialized TensorProto (e.g. an ONNX test_data_set_0/input_0.pb file).
 *
 * @example
 * const input = decodeTensor(bytes, 'input_0.pb'); // { name, dtype, shape, data }
 * @throws QuantError INVALID_MODEL naming `source` when the bytes are not a valid TensorProto;
 *   UNSUPPORTED for data types quantkit does not hold.
 */
export function decodeTensor(
  bytes: Uint8Array,
  source = 'tensor',
  options: TensorFromProtoOptions = {},
): Tensor & { name: string } {
  let proto: TensorProto;
  try {
    proto = onnxTypes.TensorProto.decode(bytes) as unknown as TensorProto;
  } catch (error) {
    throw new QuantError('INVALID_MODEL', `${source} is not a valid ONNX TensorProto: ${describe(error)}`, {
      cause: error,
    });
  }
  try {
    if (!isOnnxDataType(proto.data_type ?? 0) || (proto.data_type ?? 0) === 0) {
      throw invalid(
        tensorLabel(proto),
        `has data type ${proto.data_type ?? 0}, which is not an ONNX data type`,
      );
    }
    return { ...tensorFromProto(proto, options), name: proto.name ?? '' };
  } catch (error) {
    // Keep the code (UNSUPPORTED stays UNSUPPORTED) but always say which file it was.
    if (QuantError.is(error) && error.code !== 'INVALID_MODEL') {
      throw new QuantError(error.code, `${source}: ${error.message}`, { cause: error });
    }
    throw new QuantError('INVALID_MODEL', `${source}: ${describe(error)}`, { cause: error });
  }
}

/**
 * Serializes a tensor as a TensorProto (the .pb files of ONNX test data sets).
 * @example
 * await writeFile('input_0.pb', encodeTensor('input', tensor));
 */
export function encodeTensor(name: string, tensor: Tensor): Uint8Array {
  return onnxTypes.TensorProto.encode(tensorToProto(name, tensor)).finish();
}

/** The message of an unknown thrown value. */
export function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
