import {
  API_VERSION,
  QuantError,
  type QuantizerOptions,
  type Tensor,
  createRegistry,
  dequantizeLinear,
  validateParams,
} from '@quantkit/core';
import { describeQuantizer, quantErrorOf } from '@quantkit/core/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import defaultExport, { plugin } from './index.js';
import { groupOf, referenceTernarize } from './testing/reference-ternarize.js';
import { createTernaryQuantizer, ternaryQuantizer } from './ternary-quantizer.js';

// ------------------------------------------------------------------------------------------------------------
// Conformance: the same suite every built-in quantizer runs. Ternary codes are not the nearest level, so the
// round-trip properties of linear methods do not apply (nearest: false); the rest (code range, valid params,
// determinism, monotonicity, refusing what the capabilities exclude) does.

const invalidOptions: QuantizerOptions[] = [
  { bits: 8, symmetric: true, granularity: 'channel', axis: 0 },
  { bits: 1, symmetric: true, granularity: 'tensor' },
  { bits: 2, symmetric: false, granularity: 'tensor' },
  { bits: 2, symmetric: true, granularity: 'block', axis: 0, blockSize: 2 },
  { bits: 2, symmetric: true, granularity: 'channel', axis: 2 },
  { bits: 2, symmetric: true, granularity: 'channel', axis: 0.5 },
  { bits: 2, symmetric: true, granularity: 'tensor', signed: false },
];

describeQuantizer(ternaryQuantizer, { nearest: false, invalid: invalidOptions, numRuns: 40 });
describeQuantizer(createTernaryQuantizer({ name: 'ternary-0', thresholdFactor: 0 }), {
  nearest: false,
  cases: [
    { bits: 2, symmetric: true, granularity: 'channel', axis: 1 },
    { bits: 2, symmetric: true, granularity: 'channel', axis: -1 },
  ],
  numRuns: 20,
});

// ------------------------------------------------------------------------------------------------------------
// Against the reference (src/testing/reference-ternarize.ts), on tensors of rank 1 to 4 and every axis.

const shapedWeight = fc
  .array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 })
  .chain((shape) => {
    const size = shape.reduce((a, b) => a * b, 1);
    return fc.record({
      shape: fc.constant(shape),
      axis: fc.integer({ min: 0, max: shape.length - 1 }),
      values: fc.array(
        fc.oneof(
          fc.float({ min: -4, max: 4, noNaN: true, noDefaultInfinity: true }),
          fc.constantFrom(0, 0.5, -0.5),
        ),
        { minLength: size, maxLength: size },
      ),
      factor: fc.constantFrom(0, 0.3, 0.7, 0.95),
    });
  });

