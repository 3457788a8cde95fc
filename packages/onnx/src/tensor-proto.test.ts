import { DTYPES, type DType, QuantError, type Tensor, allocate, dtypeInfo } from '@quantkit/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ONNX_DATA_TYPES, type TensorProto, onnxTypes } from './onnx-schema.js';
import { dtypeFromOnnx, onnxFromDtype } from './onnx-data-types.js';
import { decodeTensor, encodeTensor, tensorFromProto, tensorToProto } from './tensor-proto.js';

function expectQuantError(fn: () => unknown, code: string, text?: string): void {
  try {
    fn();
  } catch (error) {
    expect(QuantError.is(error)).toBe(true);
    expect((error as QuantError).code).toBe(code);
    if (text !== undefined) expect((error as QuantError).message).toContain(text);
    return;
  }
  throw new Error('expected a QuantError');
}

/** Random valid element values for a dtype, as stored in its typed array. */
function elements(dtype: DType): fc.Arbitrary<number | bigint> {
  const info = dtypeInfo(dtype);
  switch (dtype) {
    case 'float32':
      return fc.float({ noNaN: true });
    case 'float64':
      return fc.double({ noNaN: true });
    case 'int64':
      return fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
    case 'float16':
    case 'bfloat16':
      return fc.integer({ min: 0, max: 0xffff });
    case 'float8e4m3fn':
    case 'float8e5m2':
      return fc.integer({ min: 0, max: 0xff });
    default:
      return fc.integer({ min: info.min, max: info.max });
  }
}

function tensorArbitrary(dtype: DType): fc.Arbitrary<Tensor> {
  return fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }).chain((shape) => {
    const size = shape.reduce((a, b) => a * b, 1);
    return fc.array(elements(dtype), { minLength: size, maxLength: size }).map((values) => {
      const data = allocate(dtype, size);
      values.forEach((v, i) => {
        (data as unknown as (number | bigint)[])[i] = v;
      });
      return { dtype, shape, data } as Tensor;
    });
  });
}

describe('dtype mapping', () => {
  it('uses the ONNX data type numbers', () => {
    const expected: Record<DType, number> = {
      float32: 1,
      uint8: 2,
      int8: 3,
      uint16: 4,
      int16: 5,
      int32: 6,
      int64: 7,
      bool: 9,
      float16: 10,
      float64: 11,
      bfloat16: 16,
      float8e4m3fn: 17,
      float8e5m2: 19,
      uint4: 21,
      int4: 22,
    };
    for (const dtype of DTYPES) {
      expect(onnxFromDtype(dtype)).toBe(expected[dtype]);
      expect(dtypeFromOnnx(expected[dtype])).toBe(dtype);
    }
  });

  it('rejects other data types as UNSUPPORTED, naming the tensor', () => {
    for (const code of [0, 8, 12, 13, 14, 15, 18, 20, 23, 99]) {
      expectQuantError(() => dtypeFromOnnx(code), 'UNSUPPORTED');
    }
    const proto: TensorProto = { name: 'labels', data_type: ONNX_DATA_TYPES.STRING, dims: [1] };
    expectQuantError(() => tensorFromProto(proto), 'UNSUPPORTED', 'tensor "labels"');
  });
});

