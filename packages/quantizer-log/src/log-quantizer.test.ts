import {
  QuantError,
  type QuantizerOptions,
  type Tensor,
  createRegistry,
  validateParams,
} from '@quantkit/core';
import { describeQuantizer } from '@quantkit/core/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dequantizeQuantized } from './dequantize-quantized.js';
import { logFsrForRange } from './log-fsr-for-range.js';
import { createLogQuantizer, logQuantizer } from './log-quantizer.js';

// ------------------------------------------------------------------------------------------------------------
// Conformance. Log codes are not the nearest linear level, so the suite runs with nearest: false.

const invalid: QuantizerOptions[] = [
  { bits: 2, symmetric: true, granularity: 'tensor' },
  { bits: 9, symmetric: true, granularity: 'tensor' },
  { bits: 4.5, symmetric: true, granularity: 'tensor' },
  { bits: 4, symmetric: false, granularity: 'tensor' },
  { bits: 4, symmetric: true, granularity: 'block', axis: 0, blockSize: 2 },
  { bits: 4, symmetric: true, granularity: 'channel', axis: 2 },
  { bits: 4, symmetric: true, granularity: 'channel', axis: -3 },
  { bits: 4, symmetric: true, granularity: 'row' as never },
];

describeQuantizer(logQuantizer, {
  nearest: false,
  invalid,
  numRuns: 20,
  cases: [3, 4, 5, 6, 7, 8].flatMap((bits) =>
    (['tensor', 'channel'] as const).map(
      (granularity): QuantizerOptions => ({
        bits,
        symmetric: true,
        granularity,
        axis: bits % 2 === 0 ? 0 : -1,
      }),
    ),
  ),
});
describeQuantizer(createLogQuantizer({ name: 'log-linear-rounding', rounding: 'linear', fsr: 'ceil' }), {
  nearest: false,
  numRuns: 15,
});
describeQuantizer(createLogQuantizer({ name: 'log-lookup', form: 'lookup' }), {
  nearest: false,
  numRuns: 15,
});

// ------------------------------------------------------------------------------------------------------------
// An independent reference: enumerate every level of a group and pick one by the rule, in float64 with Math.log2.

interface Reference {
  readonly fsr: number;
  readonly values: number[];
}

function clampFsr(e: number): number {
  return Math.min(Math.max(e, -126), 127);
}

/** The reference quantization of one group of values. */
function referenceGroup(
  values: readonly number[],
  bits: number,
  rounding: 'log' | 'linear',
  fsrRule: 'round' | 'ceil',
): Reference {
  const maxAbs = Math.max(0, ...values.map(Math.abs));
  const magnitudes = 2 ** (bits - 1) - 1;
  let fsr = 0;
  if (maxAbs > 0) {
    const log = Math.log2(maxAbs);
    if (fsrRule === 'ceil') fsr = Math.ceil(log);
    else if (rounding === 'log') fsr = Math.round(log);
    else {
      const low = Math.floor(log);
      fsr = maxAbs - 2 ** low >= 2 ** (low + 1) - maxAbs ? low + 1 : low;
    }
    fsr = clampFsr(fsr);
  }
  const exponents: number[] = [];
  for (let e = fsr - magnitudes + 1; e <= fsr; e++) if (e >= -149) exponents.push(e);
  const lowest = exponents[0]!;
  const pick = (x: number): number => {
    if (x === 0) return 0;
    const sign = Math.sign(x);
    const a = Math.abs(x);
    if (rounding === 'log') {
      // Zero below the log-domain midpoint between "one step below the range" and the lowest level.
      if (Math.log2(a) < lowest - 0.5) return 0;
      let best = exponents[0]!;
      for (const e of exponents) if (Math.abs(Math.log2(a) - e) < Math.abs(Math.log2(a) - best)) best = e;
      return sign * 2 ** best;
    }
    let best = 0;
    for (const e of exponents) if (Math.abs(a - 2 ** e) <= Math.abs(a - best)) best = 2 ** e;
    return best === 0 ? 0 : sign * best;
  };
  return { fsr, values: values.map(pick) };
}

/** Whether log2|x| is too close to a rounding boundary for Math.log2 to be trusted by the reference. */
function nearLogBoundary(x: number): boolean {
  if (x === 0) return false;
  const log = Math.log2(Math.abs(x));
  return Math.abs(log - Math.floor(log) - 0.5) < 1e-9;
}

