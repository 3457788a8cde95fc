import type { DType, TypedArray } from '@quantkit/core';

/** The dtypes NPY files can carry into quantkit, keyed by NumPy type code without byte order (`f4`, `i8`...). */
export const NPY_TYPE_CODES: Readonly<Record<string, DType>> = {
  f2: 'float16',
  f4: 'float32',
  f8: 'float64',
  i1: 'int8',
  i2: 'int16',
  i4: 'int32',
  i8: 'int64',
  u1: 'uint8',
  u2: 'uint16',
  b1: 'bool',
};

/** NumPy type code for each dtype that NPY files can hold. */
export const NPY_CODE_OF: Readonly<Partial<Record<DType, string>>> = Object.fromEntries(
  Object.entries(NPY_TYPE_CODES).map(([code, dtype]) => [dtype, code]),
);

/** The NPY magic string: 0x93 followed by "NUMPY". */
export const NPY_MAGIC: readonly number[] = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];

/** True on little-endian hosts (every mainstream JS engine); NPY data is converted when its order differs. */
export const HOST_IS_LITTLE_ENDIAN: boolean = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** Reverses the byte order of each `width`-byte element in place. */
export function swapByteOrder(bytes: Uint8Array, width: number): void {
  if (width <= 1) return;
  for (let start = 0; start < bytes.length; start += width) {
    for (let low = start, high = start + width - 1; low < high; low++, high--) {
      const tmp = bytes[low]!;
      bytes[low] = bytes[high]!;
      bytes[high] = tmp;
    }
  }
}

/** A typed array of `dtype` over `buffer` (which must be a fresh, aligned copy). */
export function viewAs(dtype: DType, buffer: ArrayBuffer): TypedArray {
  switch (dtype) {
    case 'float16':
    case 'uint16':
      return new Uint16Array(buffer);
    case 'float32':
      return new Float32Array(buffer);
    case 'float64':
      return new Float64Array(buffer);
    case 'int8':
      return new Int8Array(buffer);
    case 'int16':
      return new Int16Array(buffer);
    case 'int32':
      return new Int32Array(buffer);
    case 'int64':
      return new BigInt64Array(buffer);
    default:
      return new Uint8Array(buffer);
  }
}
