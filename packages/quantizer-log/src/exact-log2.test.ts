import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ceilLog2,
  exactPow2,
  exponentOfPowerOfTwo,
  floorLog2,
  floorLogIndex,
  nearestLinearExponent,
  roundLogIndex,
} from './exact-log2.js';

// References built from the float's bits and from exact integer arithmetic (BigInt), not from Math.log2.

/** The float64 exponent field of a normal double (every float32 is a normal double). */
function exponentField(a: number): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, a);
  return ((view.getUint32(0) >>> 20) & 0x7ff) - 1023;
}

/** A float32 value as mantissa * 2^(exponent - 23) with an integer 24-bit mantissa. */
function float32Parts(a: number): { mantissa: bigint; exponent: number } {
  const view = new DataView(new ArrayBuffer(4));
  view.setFloat32(0, a);
  const bits = view.getUint32(0);
  const field = (bits >>> 23) & 0xff;
  const fraction = bits & 0x7fffff;
  if (field === 0) return { mantissa: BigInt(fraction), exponent: -126 }; // subnormal
  return { mantissa: BigInt(fraction | 0x800000), exponent: field - 127 };
}

/** Whether a^p >= 2^q for a positive float32 a and integers p >= 1, q: exact, by integer powers. */
function powerAtLeast(a: number, p: number, q: number): boolean {
  const { mantissa, exponent } = float32Parts(a);
  // a^p = mantissa^p * 2^(p * (exponent - 23)); compare mantissa^p with 2^(q - p * (exponent - 23)).
  const shift = q - p * (exponent - 23);
  const left = mantissa ** BigInt(p);
  return shift >= 0 ? left >= 1n << BigInt(shift) : left << BigInt(-shift) >= 1n;
}

/** round(steps * log2 a) by exact comparisons: the largest k with a^(2 steps) >= 2^(2k - 1). */
function referenceRoundIndex(a: number, steps: number): number {
  let k = Math.floor(steps * Math.log2(a)) - 2;
  while (powerAtLeast(a, 2 * steps, 2 * (k + 1) - 1)) k++;
  return k;
}

/** floor(steps * log2 a): the largest k with a^steps >= 2^k. */
function referenceFloorIndex(a: number, steps: number): number {
  let k = Math.floor(steps * Math.log2(a)) - 2;
  while (powerAtLeast(a, steps, k + 1)) k++;
  return k;
}

const positiveFloat32 = fc.float({ min: Math.fround(2 ** -149), max: Math.fround(3e38), noNaN: true });
/** Float32 values packed near the log-domain boundaries of the 16-step grid, where rounding is decided. */
const nearBoundary = fc
  .record({
    k: fc.integer({ min: -300, max: 300 }),
    half: fc.boolean(),
    ulps: fc.integer({ min: -3, max: 3 }),
  })
  .map(({ k, half, ulps }) => {
    const boundary = Math.fround(2 ** ((k + (half ? 0.5 : 0)) / 16));
    const view = new DataView(new ArrayBuffer(4));
    view.setFloat32(0, boundary);
    view.setUint32(0, view.getUint32(0) + ulps);
    return view.getFloat32(0);
  });

describe('exactPow2', () => {
  it('is exact from 2^-1074 to 2^1023', () => {
    let up = 1;
    for (let e = 0; e <= 1023; e++, up *= 2) expect(exactPow2(e)).toBe(up);
    let down = 1;
    for (let e = 0; e >= -1074; e--, down /= 2) expect(exactPow2(e)).toBe(down);
  });
});

describe('floorLog2, ceilLog2, exponentOfPowerOfTwo', () => {
  it('floorLog2 is the exponent field of the double', () => {
    fc.assert(
      fc.property(positiveFloat32, (a) => {
        expect(floorLog2(a)).toBe(exponentField(a));
      }),
      { numRuns: 500 },
    );
  });
  it('is exact at and next to powers of two', () => {
    for (let e = -149; e <= 127; e++) {
      const p = 2 ** e;
      expect(floorLog2(p)).toBe(e);
      expect(ceilLog2(p)).toBe(e);
      expect(exponentOfPowerOfTwo(p)).toBe(e);
      if (e > -126) {
        const below = p * (1 - 2 ** -24);
        expect(floorLog2(below)).toBe(e - 1);
        expect(ceilLog2(below)).toBe(e);
        expect(exponentOfPowerOfTwo(below)).toBeUndefined();
      }
    }
    expect(exponentOfPowerOfTwo(0)).toBeUndefined();
    expect(exponentOfPowerOfTwo(-2)).toBeUndefined();
    expect(exponentOfPowerOfTwo(Number.POSITIVE_INFINITY)).toBeUndefined();
  });
});

describe('roundLogIndex and floorLogIndex', () => {
  for (const steps of [1, 16]) {
    it(`match exact integer comparisons for random float32 values (${steps} steps per octave)`, () => {
      fc.assert(
        fc.property(positiveFloat32, (a) => {
          expect(roundLogIndex(a, steps)).toBe(referenceRoundIndex(a, steps));
          expect(floorLogIndex(a, steps)).toBe(referenceFloorIndex(a, steps));
        }),
        { numRuns: 300 },
      );
    });
  }

  it('decide values within a few ulps of a boundary exactly (16 steps per octave)', () => {
    fc.assert(
      fc.property(nearBoundary, (a) => {
        expect(roundLogIndex(a, 16)).toBe(referenceRoundIndex(a, 16));
        expect(floorLogIndex(a, 16)).toBe(referenceFloorIndex(a, 16));
      }),
      { numRuns: 500 },
    );
  });

  it('decide values next to sqrt 2 exactly (1 step per octave)', () => {
    for (let e = -140; e <= 120; e += 7) {
      const boundary = Math.fround(Math.SQRT2 * 2 ** e);
      for (const a of [
        boundary,
        Math.fround(boundary * (1 - 2 ** -23)),
        Math.fround(boundary * (1 + 2 ** -23)),
      ]) {
        expect(roundLogIndex(a, 1)).toBe(referenceRoundIndex(a, 1));
      }
    }
  });
});

describe('nearestLinearExponent', () => {
  it('picks the nearer power of two, ties (1.5 * 2^e) to the larger', () => {
    fc.assert(
      fc.property(positiveFloat32, (a) => {
        const e = exponentField(a);
        const low = 2 ** e;
        const high = 2 ** (e + 1);
        const expected = high - a <= a - low ? e + 1 : e;
        expect(nearestLinearExponent(a)).toBe(expected);
      }),
      { numRuns: 300 },
    );
    expect(nearestLinearExponent(1.5)).toBe(1);
    expect(nearestLinearExponent(Math.fround(1.5 - 2 ** -23))).toBe(0);
    expect(nearestLinearExponent(0.75)).toBe(0);
  });
});
