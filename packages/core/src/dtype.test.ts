import { describe, expect, it } from 'vitest';
import {
  DTYPES,
  QUANT_DTYPES,
  allocate,
  dtypeInfo,
  isDType,
  isQuantDType,
  storageDTypeFor,
} from './dtype.js';
import { QuantError } from './errors.js';

describe('dtypeInfo', () => {
  it("gives two's-complement ranges for signed and [0, 2^b - 1] for unsigned integer types", () => {
    for (const dtype of ['int32', 'int16', 'uint16', 'int8', 'uint8', 'int4', 'uint4'] as const) {
      const info = dtypeInfo(dtype);
      expect(info.isInteger && !info.isFloat).toBe(true);
      expect(info.max - info.min + 1).toBe(2 ** info.bits);
      expect(info.min).toBe(info.isSigned ? -(2 ** (info.bits - 1)) : 0);
    }
    expect([dtypeInfo('int8').min, dtypeInfo('int8').max]).toEqual([-128, 127]);
    expect([dtypeInfo('uint4').min, dtypeInfo('uint4').max]).toEqual([0, 15]);
    expect(dtypeInfo('float32')).toMatchObject({ bits: 32, isFloat: true, isInteger: false });
    expect(dtypeInfo('bool')).toMatchObject({ min: 0, max: 1, isInteger: true });
  });

  it('holds every integer code of each quantized dtype in its storage array', () => {
    for (const dtype of QUANT_DTYPES) {
      const info = dtypeInfo(dtype);
      const storage = allocate(dtype, 2) as unknown as { [i: number]: number };
      storage[0] = info.min;
      storage[1] = info.max;
      expect([storage[0], storage[1]]).toEqual([info.min, info.max]);
    }
  });
});

describe('dtype predicates', () => {
  it('isDType and isQuantDType accept exactly the listed names', () => {
    for (const dtype of DTYPES) expect(isDType(dtype)).toBe(true);
    for (const name of ['float', 'toString', '__proto__', 'INT8', '']) expect(isDType(name)).toBe(false);
    for (const dtype of QUANT_DTYPES) expect(isQuantDType(dtype)).toBe(true);
    expect(isQuantDType('float32')).toBe(false);
    expect(isQuantDType('int64')).toBe(false);
  });
});

describe('storageDTypeFor', () => {
  it('chooses the smallest storage holding the bits', () => {
    for (let bits = 2; bits <= 32; bits++) {
      for (const signed of bits <= 16 ? [true, false] : [true]) {
        const dtype = storageDTypeFor(bits, signed);
        const info = dtypeInfo(dtype);
        expect(info.bits).toBeGreaterThanOrEqual(bits);
        expect(info.bits).toBe(bits <= 4 ? 4 : bits <= 8 ? 8 : bits <= 16 ? 16 : 32);
        if (bits <= 16) expect(info.isSigned).toBe(signed);
      }
    }
  });

  it('refuses unsigned codes wider than 16 bits, which int32 cannot hold', () => {
    expect(() => storageDTypeFor(17, false)).toThrow(/unsigned codes are limited to 16 bits/);
  });

  it.each([1, 33, 2.5, Number.NaN])('refuses bits %s', (bits) => {
    let error: unknown;
    try {
      storageDTypeFor(bits, true);
    } catch (caught) {
      error = caught;
    }
    expect(QuantError.is(error, 'INVALID_ARGUMENT')).toBe(true);
    expect((error as Error).message).toContain('bits must be an integer from 2 to 32');
  });
});

describe('allocate', () => {
  it('returns zeroed typed arrays of the right class and length', () => {
    const classes: Record<string, unknown> = {
      float32: Float32Array,
      float64: Float64Array,
      float16: Uint16Array,
      int64: BigInt64Array,
      int32: Int32Array,
      int8: Int8Array,
      int4: Int8Array,
      uint4: Uint8Array,
      bool: Uint8Array,
    };
    for (const [dtype, type] of Object.entries(classes)) {
      const array = allocate(dtype as never, 3);
      expect(array).toBeInstanceOf(type);
      expect(array).toHaveLength(3);
    }
  });

  it('refuses unknown dtypes, listing the valid ones', () => {
    expect(() => allocate('complex64' as never, 1)).toThrow(
      /unknown dtype "complex64"; expected "float32", /,
    );
  });
});
