import type { DType, Tensor } from '@quantkit/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeNpy } from './encode-npy.js';
import { parseNpy } from './parse-npy.js';
import { quantErrorOf } from '@quantkit/core/testing';

/** Builds NPY bytes by hand, following the format spec, independently of encodeNpy. */
function npyBytes(header: string, data: Uint8Array, version = 1, pad = true): Uint8Array {
  const preamble = version === 1 ? 10 : 12;
  let text = header;
  if (pad) {
    const total = Math.ceil((preamble + text.length + 1) / 64) * 64;
    text = text.padEnd(total - preamble - 1, ' ') + '\n';
  }
  const headerBytes = version === 3 ? new TextEncoder().encode(text) : Uint8Array.from(text, (c) => c.charCodeAt(0));
  const out = new Uint8Array(preamble + headerBytes.length + data.length);
  out.set([0x93, ...'NUMPY'].map((c) => (typeof c === 'number' ? c : c.charCodeAt(0))), 0);
  out[6] = version;
  out[7] = 0;
  if (version === 1) {
    out[8] = headerBytes.length & 0xff;
    out[9] = headerBytes.length >> 8;
  } else {
    for (let i = 0; i < 4; i++) out[8 + i] = (headerBytes.length >>> (8 * i)) & 0xff;
  }
  out.set(headerBytes, preamble);
  out.set(data, preamble + headerBytes.length);
  return out;
}

function littleEndianFloat32(values: number[]): Uint8Array {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => {
    view.setFloat32(i * 4, v, true);
  });
  return bytes;
}

describe('parseNpy', () => {
  it('reads a hand-written version 1.0 float32 file', () => {
    const bytes = npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", littleEndianFloat32([1, 2, 3, 4, 5, 6.5]));
    const tensor = parseNpy(bytes, 'a.npy');
    expect(tensor.dtype).toBe('float32');
    expect(tensor.shape).toEqual([2, 3]);
    expect(Array.from(tensor.data as Float32Array)).toEqual([1, 2, 3, 4, 5, 6.5]);
  });

  it('copies out of a Node Buffer that shares a pool (Buffer.slice is a view)', () => {
    const file = npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", littleEndianFloat32([3, -4]));
    const pool = Buffer.alloc(file.length + 5, 0xee);
    pool.set(file, 5);
    const tensor = parseNpy(pool.subarray(5), 'pooled.npy');
    expect(tensor.data.length).toBe(2);
    expect(Array.from(tensor.data as Float32Array)).toEqual([3, -4]);
  });

  it('reads version 2.0 (4-byte header length) and 3.0 (utf-8 header)', () => {
    const data = littleEndianFloat32([-1.5, 2.25]);
    const header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
    for (const version of [2, 3]) {
      const tensor = parseNpy(npyBytes(header, data, version), `v${version}.npy`);
      expect(tensor.shape).toEqual([2]);
      expect(Array.from(tensor.data as Float32Array)).toEqual([-1.5, 2.25]);
    }
  });

  it('reads scalars, one-element tuples, double quotes and Python 2 long suffixes', () => {
    const scalar = parseNpy(npyBytes('{"descr": "<f4", "fortran_order": False, "shape": ()}', littleEndianFloat32([7])));
    expect(scalar.shape).toEqual([]);
    expect(Array.from(scalar.data as Float32Array)).toEqual([7]);
    const long = parseNpy(npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1L, 2L), }", littleEndianFloat32([1, 2])));
    expect(long.shape).toEqual([1, 2]);
  });

  it('converts big-endian data', () => {
    const bytes = new Uint8Array(8);
    const view = new DataView(bytes.buffer);
    view.setInt32(0, -123456, false);
    view.setInt32(4, 789, false);
    const tensor = parseNpy(npyBytes("{'descr': '>i4', 'fortran_order': False, 'shape': (2,), }", bytes));
    expect(tensor.dtype).toBe('int32');
    expect(Array.from(tensor.data as Int32Array)).toEqual([-123456, 789]);
  });

  it('keeps float64, int64 and bool with their dtypes', () => {
    const f8 = new Uint8Array(16);
    new DataView(f8.buffer).setFloat64(0, Math.PI, true);
    new DataView(f8.buffer).setFloat64(8, -0.1, true);
    const float64 = parseNpy(npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", f8));
    expect(float64.dtype).toBe('float64');
    expect(Array.from(float64.data as Float64Array)).toEqual([Math.PI, -0.1]);
    const i8 = new Uint8Array(8);
    new DataView(i8.buffer).setBigInt64(0, -(2n ** 40n), true);
    const int64 = parseNpy(npyBytes("{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }", i8));
    expect(int64.dtype).toBe('int64');
    expect(Array.from(int64.data as BigInt64Array)).toEqual([-(2n ** 40n)]);
    const bool = parseNpy(npyBytes("{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", Uint8Array.of(1, 0, 1)));
    expect(bool.dtype).toBe('bool');
    expect(Array.from(bool.data as Uint8Array)).toEqual([1, 0, 1]);
  });

  it('accepts Fortran order only where it equals C order', () => {
    const vector = parseNpy(npyBytes("{'descr': '<f4', 'fortran_order': True, 'shape': (1, 2), }", littleEndianFloat32([1, 2])));
    expect(vector.shape).toEqual([1, 2]);
    const error = quantErrorOf(() =>
      parseNpy(npyBytes("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", littleEndianFloat32([1, 2, 3, 4])), 'f.npy'),
    );
    expect(error.code).toBe('UNSUPPORTED');
    expect(error.message).toMatch(/^f\.npy: Fortran-ordered/);
  });

  it('names the source and the problem for malformed files', () => {
    const good = npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", littleEndianFloat32([1, 2, 3, 4]));
    const badMagic = Uint8Array.from(good);
    badMagic[1] = 0x4f;
    expect(quantErrorOf(() => parseNpy(badMagic, 'x.npy'))).toMatchObject({ code: 'CALIBRATION_DATA', message: expect.stringMatching(/^x\.npy: not an NPY file/) });
    expect(quantErrorOf(() => parseNpy(good.subarray(0, good.length - 3), 'x.npy'))).toMatchObject({
      code: 'CALIBRATION_DATA',
      message: expect.stringMatching(/x\.npy: truncated: shape \[4\] of <f4 needs 16 bytes of data, the file holds 13/),
    });
    expect(quantErrorOf(() => parseNpy(good.subarray(0, 40), 'x.npy')).message).toMatch(/header claims/);
    expect(quantErrorOf(() => parseNpy(Uint8Array.of(1, 2), 'x.npy')).code).toBe('CALIBRATION_DATA');
    const trailing = npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", littleEndianFloat32([1, 2]));
    expect(quantErrorOf(() => parseNpy(trailing, 'x.npy')).message).toMatch(/4 unexpected bytes/);
    const malformed = npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2 }", littleEndianFloat32([1, 2]));
    expect(quantErrorOf(() => parseNpy(malformed, 'x.npy'))).toMatchObject({ code: 'CALIBRATION_DATA', message: expect.stringMatching(/malformed NPY header/) });
    const code = npyBytes("{'descr': __import__('os'), 'fortran_order': False, 'shape': (1,), }", littleEndianFloat32([1]));
    expect(quantErrorOf(() => parseNpy(code, 'x.npy')).message).toMatch(/malformed NPY header/);
    const negative = npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", littleEndianFloat32([1]));
    expect(quantErrorOf(() => parseNpy(negative, 'x.npy')).message).toMatch(/shape \[-1\] is not a tuple of non-negative integers/);
  });

  it('refuses element types and versions it cannot hold, listing the accepted ones', () => {
    const u4 = quantErrorOf(() => parseNpy(npyBytes("{'descr': '<u4', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(4)), 'u.npy'));
    expect(u4.code).toBe('UNSUPPORTED');
    expect(u4.message).toMatch(/"<u4" is not supported; expected .*"<f4"/);
    const structured = npyBytes("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", new Uint8Array(4));
    expect(quantErrorOf(() => parseNpy(structured)).code).toBe('UNSUPPORTED');
    const v9 = npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(4));
    v9[6] = 9;
    expect(quantErrorOf(() => parseNpy(v9)).code).toBe('UNSUPPORTED');
  });
});

const dtypeArbitrary = fc.constantFrom<DType>('float32', 'float64', 'float16', 'int64', 'int32', 'int16', 'uint16', 'int8', 'uint8', 'bool');

function randomTensor(dtype: DType, shape: number[], seed: number[]): Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const at = (i: number) => seed[i % seed.length]! * (i + 1);
  switch (dtype) {
    case 'float32':
      return { dtype, shape, data: Float32Array.from({ length: size }, (_, i) => at(i) / 7) };
    case 'float64':
      return { dtype, shape, data: Float64Array.from({ length: size }, (_, i) => at(i) / 7) };
    case 'int64':
      return { dtype, shape, data: BigInt64Array.from({ length: size }, (_, i) => BigInt(at(i)) * 2n ** 33n) };
    case 'int32':
      return { dtype, shape, data: Int32Array.from({ length: size }, (_, i) => at(i) * 65537) };
    case 'int16':
      return { dtype, shape, data: Int16Array.from({ length: size }, (_, i) => at(i)) };
    case 'int8':
      return { dtype, shape, data: Int8Array.from({ length: size }, (_, i) => at(i)) };
    case 'bool':
      return { dtype, shape, data: Uint8Array.from({ length: size }, (_, i) => at(i) & 1) };
    case 'uint8':
      return { dtype, shape, data: Uint8Array.from({ length: size }, (_, i) => at(i)) };
    default:
      return { dtype, shape, data: Uint16Array.from({ length: size }, (_, i) => at(i)) } as Tensor;
  }
}