describe('tensorToProto / tensorFromProto', () => {
  it('round-trips every dtype through raw_data and protobuf bytes', () => {
    for (const dtype of DTYPES) {
      fc.assert(
        fc.property(tensorArbitrary(dtype), (tensor) => {
          const decoded = decodeTensor(encodeTensor('t', tensor));
          expect(decoded.name).toBe('t');
          expect(decoded.dtype).toBe(dtype);
          expect(decoded.shape).toEqual(tensor.shape);
          expect([...decoded.data]).toEqual([...tensor.data]);
        }),
        { numRuns: 30 },
      );
    }
  });

  it('reads raw_data at unaligned offsets, little-endian', () => {
    const backing = new Uint8Array(1 + 8);
    // 1.0f = 0x3f800000 and -2.0f = 0xc0000000, little-endian, starting at offset 1.
    backing.set([0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0], 1);
    const tensor = tensorFromProto({ name: 'x', data_type: 1, dims: [2], raw_data: backing.subarray(1) });
    expect([...tensor.data]).toEqual([1, -2]);
    backing[1] = 0xff; // the tensor owns a copy
    expect(tensor.data[0]).toBe(1);
  });

  it('reads the typed data fields the spec assigns to each dtype', () => {
    const cases: [TensorProto, DType, (number | bigint)[]][] = [
      [{ data_type: 1, dims: [2], float_data: [0.5, -3] }, 'float32', [0.5, -3]],
      [{ data_type: 11, dims: [1], double_data: [0.1] }, 'float64', [0.1]],
      [{ data_type: 7, dims: [2], int64_data: [-5, { low: 0, high: 1 }] }, 'int64', [-5n, 2n ** 32n]],
      [{ data_type: 6, dims: [2], int32_data: [-7, 2 ** 31 - 1] }, 'int32', [-7, 2 ** 31 - 1]],
      [{ data_type: 3, dims: [2], int32_data: [-128, 127] }, 'int8', [-128, 127]],
      [{ data_type: 2, dims: [2], int32_data: [0, 255] }, 'uint8', [0, 255]],
      [{ data_type: 5, dims: [1], int32_data: [-300] }, 'int16', [-300]],
      [{ data_type: 4, dims: [1], int32_data: [65535] }, 'uint16', [65535]],
      [{ data_type: 9, dims: [2], int32_data: [1, 0] }, 'bool', [1, 0]],
      [{ data_type: 10, dims: [1], int32_data: [0x3c00] }, 'float16', [0x3c00]],
      [{ data_type: 16, dims: [1], int32_data: [0x3f80] }, 'bfloat16', [0x3f80]],
      [{ data_type: 17, dims: [1], int32_data: [0x38] }, 'float8e4m3fn', [0x38]],
      // int4: two per int32_data entry, low nibble first: 0xF2 -> [2, -1], 0x07 -> [7]
      [{ data_type: 22, dims: [3], int32_data: [0xf2, 0x07] }, 'int4', [2, -1, 7]],
      [{ data_type: 21, dims: [3], int32_data: [0xf2, 0x07] }, 'uint4', [2, 15, 7]],
    ];
    for (const [proto, dtype, values] of cases) {
      const tensor = tensorFromProto(proto);
      expect(tensor.dtype).toBe(dtype);
      expect([...tensor.data]).toEqual(values);
    }
  });

  it('packs int4/uint4 two per byte, low nibble first', () => {
    const int4: Tensor = { dtype: 'int4', shape: [3], data: Int8Array.of(-1, 2, 7) };
    expect([...tensorToProto('q', int4).raw_data!]).toEqual([0x2f, 0x07]);
    const uint4: Tensor = { dtype: 'uint4', shape: [2, 2], data: Uint8Array.of(1, 15, 0, 8) };
    expect([...tensorToProto('q', uint4).raw_data!]).toEqual([0xf1, 0x80]);
    expect([...tensorFromProto(tensorToProto('q', int4)).data]).toEqual([-1, 2, 7]);
  });

  it('rejects data that disagrees with dims as INVALID_MODEL naming the tensor', () => {
    expectQuantError(
      () => tensorFromProto({ name: 'w', data_type: 1, dims: [3], raw_data: new Uint8Array(8) }),
      'INVALID_MODEL',
      'tensor "w"',
    );
    expectQuantError(
      () => tensorFromProto({ name: 'w', data_type: 1, dims: [2], float_data: [1] }),
      'INVALID_MODEL',
    );
    expectQuantError(() => tensorFromProto({ name: 'w', data_type: 1, dims: [2] }), 'INVALID_MODEL');
    expectQuantError(() => tensorFromProto({ name: 'w', data_type: 1, dims: [-1] }), 'INVALID_MODEL');
    expect(tensorFromProto({ name: 'empty', data_type: 1, dims: [0, 3] }).data.length).toBe(0);
    expect(() =>
      tensorToProto('bad', { dtype: 'float32', shape: [2], data: new Float32Array(3) }),
    ).toThrowError(/"bad"/);
  });

  it('reads external data through the loader', () => {
    const file = new Uint8Array(16);
    new Float32Array(file.buffer, 8, 2).set([3, 4]);
    const calls: unknown[] = [];
    const proto: TensorProto = {
      name: 'ext',
      data_type: 1,
      dims: [2],
      data_location: 1,
      external_data: [
        { key: 'location', value: 'w.bin' },
        { key: 'offset', value: '8' },
        { key: 'length', value: '8' },
      ],
    };
    const tensor = tensorFromProto(proto, {
      externalData: (location, offset, length) => {
        calls.push([location, offset, length]);
        return file.subarray(offset, offset + (length ?? 0));
      },
    });
    expect([...tensor.data]).toEqual([3, 4]);
    expect(calls).toEqual([['w.bin', 8, 8]]);
    expectQuantError(() => tensorFromProto(proto), 'UNSUPPORTED', 'w.bin');
    expectQuantError(
      () => tensorFromProto({ ...proto, external_data: [{ key: 'offset', value: '0' }] }),
      'INVALID_MODEL',
      'location',
    );
  });

  it('decodeTensor names the source for garbage', () => {
    expectQuantError(
      () => decodeTensor(new Uint8Array([0xff, 0xff, 0xff]), 'input_0.pb'),
      'INVALID_MODEL',
      'input_0.pb',
    );
    const proto = onnxTypes.TensorProto.encode({ name: 'x', data_type: 77, dims: [1] }).finish();
    expectQuantError(() => decodeTensor(proto, 'input_1.pb'), 'INVALID_MODEL', 'input_1.pb');
  });
});
