import { type DType, QuantError, type Tensor, listChoices, sizeOf } from '@quantkit/core';
import type { OrtModule, OrtTensor } from './ort-module.js';

/**
 * The dtypes that cross between quantkit and onnxruntime, with the typed array each uses on both sides (they agree:
 * float16 travels as its raw bits in a Uint16Array, bool as 0/1 bytes).
 */
const ARRAY_OF: Readonly<Partial<Record<DType, abstract new (...args: never[]) => ArrayBufferView>>> = {
  float32: Float32Array,
  float64: Float64Array,
  float16: Uint16Array,
  int64: BigInt64Array,
  int32: Int32Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int8: Int8Array,
  uint8: Uint8Array,
  bool: Uint8Array,
};

/** dtypes `toOrtTensor` and `fromOrtTensor` convert. */
export const ORT_DTYPES: readonly DType[] = Object.keys(ARRAY_OF) as DType[];

function isOrtDType(type: string): type is DType {
  return Object.hasOwn(ARRAY_OF, type);
}

/**
 * Wraps a quantkit tensor as an ort.Tensor without copying its data.
 *
 * @param label what the tensor is (e.g. `input "x"`), for error messages.
 * @example
 * const feed = toOrtTensor(ort, { dtype: 'float32', shape: [1, 2], data: Float32Array.of(1, 2) });
 * @throws QuantError UNSUPPORTED for dtypes onnxruntime's JS API does not carry (bfloat16, float8, int4, uint4),
 *   INVALID_ARGUMENT when the data does not fit the shape or is held in the wrong typed array.
 */
export function toOrtTensor(ort: Pick<OrtModule, 'Tensor'>, tensor: Tensor, label = 'tensor'): OrtTensor {
  const expected = ARRAY_OF[tensor.dtype];
  if (expected === undefined) {
    throw new QuantError(
      'UNSUPPORTED',
      `${label} is ${tensor.dtype}, which onnxruntime's JS API cannot take; expected ${listChoices(ORT_DTYPES)}`,
    );
  }
  if (!(tensor.data instanceof expected)) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      `${label} is ${tensor.dtype} but its data is a ${tensor.data?.constructor?.name}, expected a ${expected.name}`,
    );
  }
  if (tensor.data.length !== sizeOf(tensor.shape)) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      `${label} has ${tensor.data.length} elements for shape [${tensor.shape.join(', ')}]`,
    );
  }
  return new ort.Tensor(tensor.dtype, tensor.data, [...tensor.shape]);
}

/**
 * Converts an ort.Tensor (on the CPU) to a quantkit tensor, sharing its data when it is already held in the right
 * typed array.
 *
 * @example
 * const y = fromOrtTensor(results.y, 'output "y"');
 * @throws QuantError UNSUPPORTED for element types quantkit has no dtype for (string, uint32, uint64, packed 4-bit)
 *   or tensors that live on a GPU.
 */
export function fromOrtTensor(value: OrtTensor, label = 'tensor'): Tensor {
  const type = value.type;
  if (!isOrtDType(type)) {
    throw new QuantError(
      'UNSUPPORTED',
      `${label} is ${type}, which quantkit cannot hold; expected ${listChoices(ORT_DTYPES)}`,
    );
  }
  const shape = value.dims.map(Number);
  const array = ARRAY_OF[type]! as unknown as { new (values: ArrayLike<unknown>): Tensor['data'] };
  const data = value.data;
  if (data instanceof array) return { dtype: type, shape, data } as Tensor;
  if (type === 'float16' && ArrayBuffer.isView(data) && (data as Uint16Array).BYTES_PER_ELEMENT === 2) {
    // A Float16Array (newer runtimes): keep its bits, not its values, as quantkit holds float16 as raw bits.
    const bits = new Uint16Array(data.buffer, data.byteOffset, data.byteLength / 2);
    return { dtype: type, shape, data: bits.slice() } as Tensor;
  }
  if (type !== 'float16' && type !== 'int64' && Array.isArray(data)) {
    return { dtype: type, shape, data: new array(data as number[]) } as Tensor;
  }
  throw new QuantError(
    'UNSUPPORTED',
    `${label}: onnxruntime returned ${type} data that is not on the CPU or not a typed array ` +
      `(got ${data === null ? 'null' : typeof data === 'object' ? data.constructor?.name : typeof data})`,
  );
}
