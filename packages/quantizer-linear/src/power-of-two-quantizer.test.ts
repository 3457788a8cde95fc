import {
  QuantError,
  type QuantizerOptions,
  type Tensor,
  dequantizeLinear,
  validateParams,
} from '@quantkit/core';
import { describeQuantizer } from '@quantkit/core/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { powerOfTwoParamsForRange } from './power-of-two-params-for-range.js';
import { createPowerOfTwoQuantizer, powerOfTwoQuantizer } from './power-of-two-quantizer.js';

describeQuantizer(powerOfTwoQuantizer, {
  invalid: [
    { bits: 8, symmetric: false, granularity: 'tensor' },
    { bits: 8, symmetric: true, signed: false, granularity: 'tensor' },
    { bits: 17, symmetric: true, granularity: 'tensor' },
    { bits: 8, symmetric: true, granularity: 'block', axis: 1, blockSize: -4 },
    { bits: 8, symmetric: true, granularity: 'channel', axis: 5 },
    { bits: 8, symmetric: true, granularity: 'group' as never },
  ],
  numRuns: 30,
});
describeQuantizer(powerOfTwoQuantizer, {
  cases: [
    { bits: 4, symmetric: true, granularity: 'channel', axis: -1, restrictedRange: true },
    { bits: 16, symmetric: true, granularity: 'block', axis: 1, blockSize: 5 },
    { bits: 8, symmetric: true, granularity: 'tensor', reduceRange: true },
  ],
  numRuns: 20,
});

/** The exponent of an exact power of two, or NaN. Checks by bit pattern, not by log2 (which rounds). */
function exactExponent(value: number): number {
  const view = new DataView(new ArrayBuffer(4));
  view.setFloat32(0, value);
  const bits = view.getUint32(0);
  const mantissa = bits & 0x7fffff;
  const exponent = (bits >>> 23) & 0xff;
  if (bits >>> 31 !== 0 || mantissa !== 0 || exponent === 0 || exponent === 0xff) return Number.NaN;
  return exponent - 127;
}

function range(min: number, max: number) {
  return { min: Float32Array.of(min), max: Float32Array.of(max) };
}

const int8: QuantizerOptions = { bits: 8, symmetric: true, granularity: 'tensor' };

