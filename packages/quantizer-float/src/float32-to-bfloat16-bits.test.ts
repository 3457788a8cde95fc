import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bfloat16BitsOf, bfloat16BitsToFloat32, float32ToBfloat16Bits } from './float32-to-bfloat16-bits.js';

const bitsOf = (value: number): number => new Uint32Array(Float32Array.of(value).buffer)[0]!;
const floatOf = (bits: number): number => new Float32Array(Uint32Array.of(bits >>> 0).buffer)[0]!;

/** Magnitude used to compare distances; infinity counts as 2^128, the next power of two IEEE rounding uses. */
const finiteOrLimit = (value: number): number =>
  Number.isFinite(value) ? value : Math.sign(value) * 2 ** 128;

/**
 * Reference rounding from the definition: the two bfloat16 values around x are x truncated to its top 16 bits and
 * the next one away from zero; take the nearer, on a tie the one with an even last bit.
 */
function reference(x: number): number {
  const bits = bitsOf(x);
  const down = (bits & 0xffff0000) >>> 0;
  if (down === bits) return bits >>> 16;
  const up = (down + 0x10000) >>> 0;
  const toDown = Math.abs(x - floatOf(down));
  const toUp = Math.abs(finiteOrLimit(floatOf(up)) - x);
  if (toDown < toUp || (toDown === toUp && ((down >>> 16) & 1) === 0)) return down >>> 16;
  return up >>> 16;
}

const anyFloat = fc.oneof(
  fc.float({ noNaN: true }),
  fc.float({ noNaN: true, min: -10, max: 10 }),
  // Exact ties: a bfloat16 value plus half its last place.
  fc
    .integer({ min: 0, max: 0xffff })
    .filter((high) => (high & 0x7f80) !== 0x7f80)
    .map((high) => floatOf(((high << 16) | 0x8000) >>> 0)),
);

describe('float32ToBfloat16Bits', () => {
  it('round-trips every non-NaN bfloat16 exactly', () => {
    const codes = new Uint16Array(65536).map((_, i) => i);
    const back = float32ToBfloat16Bits(bfloat16BitsToFloat32(codes));
    const isNaNCode = (code: number): boolean => (code & 0x7f80) === 0x7f80 && (code & 0x7f) !== 0;
    const wrong = codes.filter((code) => !isNaNCode(code) && back[code] !== code);
    expect(Array.from(wrong)).toEqual([]);
  });

  it('rounds to the nearest bfloat16, ties to even', () => {
    fc.assert(
      fc.property(anyFloat, (x) => {
        expect(float32ToBfloat16Bits([x])[0]).toBe(reference(Math.fround(x)));
      }),
      { numRuns: 5000 },
    );
  });

  it('is monotonic', () => {
    fc.assert(
      fc.property(anyFloat, anyFloat, (a, b) => {
        const [low, high] = a <= b ? [a, b] : [b, a];
        const [x, y] = bfloat16BitsToFloat32(float32ToBfloat16Bits([low, high]));
        expect(x!).toBeLessThanOrEqual(y!);
      }),
    );
  });

  it('keeps every NaN a NaN, including payloads only in the dropped bits', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.integer({ min: 1, max: 0x7fffff }), (negative, payload) => {
        const nan = floatOf((negative ? 0xff800000 : 0x7f800000) | payload);
        expect(bfloat16BitsToFloat32(float32ToBfloat16Bits([nan]))[0]).toBeNaN();
        expect(bfloat16BitsToFloat32([bfloat16BitsOf(nan)])[0]).toBeNaN();
      }),
    );
    expect(bfloat16BitsToFloat32(float32ToBfloat16Bits([floatOf(0x7f800001)]))[0]).toBeNaN();
  });

  it('agrees with the scalar form and keeps signed zeros and infinities', () => {
    fc.assert(
      fc.property(anyFloat, (x) => {
        expect(bfloat16BitsOf(x)).toBe(float32ToBfloat16Bits([x])[0]);
      }),
    );
    expect(Array.from(bfloat16BitsToFloat32(float32ToBfloat16Bits([-0, Infinity, -Infinity])))).toEqual([
      -0,
      Infinity,
      -Infinity,
    ]);
  });
});