const weightArbitrary = fc
  .record({
    rows: fc.integer({ min: 1, max: 5 }),
    cols: fc.integer({ min: 1, max: 9 }),
    center: fc.integer({ min: -30, max: 20 }),
    spread: fc.integer({ min: 1, max: 20 }),
  })
  .chain(({ rows, cols, center, spread }) =>
    fc
      .array(
        fc.record({
          zero: fc.integer({ min: 0, max: 9 }),
          negative: fc.boolean(),
          exponent: fc.double({ min: -spread, max: 0.5, noNaN: true }),
        }),
        { minLength: rows * cols, maxLength: rows * cols },
      )
      .map(
        (entries): Tensor<'float32'> => ({
          dtype: 'float32',
          shape: [rows, cols],
          data: Float32Array.from(entries, ({ zero, negative, exponent }) =>
            zero === 0 ? 0 : (negative ? -1 : 1) * 2 ** (center + exponent),
          ),
        }),
      ),
  )
  .filter((weight) => !weight.data.some(nearLogBoundary));

/** Splits a [rows, cols] weight into groups (per tensor, per row for axis 0, per column for axis 1). */
function groupIndices(shape: readonly number[], granularity: 'tensor' | 'channel', axis: number): number[][] {
  const [rows, cols] = shape as [number, number];
  if (granularity === 'tensor') return [Array.from({ length: rows * cols }, (_, i) => i)];
  if (axis === 0)
    return Array.from({ length: rows }, (_, r) => Array.from({ length: cols }, (_, c) => r * cols + c));
  return Array.from({ length: cols }, (_, c) => Array.from({ length: rows }, (_, r) => r * cols + c));
}

const settingsCases = [
  { rounding: 'log', fsr: 'round' },
  { rounding: 'linear', fsr: 'round' },
  { rounding: 'log', fsr: 'ceil' },
] as const;

describe('log quantizer against the enumerated reference', () => {
  for (const rules of settingsCases) {
    const quantizer = createLogQuantizer(rules);
    for (const granularity of ['tensor', 'channel'] as const) {
      it(`${rules.rounding} rounding, fsr ${rules.fsr}, per ${granularity}: the same levels for every value`, () => {
        fc.assert(
          fc.property(
            weightArbitrary,
            fc.integer({ min: 3, max: 8 }),
            fc.integer({ min: 0, max: 1 }),
            (weight, bits, axis) => {
              const quantized = quantizer.quantizeWeight(weight, {
                bits,
                symmetric: true,
                granularity,
                axis,
              });
              const restored = dequantizeQuantized(quantized);
              for (const indices of groupIndices(weight.shape, granularity, axis)) {
                const reference = referenceGroup(
                  indices.map((i) => weight.data[i]!),
                  bits,
                  rules.rounding,
                  rules.fsr,
                );
                indices.forEach((i, k) => {
                  expect(restored[i]).toBe(reference.values[k]);
                });
              }
            },
          ),
          { numRuns: 60 },
        );
      });
    }
  }

  it('has exactly 2^b - 1 distinct values per group, the exponents FSR - 2^(b-1) + 2 .. FSR', () => {
    for (let bits = 3; bits <= 8; bits++) {
      // A dense sweep over 140 octaves below 2^3 and their negatives, plus zero.
      const values = [0];
      for (let x = 3; x > -140; x -= 1 / 8) values.push(2 ** x, -(2 ** x));
      const weight: Tensor<'float32'> = {
        dtype: 'float32',
        shape: [values.length],
        data: Float32Array.from(values),
      };
      const restored = dequantizeQuantized(
        logQuantizer.quantizeWeight(weight, { bits, symmetric: true, granularity: 'tensor' }),
      );
      const distinct = [...new Set(restored)].sort((a, b) => a - b);
      expect(distinct.length).toBe(2 ** bits - 1);
      const exponents = distinct.filter((v) => v > 0).map(Math.log2);
      expect(exponents[0]).toBe(3 - 2 ** (bits - 1) + 2);
      expect(exponents[exponents.length - 1]).toBe(3);
    }
  });

  it('chooses FSR from max|w| per rule: 0.3 -> round -2 (log2 = -1.74), ceil -1', () => {
    const weight: Tensor<'float32'> = {
      dtype: 'float32',
      shape: [3],
      data: Float32Array.of(0.3, -0.06, 0.01),
    };
    const options = { bits: 3, symmetric: true, granularity: 'tensor' } as const;
    // FSR -2: levels 2^-4..2^-2; 0.06 (log2 -4.06) -> 2^-4; 0.01 (log2 -6.64) is below 2^-4.5 -> 0.
    expect(Array.from(dequantizeQuantized(logQuantizer.quantizeWeight(weight, options)))).toEqual([
      0.25,
      -(2 ** -4),
      0,
    ]);
    // FSR -1: levels 2^-3..2^-1; 0.3 still rounds to 2^-2, 0.06 is below 2^-3.5 -> 0.
    const ceil = createLogQuantizer({ fsr: 'ceil' });
    expect(Array.from(dequantizeQuantized(ceil.quantizeWeight(weight, options)))).toEqual([0.25, 0, 0]);
    expect(logQuantizer.quantizeWeight(weight, options).params.scale[0]).toBe(2 ** -4);
    expect(ceil.quantizeWeight(weight, options).params.scale[0]).toBe(2 ** -3);
  });

  it('log rounding differs from linear rounding between 1.414 * 2^e and 1.5 * 2^e', () => {
    const weight: Tensor<'float32'> = { dtype: 'float32', shape: [3], data: Float32Array.of(4, 1.45, 1.4) };
    const options = { bits: 5, symmetric: true, granularity: 'tensor' } as const;
    expect(Array.from(dequantizeQuantized(logQuantizer.quantizeWeight(weight, options)))).toEqual([4, 2, 1]);
    const linear = createLogQuantizer({ rounding: 'linear' });
    expect(Array.from(dequantizeQuantized(linear.quantizeWeight(weight, options)))).toEqual([4, 1, 1]);
  });
});

