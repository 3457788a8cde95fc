import { type LinearQuantParams, createTensor, fakeQuantize } from '@quantkit/core';
import { quantErrorOf } from '@quantkit/core/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mseWeightRange } from './mse-weight-range.js';
import { laplaceSamples } from './test-samples.js';

/** Squared error of symmetric restricted-range quantization of `values` to `bits` bits with threshold t. */
function symmetricError(values: Float32Array, t: number, bits: number): number {
  const qmax = 2 ** (bits - 1) - 1;
  const params: LinearQuantParams = {
    scale: Float32Array.of(t / qmax),
    zeroPoint: Int32Array.of(0),
    granularity: 'tensor',
    bits,
    dtype: 'int8',
    qmin: -qmax,
    qmax,
  };
  const approximated = fakeQuantize(values, [values.length], params);
  return values.reduce((sum, v, i) => sum + (v - approximated[i]!) ** 2, 0);
}

/** Column c of a row-major [rows, columns] matrix. */
function column(data: Float32Array, columns: number, c: number): Float32Array {
  return Float32Array.from({ length: data.length / columns }, (_, r) => data[r * columns + c]!);
}

describe('mseWeightRange', () => {
  it('per channel: no clip ratio of the grid quantizes a channel with less error, and min-max is never better', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.constantFrom(2, 4, 8), (seed, bits) => {
        const rows = 64;
        const columns = 3;
        const data = laplaceSamples(rows * columns, 1, seed);
        const range = mseWeightRange(createTensor('float32', [rows, columns], data), { bits, symmetric: true, axis: 1 });
        expect(range.axis).toBe(1);
        for (let c = 0; c < columns; c++) {
          const values = column(data, columns, c);
          const maxAbs = Math.max(...Array.from(values, Math.abs));
          const t = range.max[c]!;
          expect(range.min[c]).toBe(-t);
          const chosen = symmetricError(values, t, bits);
          for (let k = 50; k <= 100; k += 7) {
            expect(chosen).toBeLessThanOrEqual(symmetricError(values, (maxAbs * k) / 100, bits) * (1 + 1e-6) + 1e-12);
          }
        }
      }),
      { numRuns: 25 },
    );
  });

  it('clips heavy-tailed 4-bit weights and keeps uniform ones', () => {
    const laplace = laplaceSamples(4096, 1, 9);
    const maxAbs = Math.max(...Array.from(laplace, Math.abs));
    const clipped = mseWeightRange(createTensor('float32', [4096], laplace), { bits: 4, symmetric: true });
    expect(clipped.max[0]!).toBeLessThan(0.8 * maxAbs);
    const uniform = Float32Array.from({ length: 4096 }, (_, i) => (i / 4095) * 2 - 1);
    const kept = mseWeightRange(createTensor('float32', [4096], uniform), { bits: 8, symmetric: true });
    expect(kept.max[0]!).toBeGreaterThan(0.97);
  });

  it('asymmetric: returns a sub-range of the extremes per channel along axis 0', () => {
    const data = laplaceSamples(2 * 500, 1, 4).map((v, i) => (i < 500 ? v + 2 : v * 3));
    const range = mseWeightRange(createTensor('float32', [2, 500], data), { bits: 4, symmetric: false, axis: 0 });
    expect(range.axis).toBe(0);
    for (let c = 0; c < 2; c++) {
      const channel = data.subarray(c * 500, (c + 1) * 500);
      expect(range.min[c]!).toBeGreaterThanOrEqual(Math.min(...channel) - 1e-6);
      expect(range.max[c]!).toBeLessThanOrEqual(Math.max(...channel) + 1e-6);
      expect(range.min[c]!).toBeLessThan(range.max[c]!);
    }
  });

  it('validates bits, dtype and axis', () => {
    const weight = createTensor('float32', [2, 2], Float32Array.of(1, 2, 3, 4));
    expect(quantErrorOf(() => mseWeightRange(weight, { bits: 1, symmetric: true })).message).toMatch(/bits must be/);
    expect(quantErrorOf(() => mseWeightRange(weight, { bits: 8, symmetric: true, axis: 2 })).code).toBe('INVALID_ARGUMENT');
    const int = createTensor('int32', [1], Int32Array.of(1)) as unknown as Parameters<typeof mseWeightRange>[0];
    expect(quantErrorOf(() => mseWeightRange(int, { bits: 8, symmetric: true })).message).toMatch(/must be float32/);
    const zeros = mseWeightRange(createTensor('float32', [3], new Float32Array(3)), { bits: 8, symmetric: true });
    expect([zeros.min[0], zeros.max[0]]).toEqual([-0, 0]);
  });
});
