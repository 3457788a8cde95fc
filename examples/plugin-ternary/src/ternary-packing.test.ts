import type { PackedWeight, QuantizedTensor, Tensor } from '@quantkit/core';
import { quantErrorOf } from '@quantkit/core/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TERNARY_PACKED_FORMAT, packedTernaryBytes } from './ternary-packing.js';
import { ternaryQuantizer } from './ternary-quantizer.js';

const packing = ternaryQuantizer.packing!;

const weightAndOptions = fc
  .record({
    rows: fc.integer({ min: 1, max: 9 }),
    cols: fc.integer({ min: 1, max: 13 }),
    perTensor: fc.boolean(),
    axis: fc.constantFrom(0, 1),
  })
  .chain(({ rows, cols, perTensor, axis }) =>
    fc
      .array(fc.float({ min: -2, max: 2, noNaN: true, noDefaultInfinity: true }), {
        minLength: rows * cols,
        maxLength: rows * cols,
      })
      .map((values) => ({
        weight: { dtype: 'float32', shape: [rows, cols], data: Float32Array.from(values) } as Tensor<'float32'>,
        options: { bits: 2, symmetric: true, granularity: perTensor ? ('tensor' as const) : ('channel' as const), axis },
      })),
  );

describe('ternary packing', () => {
  it('round-trips: unpack(pack(q)) has the same codes and parameters', () => {
    fc.assert(
      fc.property(weightAndOptions, ({ weight, options }) => {
        const quantized = ternaryQuantizer.quantizeWeight(weight, options);
        const packed = packing.pack(quantized);
        expect(packed.format).toBe(TERNARY_PACKED_FORMAT);
        expect(packed.shape).toEqual(weight.shape);
        const unpacked = packing.unpack(packed);
        expect(unpacked.codes.dtype).toBe('int8');
        expect(unpacked.codes.shape).toEqual(quantized.codes.shape);
        expect(Array.from(unpacked.codes.data)).toEqual(Array.from(quantized.codes.data));
        expect(unpacked.params).toEqual(quantized.params);
      }),
      { numRuns: 150 },
    );
  });

  it('stores 2 bits per weight: ceil(n / 4) bytes, 1/16 of float32 up to the last byte', () => {
    fc.assert(
      fc.property(weightAndOptions, ({ weight, options }) => {
        const packed = packing.pack(ternaryQuantizer.quantizeWeight(weight, options));
        const count = weight.data.length;
        expect(packed.data.length).toBe(packedTernaryBytes(count));
        expect(packed.data.length * 8).toBeGreaterThanOrEqual(count * 2);
        expect(packed.data.length * 8).toBeLessThan(count * 2 + 8);
      }),
    );
  });

  it('writes 2-bit two\'s complement codes, element 0 in the lowest bits', () => {
    const quantized: QuantizedTensor = {
      codes: { dtype: 'int8', shape: [5], data: Int8Array.of(1, -1, 0, 1, -1) },
      params: {
        scale: Float32Array.of(0.5),
        zeroPoint: Int32Array.of(0),
        granularity: 'tensor',
        bits: 2,
        dtype: 'int8',
        qmin: -1,
        qmax: 1,
      },
    };
    const packed = packing.pack(quantized);
    // byte 0: codes 1, -1, 0, 1 -> 01, 11, 00, 01 from the low bits up; byte 1: -1 -> 11.
    expect(Array.from(packed.data)).toEqual([0b01_00_11_01, 0b11]);
    expect(packed.attributes).toEqual({ bits: 2, granularity: 'tensor' });
  });

  it('refuses what is not a ternary weight, and packed data that does not fit', () => {
    const base = ternaryQuantizer.quantizeWeight(
      { dtype: 'float32', shape: [2, 2], data: Float32Array.of(1, -1, 0.1, 2) },
      { bits: 2, symmetric: true, granularity: 'channel', axis: 0 },
    );
    const wide = { ...base, codes: { ...base.codes, data: Int8Array.of(2, 0, 0, 0) } };
    expect(quantErrorOf(() => packing.pack(wide)).message).toMatch(/code 0 is 2/);
    expect(quantErrorOf(() => packing.pack({ ...base, lookup: { table: Float32Array.of(1) } })).code).toBe(
      'INVALID_ARGUMENT',
    );
    const packed = packing.pack(base);
    const bad: PackedWeight[] = [
      { ...packed, format: 'binary-1bit' },
      { ...packed, data: new Uint8Array(2) },
      { ...packed, data: Uint8Array.of(0b10) },
      { ...packed, scale: Float32Array.of(1) },
      { ...packed, attributes: { bits: 2, granularity: 'channel' } },
    ];
    for (const value of bad) expect(quantErrorOf(() => packing.unpack(value)).code).toBe('INVALID_ARGUMENT');
  });
});
