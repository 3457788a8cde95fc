import { QuantError, listChoices } from './errors.js';

/** Element types quantkit handles. Sub-byte types are held one element per array slot and packed on save. */
export type DType =
  | 'float32'
  | 'float64'
  | 'float16'
  | 'bfloat16'
  | 'float8e4m3fn'
  | 'float8e5m2'
  | 'int64'
  | 'int32'
  | 'int16'
  | 'uint16'
  | 'int8'
  | 'uint8'
  | 'int4'
  | 'uint4'
  | 'bool';

/** Integer types that can hold quantized codes. */
export type QuantDType = 'int32' | 'int16' | 'uint16' | 'int8' | 'uint8' | 'int4' | 'uint4';

/** The typed array each dtype is held in. float16/bfloat16/float8 keep their raw bits. */
export interface DTypeStorage {
  float32: Float32Array;
  float64: Float64Array;
  float16: Uint16Array;
  bfloat16: Uint16Array;
  float8e4m3fn: Uint8Array;
  float8e5m2: Uint8Array;
  int64: BigInt64Array;
  int32: Int32Array;
  int16: Int16Array;
  uint16: Uint16Array;
  int8: Int8Array;
  uint8: Uint8Array;
  int4: Int8Array;
  uint4: Uint8Array;
  bool: Uint8Array;
}

export type TypedArray = DTypeStorage[DType];

export interface DTypeInfo {
  readonly bits: number;
  readonly isFloat: boolean;
  readonly isInteger: boolean;
  readonly isSigned: boolean;
  /** Smallest and largest representable integer, for integer types. */
  readonly min: number;
  readonly max: number;
}

function integer(bits: number, isSigned: boolean): DTypeInfo {
  const min = isSigned ? -(2 ** (bits - 1)) : 0;
  const max = isSigned ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
  return { bits, isFloat: false, isInteger: true, isSigned, min, max };
}

function float(bits: number): DTypeInfo {
  return { bits, isFloat: true, isInteger: false, isSigned: true, min: -Infinity, max: Infinity };
}

const infos: Record<DType, DTypeInfo> = {
  float32: float(32),
  float64: float(64),
  float16: float(16),
  bfloat16: float(16),
  float8e4m3fn: float(8),
  float8e5m2: float(8),
  int64: { ...integer(64, true), min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER },
  int32: integer(32, true),
  int16: integer(16, true),
  uint16: integer(16, false),
  int8: integer(8, true),
  uint8: integer(8, false),
  int4: integer(4, true),
  uint4: integer(4, false),
  bool: { bits: 8, isFloat: false, isInteger: true, isSigned: false, min: 0, max: 1 },
};

export const DTYPES = Object.keys(infos) as readonly DType[];
export const QUANT_DTYPES: readonly QuantDType[] = ['int32', 'int16', 'uint16', 'int8', 'uint8', 'int4', 'uint4'];

/** Facts about a dtype: width, signedness and integer range. */
export function dtypeInfo(dtype: DType): DTypeInfo {
  return infos[dtype];
}

export function isDType(value: string): value is DType {
  return Object.hasOwn(infos, value);
}

export function isQuantDType(value: string): value is QuantDType {
  return (QUANT_DTYPES as readonly string[]).includes(value);
}

/**
 * The smallest quantized storage type that holds `bits`-bit codes: 2-4 bits go to int4/uint4, 5-8 to int8/uint8,
 * 9-16 to int16/uint16, more to int32.
 * @throws QuantError INVALID_ARGUMENT when bits is not an integer from 2 to 32.
 */
export function storageDTypeFor(bits: number, isSigned: boolean): QuantDType {
  if (!Number.isInteger(bits) || bits < 2 || bits > 32) {
    throw new QuantError('INVALID_ARGUMENT', `bits must be an integer from 2 to 32, got ${bits}`);
  }
  if (bits <= 4) return isSigned ? 'int4' : 'uint4';
  if (bits <= 8) return isSigned ? 'int8' : 'uint8';
  if (bits <= 16) return isSigned ? 'int16' : 'uint16';
  if (!isSigned) throw new QuantError('INVALID_ARGUMENT', `unsigned codes are limited to 16 bits, got ${bits}`);
  return 'int32';
}

/** Allocates zeroed storage for `length` elements of `dtype`. */
export function allocate<D extends DType>(dtype: D, length: number): DTypeStorage[D] {
  switch (dtype) {
    case 'float32':
      return new Float32Array(length) as DTypeStorage[D];
    case 'float64':
      return new Float64Array(length) as DTypeStorage[D];
    case 'float16':
    case 'bfloat16':
    case 'uint16':
      return new Uint16Array(length) as DTypeStorage[D];
    case 'int64':
      return new BigInt64Array(length) as DTypeStorage[D];
    case 'int32':
      return new Int32Array(length) as DTypeStorage[D];
    case 'int16':
      return new Int16Array(length) as DTypeStorage[D];
    case 'int8':
    case 'int4':
      return new Int8Array(length) as DTypeStorage[D];
    case 'float8e4m3fn':
    case 'float8e5m2':
    case 'uint8':
    case 'uint4':
    case 'bool':
      return new Uint8Array(length) as DTypeStorage[D];
    default:
      throw new QuantError('INVALID_ARGUMENT', `unknown dtype "${dtype}"; expected ${listChoices(DTYPES)}`);
  }
}
