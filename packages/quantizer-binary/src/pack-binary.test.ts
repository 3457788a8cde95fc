import { QuantError } from '@quantkit/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { packBinary, unpackBinary } from './pack-binary.js';

/** Codes of a random shape (odd sizes likely) and a random row axis. */
const shapedCodes = fc
  .record({
    shape: fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 4 }),
    axisPick: fc.nat(),
  })
  .chain(({ shape, axisPick }) => {
    const size = shape.reduce((a, b) => a * b, 1);
    return fc
      .array(fc.constantFrom(-1, 1), { minLength: size, maxLength: size })
      .map((codes) => ({ shape, axis: axisPick % shape.length, codes: Int8Array.from(codes) }));
  });

/** Reference: element at row-major multi-index -> (row = index[axis], position among the other dims in order). */
function referenceBits(shape: number[], axis: number, codes: Int8Array): number[][] {
  const rows: number[][] = Array.from({ length: shape[axis]! }, () => []);
  for (let flat = 0; flat < codes.length; flat++) {
    let rest = flat;
    const index = new Array<number>(shape.length);
    for (let d = shape.length - 1; d >= 0; d--) {
      index[d] = rest % shape[d]!;
      rest = Math.floor(rest / shape[d]!);
    }
    // Row-major flat order visits each row's elements in the order of the remaining dims.
    rows[index[axis]!]!.push(codes[flat] === 1 ? 1 : 0);
  }
  return rows;
}

describe('packBinary / unpackBinary', () => {
  it('documents its example: MSB first, 1 for +1, rows padded with zero bits', () => {
    const packed = packBinary(Int8Array.of(1, -1, -1, 1, 1, 1, 1, 1, -1), [1, 9], 0);
    expect(Array.from(packed.data)).toEqual([0b10011111, 0]);
    expect([packed.rows, packed.rowBits, packed.rowBytes, packed.axis]).toEqual([1, 9, 2, 0]);
    expect(Array.from(unpackBinary(packed.data, [1, 9], 0))).toEqual([1, -1, -1, 1, 1, 1, 1, 1, -1]);
  });

  it('lays MatMul [K, N] weights out as one row per column (axis 1)', () => {
    // W = [[+1, -1], [-1, -1], [+1, +1]]: column 0 = (+1, -1, +1) -> 101, column 1 = (-1, -1, +1) -> 001
    const packed = packBinary(Int8Array.of(1, -1, -1, -1, 1, 1), [3, 2], -1);
    expect(packed.axis).toBe(1);
    expect(Array.from(packed.data)).toEqual([0b10100000, 0b00100000]);
  });

  it('property: bits match a multi-index reference, and unpack inverts pack (odd row lengths)', () => {
    fc.assert(
      fc.property(shapedCodes, ({ shape, axis, codes }) => {
        const packed = packBinary(codes, shape, axis);
        const rows = referenceBits(shape, axis, codes);
        const rowBits = codes.length / shape[axis]!;
        expect(packed.rowBits).toBe(rowBits);
        expect(packed.rowBytes).toBe(Math.ceil(rowBits / 8));
        expect(packed.data.length).toBe(shape[axis]! * packed.rowBytes);
        rows.forEach((bits, row) => {
          const bytes = packed.data.subarray(row * packed.rowBytes, (row + 1) * packed.rowBytes);
          const expected = new Array<number>(packed.rowBytes * 8).fill(0);
          bits.forEach((bit, k) => {
            expected[k] = bit;
          });
          const actual = Array.from(bytes).flatMap((byte) =>
            Array.from({ length: 8 }, (_, b) => (byte >> (7 - b)) & 1),
          );
          expect(actual).toEqual(expected);
        });
        expect(Array.from(unpackBinary(packed.data, shape, axis))).toEqual(Array.from(codes));
      }),
      { numRuns: 200 },
    );
  });

  it('unpack ignores padding bits', () => {
    const data = Uint8Array.of(0b01011111, 0b11111111);
    expect(Array.from(unpackBinary(data, [2, 3], 0))).toEqual([-1, 1, -1, 1, 1, 1]);
  });

  it.each([
    [
      () => packBinary(Int8Array.of(1, 0, -1), [3], 0),
      /code 0 at flat index 1; 1-bit packing holds only -1 and \+1/,
    ],
    [() => packBinary(Int8Array.of(1, 1), [3], 0), /3 elements but 2 codes/],
    [() => packBinary(Int8Array.of(1), [], 0), /a scalar has no axis/],
    [() => packBinary(Int8Array.of(1, 1), [2], 1), /axis 1 is out of range/],
    [() => unpackBinary(new Uint8Array(3), [4, 9], 0), /needs 8 bytes \(4 rows of 2\), got 3/],
  ])('refuses bad input %#', (run, message) => {
    let caught: unknown;
    try {
      run();
    } catch (error) {
      caught = error;
    }
    expect(QuantError.is(caught, 'INVALID_ARGUMENT')).toBe(true);
    expect((caught as Error).message).toMatch(message);
  });
});
