import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FLOAT16_MAX, fromFloat16Bits, toFloat16Bits } from './to-float16-bits.js';

/** Reference decode from the binary16 definition: 1 sign, 5 exponent (bias 15), 10 mantissa bits. */
function referenceDecode(code: number): number {
  const sign = code & 0x8000 ? -1 : 1;
  const exponent = (code >> 10) & 0x1f;
  const mantissa = code & 0x3ff;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : Number.NaN;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

const isNaNCode = (code: number): boolean => (code & 0x7c00) === 0x7c00 && (code & 0x3ff) !== 0;

/** Finite non-negative float16 values in order (index = code), for neighbour lookups. */
const positive = Array.from({ length: 0x7c00 }, (_, code) => referenceDecode(code));

/**
 * Nearest float16 by binary search over the positive values, ties to the even code; beyond the largest value,
 * IEEE overflow: infinity from 65520 (max + half an ulp) on.
 */
function reference(x: number): number {
  const magnitude = Math.abs(x);
  let code: number;
  if (magnitude >= 65520) code = 0x7c00;
  else {
    let low = 0;
    let high = positive.length - 1;
    while (high - low > 1) {
      const middle = (low + high) >> 1;
      if (positive[middle]! <= magnitude) low = middle;
      else high = middle;
    }
    const toLow = magnitude - positive[low]!;
    const toHigh = positive[high]! - magnitude;
    code = toLow < toHigh || (toLow === toHigh && low % 2 === 0) ? low : high;
    if (magnitude >= positive[high]!) code = high;
  }
  return x < 0 || Object.is(x, -0) ? code | 0x8000 : code;
}

const anyFloat = fc.oneof(
  fc.float({ noNaN: true }),
  fc.float({ noNaN: true, min: -70000, max: 70000 }),
  fc.float({ noNaN: true, min: Math.fround(-1e-4), max: Math.fround(1e-4) }),
  // Exact ties: midpoints of neighbouring float16 values.
  fc
    .integer({ min: 0, max: 0x7bfe })
    .map((code) => (positive[code]! + positive[code + 1]!) / 2),
);

describe('toFloat16Bits / fromFloat16Bits', () => {
  it('decode every code as the binary16 definition says', () => {
    const codes = new Uint16Array(65536).map((_, i) => i);
    const values = fromFloat16Bits(codes);
    const wrong: number[] = [];
    for (let code = 0; code < 65536; code++) {
      const ok = isNaNCode(code)
        ? Number.isNaN(values[code])
        : Object.is(values[code], referenceDecode(code));
      if (!ok) wrong.push(code);
    }
    expect(wrong).toEqual([]);
  });

  it('round-trip every non-NaN code exactly', () => {
    const codes = new Uint16Array(65536).map((_, i) => i);
    const back = toFloat16Bits(fromFloat16Bits(codes));
    const wrong = codes.filter((code) => !isNaNCode(code) && back[code] !== code);
    expect(Array.from(wrong)).toEqual([]);
  });

  it('round to the nearest float16, ties to even', () => {
    fc.assert(
      fc.property(anyFloat, (x) => {
        expect(toFloat16Bits(Float32Array.of(x))[0]).toBe(reference(Math.fround(x)));
      }),
      { numRuns: 5000 },
    );
  });

  it('is monotonic', () => {
    fc.assert(
      fc.property(anyFloat, anyFloat, (a, b) => {
        const [low, high] = a <= b ? [a, b] : [b, a];
        const [x, y] = fromFloat16Bits(toFloat16Bits(Float32Array.of(low, high)));
        expect(x!).toBeLessThanOrEqual(y!);
      }),
    );
  });

  it('saturate clamps finite values to +-65504 and leaves infinities and NaN alone', () => {
    fc.assert(
      fc.property(anyFloat, (x) => {
        const value = fromFloat16Bits(toFloat16Bits([x], { saturate: true }))[0]!;
        if (Number.isFinite(x)) expect(Math.abs(value)).toBeLessThanOrEqual(FLOAT16_MAX);
        if (Math.abs(x) <= FLOAT16_MAX) expect(value).toBe(fromFloat16Bits(toFloat16Bits([x]))[0]);
      }),
    );
    expect(
      Array.from(fromFloat16Bits(toFloat16Bits([1e9, -1e9, Infinity, Number.NaN], { saturate: true }))),
    ).toEqual([FLOAT16_MAX, -FLOAT16_MAX, Infinity, Number.NaN]);
  });
});
