import {
  type PackedWeight,
  QuantError,
  type QuantizedTensor,
  type Tensor,
  createSeededRandom,
} from '@quantkit/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BINARY_1BIT_FORMAT, packBinaryWeight, unpackBinaryWeight } from './binary-packing.js';
import { binaryQuantizer, createBinaryQuantizer } from './binary-quantizer.js';

const packing = binaryQuantizer.packing!;

/** Seeded uniform weights in [-1, 1) (mulberry32), so the size checks use realistic, non-trivial data. */
function randomWeight(shape: number[], seed: number): Tensor<'float32'> {
  const next = createSeededRandom(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  return { dtype: 'float32', shape, data: Float32Array.from({ length: size }, () => next() * 2 - 1) };
}

function packedBytes(packed: PackedWeight): number {
  return packed.data.byteLength + packed.scale.byteLength;
}

function expectSame(a: QuantizedTensor, b: QuantizedTensor): void {
  expect(b.codes.dtype).toBe(a.codes.dtype);
  expect(b.codes.shape).toEqual(a.codes.shape);
  expect(Array.from(b.codes.data)).toEqual(Array.from(a.codes.data));
  expect({
    ...b.params,
    scale: Array.from(b.params.scale),
    zeroPoint: Array.from(b.params.zeroPoint),
  }).toEqual({
    ...a.params,
    scale: Array.from(a.params.scale),
    zeroPoint: Array.from(a.params.zeroPoint),
  });
}

describe('binary packing (format binary-1bit)', () => {
  it('is the plugin packing capability', () => {
    expect(packing.pack).toBe(packBinaryWeight);
    expect(packing.unpack).toBe(unpackBinaryWeight);
  });

  it.each([
    [[64, 576], 0],
    [[64, 64, 3, 3], 0],
    [[576, 64], 1],
    [[256, 256], 0],
  ])('a %j weight (channel axis %i) packs to at most 1/28 of its float32 bytes, with 8 codes per byte', (shape, axis) => {
    const weight = randomWeight(shape, 11);
    const packed = packing.pack(
      binaryQuantizer.quantizeWeight(weight, { bits: 1, symmetric: true, granularity: 'channel', axis }),
    );
    const rows = shape[axis]!;
    const rowBits = weight.data.length / rows;
    expect(packed.format).toBe(BINARY_1BIT_FORMAT);
    expect(packed.attributes).toEqual({
      axis,
      rows,
      rowBits,
      rowBytes: Math.ceil(rowBits / 8),
      granularity: 'channel',
      codeDType: 'int8',
    });
    expect(packed.data.byteLength).toBe(rows * Math.ceil(rowBits / 8));
    expect(packed.scale.length).toBe(rows);
    expect(packedBytes(packed)).toBeLessThanOrEqual(weight.data.byteLength / 28);
  });

  it('[64, 576]: 64 * 72 bytes + 64 scales = 4864 bytes, against 147456 float32 bytes', () => {
    const packed = packing.pack(
      binaryQuantizer.quantizeWeight(randomWeight([64, 576], 5), {
        bits: 1,
        symmetric: true,
        granularity: 'channel',
        axis: 0,
      }),
    );
    expect(packedBytes(packed)).toBe(64 * 72 + 64 * 4);
    expect(packedBytes(packed) * 28).toBeLessThanOrEqual(64 * 576 * 4);
  });

  it('property: unpack(pack(q)) gives the same codes and parameters (odd rows, any axis, int8 and int4)', () => {
    const int4 = createBinaryQuantizer({ dtype: 'int4' });
    const problem = fc
      .record({
        shape: fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 4 }),
        axisPick: fc.nat(),
        perTensor: fc.boolean(),
        useInt4: fc.boolean(),
        seed: fc.integer(),
      })
      .map(({ shape, axisPick, perTensor, useInt4, seed }) => ({
        weight: randomWeight(shape, seed),
        axis: axisPick % shape.length,
        perTensor,
        quantizer: useInt4 ? int4 : binaryQuantizer,
      }));
    fc.assert(
      fc.property(problem, ({ weight, axis, perTensor, quantizer }) => {
        const quantized = quantizer.quantizeWeight(weight, {
          bits: 1,
          symmetric: true,
          granularity: perTensor ? 'tensor' : 'channel',
          axis,
        });
        const packed = quantizer.packing!.pack(quantized);
        // Per-tensor params carry no axis: rows run along axis 0.
        expect(packed.attributes['axis']).toBe(perTensor ? 0 : axis);
        expectSame(quantized, quantizer.packing!.unpack(packed));
      }),
      { numRuns: 150 },
    );
  });

  it('refuses codes and layouts it cannot hold as sign bits', () => {
    const params = {
      scale: Float32Array.of(1),
      zeroPoint: Int32Array.of(0),
      granularity: 'tensor' as const,
      bits: 2,
      dtype: 'int8' as const,
      qmin: -1,
      qmax: 1,
    };
    const codes = (values: number[]) => ({
      dtype: 'int8' as const,
      shape: [values.length],
      data: Int8Array.from(values),
    });
    const cases: [() => unknown, RegExp][] = [
      [() => packBinaryWeight({ codes: codes([1, 0]), params }), /code 0 at flat index 1/],
      [
        () => packBinaryWeight({ codes: codes([1, -1]), params: { ...params, zeroPoint: Int32Array.of(1) } }),
        /non-zero zero points/,
      ],
      [
        () =>
          packBinaryWeight({
            codes: codes([1, -1]),
            params: {
              ...params,
              granularity: 'block',
              axis: 0,
              blockSize: 1,
              scale: Float32Array.of(1, 1),
              zeroPoint: new Int32Array(2),
            },
          }),
        /block scales/,
      ],
    ];
    const good = packBinaryWeight({ codes: codes([1, -1, 1]), params });
    cases.push(
      [
        () => unpackBinaryWeight({ ...good, format: 'log-int8' }),
        /expected format "binary-1bit", got "log-int8"/,
      ],
      [
        () => unpackBinaryWeight({ ...good, attributes: { ...good.attributes, rowBits: 4 } }),
        /do not describe shape \[3\]/,
      ],
      [
        () => unpackBinaryWeight({ ...good, attributes: { ...good.attributes, axis: -1 } }),
        /"axis" must be a non-negative/,
      ],
      [
        () => unpackBinaryWeight({ ...good, attributes: { ...good.attributes, codeDType: 'uint8' } }),
        /"codeDType"/,
      ],
      [
        () => unpackBinaryWeight({ ...good, data: new Uint8Array(0) }),
        /needs 3 bytes \(3 rows of 1\), got 0/,
      ],
    );
    for (const [run, message] of cases) {
      let caught: unknown;
      try {
        run();
      } catch (error) {
        caught = error;
      }
      expect(QuantError.is(caught, 'INVALID_ARGUMENT')).toBe(true);
      expect((caught as Error).message).toMatch(message);
    }
  });
});