describe('log quantizer properties', () => {
  it('is monotone: sorted inputs give non-decreasing dequantized values (both forms)', () => {
    fc.assert(
      fc.property(
        weightArbitrary,
        fc.integer({ min: 3, max: 8 }),
        fc.constantFrom('auto', 'lookup'),
        (weight, bits, form) => {
          const sorted = Float32Array.from(weight.data).sort();
          const tensor: Tensor<'float32'> = { dtype: 'float32', shape: [sorted.length], data: sorted };
          const restored = dequantizeQuantized(
            createLogQuantizer({ form: form as 'auto' | 'lookup' }).quantizeWeight(tensor, {
              bits,
              symmetric: true,
              granularity: 'tensor',
            }),
          );
          for (let i = 1; i < restored.length; i++)
            expect(restored[i]!).toBeGreaterThanOrEqual(restored[i - 1]!);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('dequantizes to exact float32 powers of two: 0 or +-2^e bit for bit', () => {
    fc.assert(
      fc.property(
        weightArbitrary,
        fc.integer({ min: 3, max: 8 }),
        fc.constantFrom('tensor', 'channel'),
        (weight, bits, granularity) => {
          const quantized = logQuantizer.quantizeWeight(weight, {
            bits,
            symmetric: true,
            granularity,
            axis: 0,
          });
          const restored = dequantizeQuantized(quantized);
          const view = new DataView(restored.buffer);
          for (let i = 0; i < restored.length; i++) {
            // A float32 power of two (normal or subnormal) has exactly one mantissa bit set (the implicit one counts).
            const bitsOf = view.getUint32(i * 4, true) & 0x7fffffff;
            if (bitsOf === 0) continue;
            const exponentField = bitsOf >>> 23;
            const fraction = bitsOf & 0x7fffff;
            if (exponentField > 0) expect(fraction).toBe(0);
            else expect(fraction & (fraction - 1)).toBe(0);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('uses the int8 form {0, +-1, ..., +-64} for 3 and 4 bits, and agrees with the lookup form', () => {
    const lookup = createLogQuantizer({ form: 'lookup' });
    fc.assert(
      fc.property(weightArbitrary, fc.constantFrom(3, 4), (weight, bits) => {
        const options = { bits, symmetric: true, granularity: 'channel', axis: 1 } as const;
        const quantized = logQuantizer.quantizeWeight(weight, options);
        expect(quantized.lookup).toBeUndefined();
        expect(quantized.codes.dtype).toBe('int8');
        const allowed = new Set([0, 1, 2, 4, 8, 16, 32, 64].flatMap((c) => [c, -c]));
        for (const code of quantized.codes.data) expect(allowed.has(code)).toBe(true);
        if (bits === 3)
          for (const code of quantized.codes.data) expect(Math.abs(code)).toBeLessThanOrEqual(4);
        const viaTable = lookup.quantizeWeight(weight, options);
        expect(viaTable.lookup).toBeDefined();
        expect(Array.from(dequantizeQuantized(viaTable))).toEqual(Array.from(dequantizeQuantized(quantized)));
      }),
      { numRuns: 40 },
    );
  });

  it('takes the lookup form for wide codes whose exponents span more than 7 steps, int8 when they do not', () => {
    const wide: Tensor<'float32'> = { dtype: 'float32', shape: [3], data: Float32Array.of(1, 2 ** -7, -0.5) };
    const narrow: Tensor<'float32'> = {
      dtype: 'float32',
      shape: [3],
      data: Float32Array.of(1, 2 ** -6, -0.5),
    };
    const options = { bits: 8, symmetric: true, granularity: 'tensor' } as const;
    const a = logQuantizer.quantizeWeight(wide, options);
    expect(a.codes.dtype).toBe('uint8');
    expect(a.lookup?.table.length).toBe(255);
    expect(Array.from(dequantizeQuantized(a))).toEqual([1, 2 ** -7, -0.5]);
    const b = logQuantizer.quantizeWeight(narrow, options);
    expect(b.codes.dtype).toBe('int8');
    expect(Array.from(b.codes.data)).toEqual([64, 1, -32]);
    expect(b.params.scale[0]).toBe(2 ** -6);
    expect(() => createLogQuantizer({ form: 'int8' }).quantizeWeight(wide, options)).toThrow(
      /int8 power-of-two form/,
    );
  });

  it('maps an all-zero group to zero codes with valid parameters', () => {
    const weight: Tensor<'float32'> = {
      dtype: 'float32',
      shape: [2, 2],
      data: Float32Array.of(0, 0, 0.5, -1),
    };
    for (const form of ['auto', 'lookup'] as const) {
      const quantized = createLogQuantizer({ form }).quantizeWeight(weight, {
        bits: 8,
        symmetric: true,
        granularity: 'channel',
        axis: 0,
      });
      validateParams(weight.shape, quantized.params);
      expect(Array.from(dequantizeQuantized(quantized))).toEqual([0, 0, 0.5, -1]);
    }
  });

  it('registers, and refuses bad settings and non-finite weights with INVALID_ARGUMENT', () => {
    expect(createRegistry([logQuantizer]).get('quantizer', 'log')).toBe(logQuantizer);
    for (const settings of [{ name: '' }, { rounding: 'nearest' }, { fsr: 'floor' }, { form: 'int4' }]) {
      expect(() => createLogQuantizer(settings as never)).toThrow(QuantError);
    }
    const weight: Tensor<'float32'> = { dtype: 'float32', shape: [2], data: Float32Array.of(1, Number.NaN) };
    let caught: unknown;
    try {
      logQuantizer.quantizeWeight(weight, { bits: 4, symmetric: true, granularity: 'tensor' });
    } catch (error) {
      caught = error;
    }
    expect(QuantError.is(caught, 'INVALID_ARGUMENT')).toBe(true);
    expect(String(caught)).toMatch(/NaN at index \[1\]/);
  });
});

describe('logFsrForRange', () => {
  it('applies the weight rule to max(|min|, |max|) of each calibrated range', () => {
    const range = { min: Float32Array.of(-0.5, -6, 0), max: Float32Array.of(3, 1, 0) };
    // log2 3 = 1.58 -> 2; log2 6 = 2.58 -> 3; empty range -> 0.
    expect(Array.from(logFsrForRange(range))).toEqual([2, 3, 0]);
    expect(Array.from(logFsrForRange(range, { fsr: 'ceil' }))).toEqual([2, 3, 0]);
    // 2.9 is below the linear midpoint 3 between 2 and 4, but above 2^1.5 = 2.83.
    expect(
      Array.from(
        logFsrForRange({ min: Float32Array.of(0), max: Float32Array.of(2.9) }, { rounding: 'linear' }),
      ),
    ).toEqual([1]);
    expect(Array.from(logFsrForRange({ min: Float32Array.of(0), max: Float32Array.of(2.9) }))).toEqual([2]);
    expect(Array.from(logFsrForRange({ min: Float32Array.of(0), max: Float32Array.of(2.7) }))).toEqual([1]);
    expect(() => logFsrForRange({ min: Float32Array.of(1), max: Float32Array.of(0) })).toThrow(QuantError);
  });
});