describe('ternary quantizer: TWN reference', () => {
  it('matches a hand-worked row: t = 0.7 * mean|W|, a = mean of the kept magnitudes', () => {
    // mean|W| = (0.1 + 0.5 + 0.9 + 0) / 4 = 0.375, t = 0.2625: -0.5 and 0.9 are kept, a = (0.5 + 0.9) / 2 = 0.7.
    const weight: Tensor<'float32'> = { dtype: 'float32', shape: [1, 4], data: Float32Array.of(0.1, -0.5, 0.9, 0) };
    const { codes, params } = ternaryQuantizer.quantizeWeight(weight, {
      bits: 2,
      symmetric: true,
      granularity: 'channel',
      axis: 0,
    });
    expect(Array.from(codes.data)).toEqual([0, -1, 1, 0]);
    expect(params.scale[0]).toBeCloseTo((0.5 + 0.9) / 2, 6);
    expect(codes.dtype).toBe('int8');
    expect(params).toMatchObject({ bits: 2, dtype: 'int8', qmin: -1, qmax: 1, granularity: 'channel', axis: 0 });
  });

  it('gives the reference codes and scales for every granularity and axis', () => {
    fc.assert(
      fc.property(shapedWeight, fc.boolean(), ({ shape, axis, values, factor }, perTensor) => {
        const quantizer = factor === 0.7 ? ternaryQuantizer : createTernaryQuantizer({ thresholdFactor: factor });
        const weight: Tensor<'float32'> = { dtype: 'float32', shape, data: Float32Array.from(values) };
        const { codes, params } = quantizer.quantizeWeight(weight, {
          bits: 2,
          symmetric: true,
          granularity: perTensor ? 'tensor' : 'channel',
          axis,
        });
        const groupAxis = perTensor ? undefined : axis;
        // The reference sees the float32 values the plugin sees.
        const reference = referenceTernarize(weight.data, shape, groupAxis, factor);
        validateParams(shape, params);
        expect(Array.from(codes.data)).toEqual(reference.codes.map((code) => code + 0));
        expect(params.scale.length).toBe(reference.scales.length);
        reference.scales.forEach((scale, group) => {
          expect(params.scale[group]).toBe(Math.fround(scale));
        });
        expect([...params.zeroPoint].every((zeroPoint) => zeroPoint === 0)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('keeps exactly the weights above the threshold, and at least one per group that is not all zero', () => {
    fc.assert(
      fc.property(shapedWeight, ({ shape, axis, values }) => {
        const weight: Tensor<'float32'> = { dtype: 'float32', shape, data: Float32Array.from(values) };
        const { codes } = ternaryQuantizer.quantizeWeight(weight, { bits: 2, symmetric: true, granularity: 'channel', axis });
        const { thresholds } = referenceTernarize(weight.data, shape, axis);
        const keptPerGroup = new Map<number, number>();
        const nonZeroPerGroup = new Map<number, number>();
        weight.data.forEach((value, i) => {
          const group = groupOf(i, shape, axis);
          const above = Math.abs(value) > thresholds[group]!;
          expect(codes.data[i]).toBe(above ? Math.sign(value) : 0);
          if (above) keptPerGroup.set(group, (keptPerGroup.get(group) ?? 0) + 1);
          if (value !== 0) nonZeroPerGroup.set(group, 1);
        });
        for (const group of nonZeroPerGroup.keys()) expect(keptPerGroup.get(group)).toBeGreaterThan(0);
      }),
      { numRuns: 100 },
    );
  });

  it('chooses the scale with the least squared error for its codes', () => {
    fc.assert(
      fc.property(shapedWeight, fc.double({ min: -0.2, max: 0.2, noNaN: true }), ({ shape, axis, values }, delta) => {
        const weight: Tensor<'float32'> = { dtype: 'float32', shape, data: Float32Array.from(values) };
        const { codes, params } = ternaryQuantizer.quantizeWeight(weight, {
          bits: 2,
          symmetric: true,
          granularity: 'channel',
          axis,
        });
        const squaredError = (scaleOf: (group: number) => number) => {
          let sum = 0;
          weight.data.forEach((value, i) => {
            sum += (value - codes.data[i]! * scaleOf(groupOf(i, shape, axis))) ** 2;
          });
          return sum;
        };
        const chosen = squaredError((group) => params.scale[group]!);
        const moved = squaredError((group) => params.scale[group]! * (1 + delta));
        // float32 rounding of the scale may cost a few ulps of the error.
        expect(chosen).toBeLessThanOrEqual(moved * (1 + 1e-6) + 1e-12);
      }),
      { numRuns: 100 },
    );
  });

  it('dequantizes through core as code * scale', () => {
    const weight: Tensor<'float32'> = {
      dtype: 'float32',
      shape: [2, 3],
      data: Float32Array.of(1, -0.2, -1.4, 0.05, 0.3, -0.35),
    };
    const { codes, params } = ternaryQuantizer.quantizeWeight(weight, { bits: 2, symmetric: true, granularity: 'channel', axis: 0 });
    const restored = dequantizeLinear(codes.data, weight.shape, params);
    restored.forEach((value, i) => {
      expect(value).toBe(codes.data[i]! * params.scale[Math.floor(i / 3)]!);
    });
    expect(new Set(Array.from(restored.slice(0, 3), Math.abs)).size).toBeLessThanOrEqual(2);
  });

  it('restores an all-zero channel exactly', () => {
    const weight: Tensor<'float32'> = { dtype: 'float32', shape: [2, 2], data: Float32Array.of(0, 0, 1, -2) };
    const { codes, params } = ternaryQuantizer.quantizeWeight(weight, { bits: 2, symmetric: true, granularity: 'channel', axis: 0 });
    expect(Array.from(codes.data.slice(0, 2))).toEqual([0, 0]);
    validateParams(weight.shape, params);
  });
});

// ------------------------------------------------------------------------------------------------------------
// The plugin value, settings and errors.

describe('ternary quantizer: plugin value', () => {
  it('is exported as default, plugin and ternaryQuantizer, speaks this API version and registers', () => {
    expect(defaultExport).toBe(ternaryQuantizer);
    expect(plugin).toBe(ternaryQuantizer);
    expect(ternaryQuantizer.apiVersion).toBe(API_VERSION);
    expect(ternaryQuantizer.capabilities.bits).toEqual([2]);
    expect(Object.isFrozen(ternaryQuantizer)).toBe(true);
    const registry = createRegistry([ternaryQuantizer]);
    expect(registry.get('quantizer', 'ternary')).toBe(ternaryQuantizer);
    expect(ternaryQuantizer.keepHigherPrecision).toBeUndefined();
  });

  it('can be renamed and asked to keep the first and last layers at 8 bits', () => {
    const keep = createTernaryQuantizer({ name: 'ternary-keep', keepFirstLast: true });
    expect(keep.name).toBe('ternary-keep');
    expect(keep.keepHigherPrecision).toBe('first-last');
    expect(createRegistry([ternaryQuantizer, keep]).list('quantizer')).toHaveLength(2);
  });

  it.each([
    [{ name: '' }, /settings\.name/],
    [{ thresholdFactor: 1 }, /thresholdFactor .* got 1/],
    [{ thresholdFactor: -0.1 }, /thresholdFactor/],
    [{ thresholdFactor: Number.NaN }, /thresholdFactor/],
    [{ keepFirstLast: 'yes' as never }, /keepFirstLast/],
  ])('refuses settings %o', (settings, message) => {
    const error = quantErrorOf(() => createTernaryQuantizer(settings));
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.message).toMatch(message);
  });

  it('names the quantizer, the option and the accepted value in errors', () => {
    const weight: Tensor<'float32'> = { dtype: 'float32', shape: [2], data: Float32Array.of(1, -1) };
    expect(quantErrorOf(() => ternaryQuantizer.quantizeWeight(weight, { bits: 8, symmetric: true, granularity: 'tensor' })).message).toBe(
      'ternary quantizer: options.bits must be 2 (codes -1, 0, +1), got 8',
    );
    const nan: Tensor<'float32'> = { dtype: 'float32', shape: [2], data: Float32Array.of(1, Number.NaN) };
    const error = quantErrorOf(() => ternaryQuantizer.quantizeWeight(nan, { bits: 2, symmetric: true, granularity: 'tensor' }));
    expect(QuantError.is(error, 'INVALID_ARGUMENT')).toBe(true);
    expect(error.message).toMatch(/weight element 1 is NaN/);
    const int8 = { dtype: 'int8', shape: [1], data: Int8Array.of(1) } as unknown as Tensor<'float32'>;
    expect(quantErrorOf(() => ternaryQuantizer.quantizeWeight(int8, { bits: 2, symmetric: true, granularity: 'tensor' })).message).toMatch(
      /float32 tensors, got "int8"/,
    );
  });
});
