import {
  QuantError,
  type QuantizerOptions,
  type Tensor,
  createRegistry,
  dequantizeLinear,
} from '@quantkit/core';
import { describeQuantizer } from '@quantkit/core/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { binaryQuantizer, createBinaryQuantizer } from './binary-quantizer.js';

// ------------------------------------------------------------------------------------------------------------
// Conformance: sign codes are not the nearest level, so the round-trip properties of linear methods do not apply.

const channel = (axis: number): QuantizerOptions => ({
  bits: 1,
  symmetric: true,
  granularity: 'channel',
  axis,
});

describeQuantizer(binaryQuantizer, {
  nearest: false,
  cases: [{ bits: 1, symmetric: true, granularity: 'tensor' }, channel(0), channel(1), channel(-1)],
  invalid: [
    { bits: 2, symmetric: true, granularity: 'channel', axis: 0 },
    { bits: 8, symmetric: true, granularity: 'tensor' },
    { bits: 1, symmetric: false, granularity: 'tensor' },
    { bits: 1, symmetric: true, granularity: 'block', axis: 0, blockSize: 2 },
    { bits: 1, symmetric: true, granularity: 'row' as never },
    { bits: 1, symmetric: true, granularity: 'channel', axis: 2 },
    { bits: 1, symmetric: true, granularity: 'channel', axis: -3 },
    { bits: 1, symmetric: true, granularity: 'channel', axis: 0.5 },
    { bits: 1, symmetric: true, granularity: 'tensor', signed: false },
    { bits: 1, symmetric: true, granularity: 'tensor', reduceRange: true },
  ],
  numRuns: 40,
});
describeQuantizer(createBinaryQuantizer({ name: 'binary-int4', dtype: 'int4' }), {
  nearest: false,
  cases: [{ bits: 1, symmetric: true, granularity: 'tensor' }, channel(1)],
  numRuns: 20,
});

// ------------------------------------------------------------------------------------------------------------
// An independent reference: explicit multi-index arithmetic, float64 sums.

function channelOf(shape: readonly number[], flat: number, axis: number): number {
  let rest = flat;
  let coordinate = 0;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (d === axis) coordinate = rest % shape[d]!;
    rest = Math.floor(rest / shape[d]!);
  }
  return coordinate;
}

function referenceAlphas(weight: Tensor<'float32'>, axis: number | undefined): number[] {
  const groups = axis === undefined ? 1 : weight.shape[axis]!;
  const sums = new Array<number>(groups).fill(0);
  const counts = new Array<number>(groups).fill(0);
  weight.data.forEach((w, i) => {
    const g = axis === undefined ? 0 : channelOf(weight.shape, i, axis);
    sums[g]! += Math.abs(w);
    counts[g]! += 1;
  });
  return sums.map((sum, g) => sum / counts[g]!);
}

const shapedWeight = fc
  .record({
    shape: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 4 }),
    axisPick: fc.nat(),
  })
  .chain(({ shape, axisPick }) => {
    const size = shape.reduce((a, b) => a * b, 1);
    return fc
      .array(fc.float({ min: -50, max: 50, noNaN: true, noDefaultInfinity: true }), {
        minLength: size,
        maxLength: size,
      })
      .map((values) => ({
        weight: { dtype: 'float32', shape, data: Float32Array.from(values) } as Tensor<'float32'>,
        axis: axisPick % shape.length,
      }));
  });

/** ||W - alpha * s||^2 in float64 for fixed signs s, per group. */
function squaredError(
  weight: Tensor<'float32'>,
  codes: ArrayLike<number>,
  alpha: number,
  inGroup: (i: number) => boolean,
) {
  let error = 0;
  for (let i = 0; i < weight.data.length; i++) {
    if (inGroup(i)) error += (weight.data[i]! - alpha * codes[i]!) ** 2;
  }
  return error;
}

