import { QuantError, type QuantizerOptions, type Tensor, createRegistry } from '@quantkit/core';
import { describeQuantizer } from '@quantkit/core/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dequantizeQuantized } from './dequantize-quantized.js';
import { nnieFsrForRange } from './log-fsr-for-range.js';
import { nnieLookupTable } from './nnie-levels.js';
import { createNnieLogQuantizer, nnieLogQuantizer } from './nnie-log-quantizer.js';

const options: QuantizerOptions = { bits: 8, symmetric: true, granularity: 'tensor' };

describeQuantizer(nnieLogQuantizer, {
  nearest: false,
  numRuns: 25,
  invalid: [
    { bits: 4, symmetric: true, granularity: 'tensor' },
    { bits: 8, symmetric: false, granularity: 'tensor' },
    { bits: 8, symmetric: true, granularity: 'channel', axis: 0 },
  ],
});

// ------------------------------------------------------------------------------------------------------------
// The reference: the published NNIE formula, evaluated in float64 with Math.log2 (z = round(16 log2 c) - 127).

function referenceNnie(values: readonly number[]): { codes: number[]; levels: number[] } {
  const c = Math.max(0, ...values.map(Math.abs));
  const z = c === 0 ? -127 : Math.round(16 * Math.log2(c)) - 127;
  const codes: number[] = [];
  const levels: number[] = [];
  for (const x of values) {
    if (x >= 2 ** (z / 16 - 1)) {
      const m = Math.min(Math.max(Math.round(16 * Math.log2(x)) - z, 0), 127);
      codes.push(m);
      levels.push(2 ** ((z + m) / 16));
    } else if (x < -(2 ** ((z + 1) / 16 - 1))) {
      const m = Math.min(Math.max(Math.round(16 * Math.log2(-x)) - z, 1), 127);
      codes.push(0x80 | m);
      levels.push(-(2 ** ((z + m) / 16)));
    } else {
      codes.push(0x80);
      levels.push(0);
    }
  }
  return { codes, levels };
}

/** Whether 16 log2|x| is too close to a rounding or zero-threshold boundary for Math.log2 to decide. */
function nearBoundary(x: number): boolean {
  if (x === 0) return false;
  const steps = 16 * Math.log2(Math.abs(x));
  const fraction = steps - Math.floor(steps);
  return Math.abs(fraction - 0.5) < 1e-8 || fraction < 1e-8 || fraction > 1 - 1e-8;
}

const weightArbitrary = fc
  .record({ size: fc.integer({ min: 1, max: 40 }), center: fc.integer({ min: -40, max: 40 }) })
  .chain(({ size, center }) =>
    fc
      .array(
        fc.record({
          zero: fc.integer({ min: 0, max: 9 }),
          negative: fc.boolean(),
          exponent: fc.double({ min: -10, max: 0.5, noNaN: true }),
        }),
        { minLength: size, maxLength: size },
      )
      .map(
        (entries): Tensor<'float32'> => ({
          dtype: 'float32',
          shape: [size],
          data: Float32Array.from(entries, ({ zero, negative, exponent }) =>
            zero === 0 ? 0 : (negative ? -1 : 1) * 2 ** (center + exponent),
          ),
        }),
      ),
  )
  .filter((weight) => !weight.data.some(nearBoundary));