describe('powerOfTwoParamsForRange', () => {
  it('picks the smallest power of two whose codes cover the range (computed by hand)', () => {
    // [-1, 0.5]: -128 * 2^-7 = -1 covers -1; 2^-8 would reach only -0.5.
    expect(powerOfTwoParamsForRange(range(-1, 0.5), int8).scale[0]).toBe(2 ** -7);
    // [0, 1]: 127 * 2^-7 = 0.992 < 1, so 2^-6.
    expect(powerOfTwoParamsForRange(range(0, 1), int8).scale[0]).toBe(2 ** -6);
    // 4-bit [-3, 3]: codes -8..7; 7 * 0.25 = 1.75 < 3 <= 7 * 0.5.
    const int4 = powerOfTwoParamsForRange(range(-3, 3), { bits: 4, symmetric: true, granularity: 'tensor' });
    expect(int4.scale[0]).toBe(0.5);
    expect(int4.dtype).toBe('int4');
    // Ranges exactly on a power of two: 127 * 2^0 = 127 covers 127 exactly.
    expect(powerOfTwoParamsForRange(range(-5, 127), int8).scale[0]).toBe(1);
  });

  it('gives [0, 0] scale 1 and clamps the exponent to float32 normal powers of two', () => {
    expect(powerOfTwoParamsForRange(range(0, 0), int8).scale[0]).toBe(1);
    expect(powerOfTwoParamsForRange(range(0, 1e-44), int8).scale[0]).toBe(2 ** -126);
    const huge = powerOfTwoParamsForRange(range(-3.4e38, 3.4e38), {
      bits: 2,
      symmetric: true,
      granularity: 'tensor',
    });
    expect(huge.scale[0]).toBe(2 ** 127);
  });

  it('has zero points 0 and is signed', () => {
    const params = powerOfTwoParamsForRange(
      { min: Float32Array.of(-1, -3), max: Float32Array.of(2, 0), axis: 0 },
      { bits: 6, symmetric: true, granularity: 'channel', axis: 0 },
    );
    expect(Array.from(params.zeroPoint)).toEqual([0, 0]);
    expect([params.qmin, params.qmax]).toEqual([-32, 31]);
  });

  it('refuses asymmetric and unsigned options, naming the option', () => {
    for (const [options, pattern] of [
      [{ ...int8, symmetric: false }, /options\.symmetric must be true/],
      [{ ...int8, signed: false }, /options\.signed must be true or absent/],
    ] as const) {
      let error: unknown;
      try {
        powerOfTwoParamsForRange(range(-1, 1), options);
      } catch (caught) {
        error = caught;
      }
      expect(QuantError.is(error, 'INVALID_ARGUMENT')).toBe(true);
      expect((error as Error).message).toMatch(pattern);
      expect((error as Error).message).toMatch(/^pow2 quantizer: /);
    }
  });

  it('property: every scale is an exact power of two that covers the range, and half of it does not', () => {
    fc.assert(
      fc.property(
        fc.float({ min: Math.fround(-1e6), max: 0, noNaN: true }),
        fc.float({ min: 0, max: Math.fround(1e6), noNaN: true }),
        fc.integer({ min: 2, max: 16 }),
        fc.boolean(),
        (min, max, bits, restrictedRange) => {
          const params = powerOfTwoParamsForRange(range(min, max), {
            bits,
            symmetric: true,
            granularity: 'tensor',
            restrictedRange,
          });
          const scale = params.scale[0]!;
          const exponent = exactExponent(scale);
          expect(Number.isInteger(exponent)).toBe(true);
          if (min === 0 && max === 0) return;
          const covers = (s: number) => params.qmin * s <= min && params.qmax * s >= max;
          expect(covers(scale)).toBe(true);
          if (exponent > -126) expect(covers(scale / 2)).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('powerOfTwoQuantizer', () => {
  it('quantizes per channel with one exact power-of-two scale per channel, codes shifted not divided', () => {
    const weight: Tensor<'float32'> = {
      dtype: 'float32',
      shape: [2, 3],
      data: Float32Array.of(0.5, -0.25, 0.125, 10, -20, 3),
    };
    const { codes, params } = powerOfTwoQuantizer.quantizeWeight(weight, {
      bits: 8,
      symmetric: true,
      granularity: 'channel',
      axis: 0,
    });
    validateParams(weight.shape, params);
    // Channel 0: absmax 0.5 on the positive side needs 127 * s >= 0.5 -> s = 2^-7 (2^-8 reaches 0.496).
    // Channel 1: -20 needs -128 * s <= -20 -> s = 2^-2 (2^-3 reaches -16).
    expect(Array.from(params.scale)).toEqual([2 ** -7, 2 ** -2]);
    expect(Array.from(codes.data)).toEqual([64, -32, 16, 40, -80, 12]);
    // Every value here is a multiple of its scale, so the round trip is exact.
    expect(Array.from(dequantizeLinear(codes.data, weight.shape, params))).toEqual(Array.from(weight.data));
  });

  it('is a fresh value per factory call, with a configurable name', () => {
    const custom = createPowerOfTwoQuantizer({ name: 'ristretto', defaults: { restrictedRange: true } });
    expect(custom.name).toBe('ristretto');
    expect(custom.capabilities.symmetric).toEqual([true]);
    expect(custom.paramsForRange!(range(-1, 1), int8).qmin).toBe(-127);
    expect(() => createPowerOfTwoQuantizer({ defaults: { symmetric: false } })).toThrow(
      /settings\.defaults\.symmetric/,
    );
  });
});