describe('binaryQuantizer against an independent reference', () => {
  it('alpha = mean |W| per channel (any rank and axis) and per tensor; codes sign(W) with sign(0) = +1', () => {
    fc.assert(
      fc.property(shapedWeight, fc.boolean(), ({ weight, axis }, perTensor) => {
        const options: QuantizerOptions = perTensor
          ? { bits: 1, symmetric: true, granularity: 'tensor' }
          : channel(axis);
        const { codes, params } = binaryQuantizer.quantizeWeight(weight, options);
        const expected = referenceAlphas(weight, perTensor ? undefined : axis);
        expect(params.scale.length).toBe(expected.length);
        expected.forEach((alpha, g) => {
          // Scales must be positive normal float32s: tiny means are raised to 2^-126.
          const want = Math.max(Math.fround(alpha), 2 ** -126);
          expect(params.scale[g]).toBe(want);
        });
        expect(Array.from(codes.data)).toEqual(Array.from(weight.data, (w) => (w < 0 ? -1 : 1)));
        expect(params.axis).toBe(perTensor ? undefined : axis);
        expect([params.bits, params.qmin, params.qmax, params.dtype]).toEqual([1, -1, 1, 'int8']);
      }),
      { numRuns: 150 },
    );
  });

  it('worked example: rows [0, -2, 4] and [-1, -1, 1]', () => {
    const weight: Tensor<'float32'> = {
      dtype: 'float32',
      shape: [2, 3],
      data: Float32Array.of(0, -2, 4, -1, -1, 1),
    };
    const { codes, params } = binaryQuantizer.quantizeWeight(weight, channel(0));
    // mean |.| = 6/3 = 2 and 3/3 = 1; sign(0) = +1
    expect(Array.from(params.scale)).toEqual([2, 1]);
    expect(Array.from(codes.data)).toEqual([1, -1, 1, -1, -1, 1]);
    expect(Array.from(dequantizeLinear(codes.data, weight.shape, params))).toEqual([2, -2, 2, -1, -1, 1]);
    const columns = binaryQuantizer.quantizeWeight(weight, channel(1));
    // columns: |0|,|-1| -> 0.5; |-2|,|-1| -> 1.5; |4|,|1| -> 2.5
    expect(Array.from(columns.params.scale)).toEqual([0.5, 1.5, 2.5]);
  });

  it('sign(-0) = +1 as for +0, and an all-zero channel gets the smallest normal scale', () => {
    const weight: Tensor<'float32'> = {
      dtype: 'float32',
      shape: [2, 2],
      data: Float32Array.of(-0, 0, 3, -1),
    };
    const { codes, params } = binaryQuantizer.quantizeWeight(weight, channel(0));
    expect(Array.from(codes.data)).toEqual([1, 1, 1, -1]);
    expect(Array.from(params.scale)).toEqual([2 ** -126, 2]);
  });

  it('property: alpha = mean |W| minimises ||W - alpha * sign(W)||^2 against perturbed alphas', () => {
    fc.assert(
      fc.property(
        shapedWeight,
        fc.double({ min: 1e-3, max: 2, noNaN: true }),
        fc.boolean(),
        ({ weight, axis }, delta, down) => {
          const { codes, params } = binaryQuantizer.quantizeWeight(weight, channel(axis));
          for (let g = 0; g < params.scale.length; g++) {
            const alpha = params.scale[g]!;
            const inGroup = (i: number) => channelOf(weight.shape, i, axis) === g;
            const best = squaredError(weight, codes.data, alpha, inGroup);
            const perturbed = alpha * (down ? Math.max(0, 1 - delta) : 1 + delta);
            // alpha is the float32 of the optimum: allow the rounding's own (quadratic, tiny) cost.
            expect(best).toBeLessThanOrEqual(
              squaredError(weight, codes.data, perturbed, inGroup) * (1 + 1e-12) + 1e-30,
            );
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('int4 storage holds the same codes and scales', () => {
    const weight: Tensor<'float32'> = {
      dtype: 'float32',
      shape: [2, 3],
      data: Float32Array.of(0.5, -2, 4, -1, 3, 1),
    };
    const int4 = createBinaryQuantizer({ dtype: 'int4' }).quantizeWeight(weight, channel(0));
    const int8 = binaryQuantizer.quantizeWeight(weight, channel(0));
    expect(int4.codes.dtype).toBe('int4');
    expect(int4.params.dtype).toBe('int4');
    expect(Array.from(int4.codes.data)).toEqual(Array.from(int8.codes.data));
    expect(Array.from(int4.params.scale)).toEqual(Array.from(int8.params.scale));
  });
});

describe('binaryQuantizer plugin value', () => {
  it('declares 1-bit symmetric tensor/channel weights, packing, and keeps first and last layers by default', () => {
    expect(binaryQuantizer.name).toBe('binary');
    expect(binaryQuantizer.capabilities).toEqual({
      bits: [1],
      granularities: ['tensor', 'channel'],
      symmetric: [true],
      activations: false,
    });
    expect(binaryQuantizer.paramsForRange).toBeUndefined();
    expect(binaryQuantizer.keepHigherPrecision).toBe('first-last');
    expect(binaryQuantizer.packing).toBeDefined();
    expect(createBinaryQuantizer({ keepHigherPrecision: 'none' }).keepHigherPrecision).toBeUndefined();
    expect(createRegistry([binaryQuantizer]).get('quantizer', 'binary')).toBe(binaryQuantizer);
  });

  it.each([
    [{ name: '' }, /settings\.name/],
    [{ dtype: 'uint8' }, /settings\.dtype must be "int8" or "int4", got "uint8"/],
    [{ keepHigherPrecision: 'all' }, /settings\.keepHigherPrecision must be "first-last" or "none"/],
  ])('refuses settings %j', (settings, message) => {
    expect(() => createBinaryQuantizer(settings as never)).toThrow(message);
  });

  it('names the bad option, the non-finite element and the wrong dtype', () => {
    const weight: Tensor<'float32'> = {
      dtype: 'float32',
      shape: [2, 2],
      data: Float32Array.of(1, Number.NaN, 0, 1),
    };
    const run = (w: Tensor<'float32'>, options: QuantizerOptions) => () =>
      binaryQuantizer.quantizeWeight(w, options);
    expect(run(weight, { bits: 4, symmetric: true, granularity: 'tensor' })).toThrow(
      /options\.bits must be 1.*got 4/,
    );
    expect(run(weight, channel(5))).toThrow(/options\.axis 5 .*from -2 to 1/);
    expect(run(weight, channel(0))).toThrow(/NaN at flat index 1/);
    const int32 = { dtype: 'int32', shape: [1], data: Int32Array.of(1) } as unknown as Tensor<'float32'>;
    let caught: unknown;
    try {
      binaryQuantizer.quantizeWeight(int32, channel(0));
    } catch (error) {
      caught = error;
    }
    expect(QuantError.is(caught, 'INVALID_ARGUMENT')).toBe(true);
    expect((caught as Error).message).toMatch(/float32 tensors, got int32/);
  });
});
