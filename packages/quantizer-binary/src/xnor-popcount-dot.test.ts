import { QuantError } from '@quantkit/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { packBinary, unpackBinary } from './pack-binary.js';
import { xnorPopcountDot } from './xnor-popcount-dot.js';

function floatDot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}

const signs = (n: number) => fc.array(fc.constantFrom(-1, 1), { minLength: n, maxLength: n });

describe('xnorPopcountDot', () => {
  it('documents its example', () => {
    expect(xnorPopcountDot(Uint8Array.of(0b10100000), Uint8Array.of(0b11000000), 3)).toBe(-1);
  });

  it('property: equals the float dot product of the unpacked -1/+1 values, whatever the padding holds', () => {
    const vectors = fc
      .integer({ min: 0, max: 200 })
      .chain((n) => fc.tuple(fc.constant(n), signs(n), signs(n), fc.integer({ min: 0, max: 255 })));
    fc.assert(
      fc.property(vectors, ([n, a, b, junk]) => {
        const packedA = packBinary(a, [1, n], 0).data;
        const packedB = packBinary(b, [1, n], 0).data;
        const expected = floatDot(unpackBinary(packedA, [1, n], 0), unpackBinary(packedB, [1, n], 0));
        expect(xnorPopcountDot(packedA, packedB, n)).toBe(expected);
        // Garbage in the padding bits of the last byte must not count.
        if (n % 8 !== 0) {
          const last = packedA.length - 1;
          packedA[last]! |= junk & (0xff >> (n % 8));
          expect(xnorPopcountDot(packedA, packedB, n)).toBe(expected);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('property: dots each packed weight row with a packed activation like a float matrix-vector product', () => {
    const problem = fc
      .record({ rows: fc.integer({ min: 1, max: 6 }), k: fc.integer({ min: 1, max: 40 }) })
      .chain(({ rows, k }) => fc.tuple(fc.constant(rows), fc.constant(k), signs(rows * k), signs(k)));
    fc.assert(
      fc.property(problem, ([rows, k, weights, activations]) => {
        const packedW = packBinary(weights, [rows, k], 0);
        const packedX = packBinary(activations, [1, k], 0).data;
        for (let r = 0; r < rows; r++) {
          const row = packedW.data.subarray(r * packedW.rowBytes, (r + 1) * packedW.rowBytes);
          expect(xnorPopcountDot(row, packedX, k)).toBe(
            floatDot(weights.slice(r * k, (r + 1) * k), activations),
          );
        }
      }),
      { numRuns: 100 },
    );
  });

  it.each([
    [Uint8Array.of(0), Uint8Array.of(0), 9, /9 bits need 2 bytes per operand, got 1 and 1/],
    [Uint8Array.of(0), Uint8Array.of(0), -1, /non-negative integer, got -1/],
    [Uint8Array.of(0), Uint8Array.of(0), 2.5, /non-negative integer, got 2.5/],
  ])('refuses bad sizes %#', (a, b, bits, message) => {
    let caught: unknown;
    try {
      xnorPopcountDot(a, b, bits);
    } catch (error) {
      caught = error;
    }
    expect(QuantError.is(caught, 'INVALID_ARGUMENT')).toBe(true);
    expect((caught as Error).message).toMatch(message);
  });
});