describe('log-nnie quantizer against the published formula', () => {
  it("gives the formula's code bytes, and its levels to float32 precision", () => {
    fc.assert(
      fc.property(weightArbitrary, (weight) => {
        const quantized = nnieLogQuantizer.quantizeWeight(weight, options);
        const reference = referenceNnie(Array.from(weight.data));
        expect(Array.from(nnieLogQuantizer.packing!.pack(quantized).data)).toEqual(reference.codes);
        const restored = dequantizeQuantized(quantized);
        reference.levels.forEach((level, i) => {
          expect(Math.abs(restored[i]! - level)).toBeLessThanOrEqual(Math.abs(level) * 2 ** -24);
        });
      }),
      { numRuns: 150 },
    );
  });

  it('lays codes out as sign-magnitude bytes with 0x80 for zero (max|x| = 1, so z = -127)', () => {
    const smallest = 2 ** (-127 / 16);
    const smallestNegative = 2 ** (-126 / 16);
    const values = [
      1,
      -1,
      smallest,
      -smallestNegative,
      0,
      (smallest / 2) * 1.001,
      (smallest / 2) * 0.999,
      -(smallestNegative / 2) * 1.001,
      -(smallestNegative / 2) * 0.999,
      -smallest,
    ];
    const weight: Tensor<'float32'> = {
      dtype: 'float32',
      shape: [values.length],
      data: Float32Array.from(values),
    };
    const packed = nnieLogQuantizer.packing!.pack(nnieLogQuantizer.quantizeWeight(weight, options));
    expect(Array.from(packed.data)).toEqual([0x7f, 0xff, 0x00, 0x81, 0x80, 0x00, 0x80, 0x81, 0x80, 0x81]);
    expect(packed.attributes['fsr']).toBe(0);
  });

  it('has 256 distinct levels: 128 positive, 127 negative and zero, ascending in the table', () => {
    const values = [0];
    for (let x = 1; x > -12; x -= 1 / 64) values.push(2 ** x, -(2 ** x));
    const weight: Tensor<'float32'> = {
      dtype: 'float32',
      shape: [values.length],
      data: Float32Array.from(values),
    };
    const quantized = nnieLogQuantizer.quantizeWeight(weight, options);
    const restored = dequantizeQuantized(quantized);
    const distinct = [...new Set(restored)];
    expect(distinct.length).toBe(256);
    expect(distinct.filter((v) => v > 0).length).toBe(128);
    expect(distinct.filter((v) => v < 0).length).toBe(127);
    const table = quantized.lookup!.table;
    for (let i = 1; i < table.length; i++) expect(table[i]!).toBeGreaterThan(table[i - 1]!);
    expect(table[127]).toBe(0);
  });

  it('is monotone on sorted inputs', () => {
    fc.assert(
      fc.property(weightArbitrary, (weight) => {
        const sorted: Tensor<'float32'> = { ...weight, data: Float32Array.from(weight.data).sort() };
        const restored = dequantizeQuantized(nnieLogQuantizer.quantizeWeight(sorted, options));
        for (let i = 1; i < restored.length; i++)
          expect(restored[i]!).toBeGreaterThanOrEqual(restored[i - 1]!);
      }),
      { numRuns: 100 },
    );
  });

  it('scales by the power of two 2^floor(T/16), so table * scale rounds only once', () => {
    const weight: Tensor<'float32'> = { dtype: 'float32', shape: [2], data: Float32Array.of(3, -0.1) };
    const quantized = nnieLogQuantizer.quantizeWeight(weight, options);
    // T = round(16 log2 3) = round(25.36) = 25 = 16 * 1 + 9.
    expect(quantized.params.scale[0]).toBe(2);
    expect(Array.from(quantized.lookup!.table)).toEqual(Array.from(nnieLookupTable(25)));
    expect(quantized.lookup!.table[255]).toBe(Math.fround(2 ** (9 / 16)));
    expect(dequantizeQuantized(quantized)[0]).toBe(Math.fround(2 ** (25 / 16)));
  });

  it('registers next to the log quantizer and computes T for calibrated ranges', () => {
    expect(createRegistry([nnieLogQuantizer]).get('quantizer', 'log-nnie')).toBe(nnieLogQuantizer);
    expect(createNnieLogQuantizer({ name: 'nnie2' }).name).toBe('nnie2');
    expect(() => createNnieLogQuantizer({ name: '' })).toThrow(QuantError);
    expect(nnieFsrForRange({ min: Float32Array.of(-3), max: Float32Array.of(1) })).toBe(25);
    expect(() => nnieFsrForRange({ min: Float32Array.of(0, 0), max: Float32Array.of(1, 1) })).toThrow(
      QuantError,
    );
  });
});
