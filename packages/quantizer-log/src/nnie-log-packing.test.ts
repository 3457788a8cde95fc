import { QuantError, type QuantizedTensor, type Tensor } from '@quantkit/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dequantizeQuantized } from './dequantize-quantized.js';
import { nnieLogQuantizer } from './nnie-log-quantizer.js';

const packing = nnieLogQuantizer.packing!;
const options = { bits: 8, symmetric: true, granularity: 'tensor' } as const;

const weightArbitrary = fc
  .record({ size: fc.integer({ min: 1, max: 64 }), scale: fc.integer({ min: -30, max: 30 }) })
  .chain(({ size, scale }) =>
    fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: size, maxLength: size }).map(
      (values): Tensor<'float32'> => ({
        dtype: 'float32',
        shape: [size],
        data: Float32Array.from(values, (v) => v ** 5 * 2 ** scale),
      }),
    ),
  );

function plain(quantized: QuantizedTensor) {
  const { codes, params, lookup } = quantized;
  return {
    codes: { dtype: codes.dtype, shape: [...codes.shape], data: Array.from(codes.data) },
    params: { ...params, scale: Array.from(params.scale), zeroPoint: Array.from(params.zeroPoint) },
    table: lookup === undefined ? undefined : Array.from(lookup.table),
  };
}

describe('log-nnie packing', () => {
  it('round-trips: unpack(pack(q)) has the same codes, scale and table, and repacks to the same bytes', () => {
    fc.assert(
      fc.property(weightArbitrary, (weight) => {
        const quantized = nnieLogQuantizer.quantizeWeight(weight, options);
        const packed = packing.pack(quantized);
        expect(packed.format).toBe('log-nnie');
        expect(packed.data.length).toBe(weight.data.length);
        const unpacked = packing.unpack(packed);
        expect(plain(unpacked)).toEqual(plain(quantized));
        expect(Array.from(packing.pack(unpacked).data)).toEqual(Array.from(packed.data));
      }),
      { numRuns: 150 },
    );
  });

  it('means sign * 2^((fsr - 127 + m)/16) for a kernel that reads the bytes', () => {
    fc.assert(
      fc.property(weightArbitrary, (weight) => {
        const quantized = nnieLogQuantizer.quantizeWeight(weight, options);
        const packed = packing.pack(quantized);
        const fsr = packed.attributes['fsr'] as number;
        const restored = dequantizeQuantized(quantized);
        packed.data.forEach((byte, i) => {
          const m = byte & 0x7f;
          const value = byte === 0x80 ? 0 : (byte & 0x80 ? -1 : 1) * 2 ** ((fsr - 127 + m) / 16);
          // restored is float32: within half an ulp, which for subnormals (below 2^-126) is 2^-150 absolute.
          expect(Math.abs(restored[i]! - value)).toBeLessThanOrEqual(Math.max(Math.abs(value) * 2 ** -24, 2 ** -150));
        });
      }),
      { numRuns: 60 },
    );
  });

  it('refuses other formats and inconsistent packed weights', () => {
    const weight: Tensor<'float32'> = { dtype: 'float32', shape: [3], data: Float32Array.of(3, -0.1, 0) };
    const packed = packing.pack(nnieLogQuantizer.quantizeWeight(weight, options));
    const bad = [
      { ...packed, format: 'log' },
      { ...packed, data: packed.data.slice(1) },
      { ...packed, scale: Float32Array.of(4) },
      { ...packed, attributes: { ...packed.attributes, fsr: 2.5 } },
      { ...packed, attributes: { ...packed.attributes, bits: 4 } },
    ];
    for (const weightPacked of bad) expect(() => packing.unpack(weightPacked)).toThrow(QuantError);
    const quantized = nnieLogQuantizer.quantizeWeight(weight, options);
    const wrongTable = { ...quantized, lookup: { table: quantized.lookup!.table.map((v) => v * 3) } };
    expect(() => packing.pack(wrongTable)).toThrow(/not an NNIE level table/);
    expect(() => packing.pack({ ...quantized, lookup: undefined })).toThrow(QuantError);
  });
});
