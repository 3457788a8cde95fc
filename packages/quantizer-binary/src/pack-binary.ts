import { QuantError, axisLayout, sizeOf } from '@quantkit/core';

/** Sign codes packed one bit each, in rows along an axis (see {@link packBinary}). */
export interface PackedBinaryRows {
  /** `rows * rowBytes` bytes. */
  readonly data: Uint8Array;
  /** The row axis, non-negative. */
  readonly axis: number;
  /** Number of rows: the size of the row axis. */
  readonly rows: number;
  /** Codes per row: the product of every other dimension. */
  readonly rowBits: number;
  /** Bytes per row: `ceil(rowBits / 8)`, so each row starts on a byte. */
  readonly rowBytes: number;
}

function describeShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** Row layout of a shape around an axis, with the checks both directions share. */
function rowLayout(shape: readonly number[], axis: number, what: string) {
  for (const dim of shape) {
    if (!Number.isInteger(dim) || dim < 0) {
      throw new QuantError(
        'INVALID_ARGUMENT',
        `${what}: shape ${describeShape(shape)} has an invalid dimension`,
      );
    }
  }
  if (shape.length === 0) {
    throw new QuantError('INVALID_ARGUMENT', `${what}: a scalar has no axis to lay rows along`);
  }
  const { outer, axisSize, inner, axis: normalized } = axisLayout(shape, axis);
  const rowBits = outer * inner;
  return { outer, inner, rows: axisSize, axis: normalized, rowBits, rowBytes: Math.ceil(rowBits / 8) };
}

/**
 * Packs sign codes (-1/+1) of a tensor of `shape` one bit each, in rows along `axis` (the output channel: 0 for
 * Conv [M, C, kH, kW] and Gemm transB weights, 1 for MatMul [K, N]). Row `c` holds every element whose index on
 * `axis` is `c`, in row-major order of the other dimensions, so a row is exactly what one output channel dots with
 * its input.
 *
 * Bit layout: bit = 1 for +1 and 0 for -1; most significant bit first (element `k` of a row is bit `7 - k % 8` of
 * byte `k >> 3`, as numpy's `packbits` default), so a row's bytes read left to right like its codes. Each row is
 * padded with zero bits to a whole byte, so rows can be addressed and dotted independently.
 *
 * @example
 * packBinary(Int8Array.of(1, -1, -1, 1, 1, 1, 1, 1, -1), [1, 9], 0);
 * // { data: [0b10011111, 0b00000000], rows: 1, rowBits: 9, rowBytes: 2, axis: 0 }
 * @throws QuantError INVALID_ARGUMENT for a code other than -1/+1 (naming its index), data that does not fit the
 * shape, or an axis outside the shape.
 */
export function packBinary(
  codes: ArrayLike<number>,
  shape: readonly number[],
  axis: number,
): PackedBinaryRows {
  const layout = rowLayout(shape, axis, 'packBinary');
  if (codes.length !== sizeOf(shape)) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      `packBinary: shape ${describeShape(shape)} has ${sizeOf(shape)} elements but ${codes.length} codes were given`,
    );
  }
  const { outer, inner, rows, rowBits, rowBytes } = layout;
  const data = new Uint8Array(rows * rowBytes);
  for (let row = 0; row < rows; row++) {
    const base = row * rowBytes;
    for (let o = 0; o < outer; o++) {
      const first = (o * rows + row) * inner;
      for (let i = 0; i < inner; i++) {
        const code = codes[first + i]!;
        if (code === 1) {
          const bit = o * inner + i;
          data[base + (bit >> 3)]! |= 0x80 >> (bit & 7);
        } else if (code !== -1) {
          throw new QuantError(
            'INVALID_ARGUMENT',
            `packBinary: code ${code} at flat index ${first + i}; 1-bit packing holds only -1 and +1`,
          );
        }
      }
    }
  }
  return { data, axis: layout.axis, rows, rowBits, rowBytes };
}

/**
 * Inverse of {@link packBinary}: the -1/+1 codes of a tensor of `shape` from rows along `axis`. Padding bits are
 * ignored.
 *
 * @example
 * unpackBinary(Uint8Array.of(0b10011111, 0), [1, 9], 0); // Int8Array [1, -1, -1, 1, 1, 1, 1, 1, -1]
 * @throws QuantError INVALID_ARGUMENT when `data` is shorter than the rows need or the axis is outside the shape.
 */
export function unpackBinary(data: Uint8Array, shape: readonly number[], axis: number): Int8Array {
  const { outer, inner, rows, rowBytes } = rowLayout(shape, axis, 'unpackBinary');
  if (data.length < rows * rowBytes) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      `unpackBinary: shape ${describeShape(shape)} in rows along axis ${axis} needs ${rows * rowBytes} bytes ` +
        `(${rows} rows of ${rowBytes}), got ${data.length}`,
    );
  }
  const codes = new Int8Array(sizeOf(shape));
  for (let row = 0; row < rows; row++) {
    const base = row * rowBytes;
    for (let o = 0; o < outer; o++) {
      const first = (o * rows + row) * inner;
      for (let i = 0; i < inner; i++) {
        const bit = o * inner + i;
        codes[first + i] = (data[base + (bit >> 3)]! >> (7 - (bit & 7))) & 1 ? 1 : -1;
      }
    }
  }
  return codes;
}