describe('encodeNpy', () => {
  it('round-trips through parseNpy for every dtype and shape', () => {
    fc.assert(
      fc.property(
        dtypeArbitrary,
        fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 4 }),
        fc.array(fc.integer({ min: -1000, max: 1000 }), { minLength: 1, maxLength: 8 }),
        (dtype, shape, seed) => {
          const tensor = randomTensor(dtype, shape, seed);
          const bytes = encodeNpy(tensor);
          const headerLength = bytes[8]! | (bytes[9]! << 8);
          expect((10 + headerLength) % 64).toBe(0);
          const parsed = parseNpy(bytes);
          expect(parsed.dtype).toBe(dtype);
          expect(parsed.shape).toEqual(shape);
          expect(Array.from(parsed.data as ArrayLike<unknown>)).toEqual(Array.from(tensor.data as ArrayLike<unknown>));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('writes the header NumPy writes', () => {
    const bytes = encodeNpy({ dtype: 'uint8', shape: [3], data: Uint8Array.of(1, 2, 3) });
    const headerLength = bytes[8]! | (bytes[9]! << 8);
    const header = String.fromCharCode(...bytes.subarray(10, 10 + headerLength));
    expect(header.trimEnd()).toBe("{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }");
    expect(header.endsWith('\n')).toBe(true);
    expect(Array.from(bytes.subarray(10 + headerLength))).toEqual([1, 2, 3]);
  });

  it('refuses dtypes without an NPY code', () => {
    expect(quantErrorOf(() => encodeNpy({ dtype: 'int4', shape: [1], data: Int8Array.of(1) })).code).toBe('UNSUPPORTED');
  });
});
