import { QuantError, type QuantizedTensor, type Tensor } from '@quantkit/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dequantizeQuantized } from './dequantize-quantized.js';
import { createLogPacking, signedLogIndex, storedLogCode } from './log-packing.js';
import { createLogQuantizer, logQuantizer } from './log-quantizer.js';

const packing = logQuantizer.packing!;

const weightArbitrary = fc
  .record({
    rows: fc.integer({ min: 1, max: 5 }),
    cols: fc.integer({ min: 1, max: 9 }),
    scale: fc.integer({ min: -20, max: 10 }),
  })
  .chain(({ rows, cols, scale }) =>
    fc
      .array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: rows * cols, maxLength: rows * cols })
      .map(
        (values): Tensor<'float32'> => ({
          dtype: 'float32',
          shape: [rows, cols],
          data: Float32Array.from(values, (v) => v ** 3 * 2 ** scale),
        }),
      ),
  );

const caseArbitrary = fc.record({
  weight: weightArbitrary,
  bits: fc.integer({ min: 3, max: 8 }),
  granularity: fc.constantFrom('tensor' as const, 'channel' as const),
  axis: fc.integer({ min: 0, max: 1 }),
  form: fc.constantFrom('auto' as const, 'lookup' as const),
});

interface PackCase {
  readonly weight: Tensor<'float32'>;
  readonly bits: number;
  readonly granularity: 'tensor' | 'channel';
  readonly axis: number;
  readonly form: 'auto' | 'lookup';
}

function quantize({ weight, bits, granularity, axis, form }: PackCase): QuantizedTensor {
  return createLogQuantizer({ form }).quantizeWeight(weight, { bits, symmetric: true, granularity, axis });
}

function plain(quantized: QuantizedTensor) {
  const { codes, params, lookup } = quantized;
  return {
    codes: { dtype: codes.dtype, shape: [...codes.shape], data: Array.from(codes.data) },
    params: { ...params, scale: Array.from(params.scale), zeroPoint: Array.from(params.zeroPoint) },
    table: lookup === undefined ? undefined : Array.from(lookup.table),
  };
}

describe('log packing', () => {
  it('round-trips: unpack(pack(q)) has the same codes, parameters and table, and repacks to the same bytes', () => {
    fc.assert(
      fc.property(caseArbitrary, (testCase) => {
        const quantized = quantize(testCase);
        const packed = packing.pack(quantized);
        const unpacked = packing.unpack(packed);
        expect(plain(unpacked)).toEqual(plain(quantized));
        expect(Array.from(packing.pack(unpacked).data)).toEqual(Array.from(packed.data));
      }),
      { numRuns: 150 },
    );
  });

  it('stores sign + magnitude index densely: two codes per byte up to 4 bits, else one', () => {
    fc.assert(
      fc.property(caseArbitrary, (testCase) => {
        const packed = packing.pack(quantize(testCase));
        const count = testCase.weight.data.length;
        expect(packed.format).toBe('log');
        expect(packed.data.length).toBe(testCase.bits <= 4 ? Math.ceil(count / 2) : count);
        expect(packed.attributes['bits']).toBe(testCase.bits);
      }),
      { numRuns: 60 },
    );
  });

  it('means sign * 2^(log2(scale) - M + m) for a kernel that reads the bytes', () => {
    fc.assert(
      fc.property(caseArbitrary, (testCase) => {
        const quantized = quantize(testCase);
        const packed = packing.pack(quantized);
        const { bits } = testCase;
        const magnitudes = 2 ** (bits - 1) - 1;
        const [rows, cols] = testCase.weight.shape as [number, number];
        const restored = dequantizeQuantized(quantized);
        for (let i = 0; i < rows * cols; i++) {
          const byte = bits <= 4 ? (packed.data[i >> 1]! >> ((i & 1) * 4)) & 0xf : packed.data[i]!;
          const negative = (byte >> (bits - 1)) & 1;
          const m = byte & ((1 << (bits - 1)) - 1);
          const group =
            testCase.granularity === 'tensor' ? 0 : testCase.axis === 0 ? Math.floor(i / cols) : i % cols;
          const value = m === 0 ? 0 : (negative ? -1 : 1) * packed.scale[group]! * 2 ** (m - magnitudes);
          expect(restored[i]).toBe(value);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('packs a known example: [1, -0.25] at 4 bits, FSR 0 -> codes 0b0111 and 0b1101 in one byte', () => {
    const weight: Tensor<'float32'> = { dtype: 'float32', shape: [2], data: Float32Array.of(1, -0.25) };
    const packed = packing.pack(
      logQuantizer.quantizeWeight(weight, { bits: 4, symmetric: true, granularity: 'tensor' }),
    );
    expect(Array.from(packed.data)).toEqual([0b1101_0111]);
    expect(Array.from(packed.scale)).toEqual([1]);
    expect(packed.attributes).toEqual({ bits: 4, stepsPerOctave: 1, granularity: 'tensor', form: 'int8' });
    expect(storedLogCode(-5, 4)).toBe(0b1101);
    expect(signedLogIndex(0b1101, 4)).toBe(-5);
    expect(signedLogIndex(0b1000, 4)).toBe(0);
  });

  it('refuses what is not a log code or a consistent packed weight', () => {
    const weight: Tensor<'float32'> = {
      dtype: 'float32',
      shape: [2, 2],
      data: Float32Array.of(1, -0.25, 0.5, 0),
    };
    const quantized = logQuantizer.quantizeWeight(weight, {
      bits: 5,
      symmetric: true,
      granularity: 'channel',
      axis: 0,
    });
    const packed = packing.pack(quantized);
    const bad = [
      { ...packed, format: 'binary' },
      { ...packed, data: packed.data.slice(1) },
      { ...packed, scale: Float32Array.of(1, 0.3) },
      { ...packed, attributes: { ...packed.attributes, bits: 9 } },
      { ...packed, attributes: { ...packed.attributes, form: 'dq' } },
      { ...packed, attributes: { bits: 5, granularity: 'channel', form: 'int8' } },
    ];
    for (const weightPacked of bad) expect(() => packing.unpack(weightPacked)).toThrow(QuantError);
    const notLog: QuantizedTensor = {
      ...quantized,
      codes: { ...quantized.codes, data: Int8Array.of(3, 0, 0, 0) },
    };
    expect(() => packing.pack(notLog)).toThrow(/not a power of two/);
    expect(() =>
      createLogPacking('mine').pack({ ...quantized, params: { ...quantized.params, bits: 2 } }),
    ).toThrow(/mine packing/);
  });
});
