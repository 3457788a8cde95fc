import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { QuantError } from './errors.js';
import { packNibbles, unpackNibbles } from './pack.js';

describe('packNibbles / unpackNibbles', () => {
  it('packs low nibble first, two per byte, as ONNX int4 tensors do', () => {
    expect(Array.from(packNibbles([1, 2, 3]))).toEqual([0x21, 0x03]);
    // -1 is 0b1111 in two's complement; -8 is 0b1000.
    expect(Array.from(packNibbles([-1, -8]))).toEqual([0x8f]);
    expect(packNibbles([])).toHaveLength(0);
  });

  it('property: signed and unsigned codes round-trip, odd counts included', () => {
    for (const [signed, min, max] of [
      [true, -8, 7],
      [false, 0, 15],
    ] as const) {
      fc.assert(
        fc.property(fc.array(fc.integer({ min, max }), { maxLength: 41 }), (codes) => {
          const packed = packNibbles(codes);
          expect(packed).toHaveLength(Math.ceil(codes.length / 2));
          if (codes.length % 2 === 1) expect(packed[packed.length - 1]! >> 4).toBe(0);
          const unpacked = unpackNibbles(packed, codes.length, signed);
          expect(unpacked).toBeInstanceOf(signed ? Int8Array : Uint8Array);
          expect(Array.from(unpacked)).toEqual(codes);
        }),
      );
    }
  });

  it('refuses a buffer too short for the count', () => {
    let error: unknown;
    try {
      unpackNibbles(Uint8Array.of(0), 3, false);
    } catch (caught) {
      error = caught;
    }
    expect(QuantError.is(error, 'INVALID_ARGUMENT')).toBe(true);
    expect((error as Error).message).toContain('1 bytes cannot hold 3 packed 4-bit values');
  });
});
