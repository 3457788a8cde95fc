import { QuantError } from '@quantkit/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { binarizeActivations } from './binarize-activations.js';

describe('binarizeActivations', () => {
  it('documents its example', () => {
    const { codes, scale } = binarizeActivations([0.5, -1.5, 0, 2], [4]);
    expect(Array.from(codes.data)).toEqual([1, -1, 1, 1]);
    expect(codes.shape).toEqual([4]);
    expect(scale).toBe(1);
  });

  it('property: scale = mean |x| (float32), codes sign(x) with sign(0) = +1, and the scale is the least-squares one', () => {
    fc.assert(
      fc.property(
        fc.array(fc.float({ min: -100, max: 100, noNaN: true }), { minLength: 1, maxLength: 60 }),
        fc.double({ min: 1e-3, max: 1, noNaN: true }),
        (values, delta) => {
          const { codes, scale } = binarizeActivations(values, [values.length]);
          const mean = values.reduce((sum, v) => sum + Math.abs(v), 0) / values.length;
          expect(scale).toBe(Math.fround(mean));
          expect(Array.from(codes.data)).toEqual(values.map((v) => (v < 0 ? -1 : 1)));
          // mean|x| is the least-squares scale for sign codes; `scale` is its float32 rounding (checked above),
          // which on subnormal inputs is too coarse to compare against perturbations, so test the exact mean.
          const error = (s: number) => values.reduce((sum, v, i) => sum + (v - s * codes.data[i]!) ** 2, 0);
          expect(error(mean)).toBeLessThanOrEqual(error(mean * (1 + delta)) * (1 + 1e-12));
          expect(error(mean)).toBeLessThanOrEqual(error(mean * (1 - delta)) * (1 + 1e-12) + 1e-300);
        },
      ),
      // This seed once drew two subnormal floats, where the float32 scale is not within 1e-12 of the optimum.
      { numRuns: 100, examples: [[[1.5414283107572988e-44, 1.961817850054744e-44], 0.001]] },
    );
  });

  it('gives scale 0 for all-zero activations, which reconstruct exactly', () => {
    expect(binarizeActivations(new Float32Array(6), [2, 3]).scale).toBe(0);
  });

  it.each([
    [[1, Number.POSITIVE_INFINITY], [2], /Infinity at flat index 1/],
    [[1, 2, 3], [2, 2], /has 4 elements, got 3 values/],
  ])('refuses %j', (values, shape, message) => {
    let caught: unknown;
    try {
      binarizeActivations(values, shape);
    } catch (error) {
      caught = error;
    }
    expect(QuantError.is(caught, 'INVALID_ARGUMENT')).toBe(true);
    expect((caught as Error).message).toMatch(message);
  });
});
