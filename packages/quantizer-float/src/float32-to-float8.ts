import { QuantError, listChoices } from '@quantkit/core';

/** The two float8 formats of ONNX (opset 19+) that quantkit writes. */
export type Float8Format = 'e4m3fn' | 'e5m2';

export const FLOAT8_FORMATS: readonly Float8Format[] = ['e4m3fn', 'e5m2'];

/** Largest finite value of each float8 format: 0x7E = 1.75 * 2^8 for e4m3fn, 0x7B = 1.75 * 2^15 for e5m2. */
export const FLOAT8_MAX: Readonly<Record<Float8Format, number>> = { e4m3fn: 448, e5m2: 57344 };

/** The quantkit/ONNX dtype holding each format's bit patterns. */
export const FLOAT8_DTYPES = { e4m3fn: 'float8e4m3fn', e5m2: 'float8e5m2' } as const;

export interface Float8ConversionOptions {
  /**
   * What happens to values beyond the largest finite float8 value (including infinities): true (the default,
   * like ONNX Cast/QuantizeLinear's default `saturate=1`) clamps them to +-max; false gives NaN for e4m3fn (it has
   * no infinity) and +-infinity for e5m2, per the ONNX spec's table for `saturate=0`.
   */
  saturate?: boolean;
}

interface Layout {
  mantissaBits: number;
  bias: number;
  /** Largest finite magnitude code. */
  maxCode: number;
  /** Code for overflow when not saturating. */
  overflowCode: number;
  /** The canonical NaN written for NaN inputs. */
  nanCode: number;
}

const LAYOUTS: Record<Float8Format, Layout> = {
  // e4m3fn: 4 exponent bits (bias 7), 3 mantissa bits, no infinities; only S.1111.111 is NaN.
  e4m3fn: { mantissaBits: 3, bias: 7, maxCode: 0x7e, overflowCode: 0x7f, nanCode: 0x7f },
  // e5m2: IEEE-like, 5 exponent bits (bias 15), 2 mantissa bits; 0x7C is infinity, 0x7D..0x7F are NaN.
  e5m2: { mantissaBits: 2, bias: 15, maxCode: 0x7b, overflowCode: 0x7c, nanCode: 0x7f },
};

const scratchFloat = new Float32Array(1);
const scratchBits = new Uint32Array(scratchFloat.buffer);

/** Float8 code of one float32 bit pattern; integer arithmetic only, so the rounding is exact. */
function encodeBits(word: number, layout: Layout, saturate: boolean): number {
  const sign = (word >>> 24) & 0x80;
  const exponent = (word >>> 23) & 0xff;
  const mantissa = word & 0x7fffff;
  if (exponent === 0xff) {
    if (mantissa !== 0) return layout.nanCode;
    return sign | (saturate ? layout.maxCode : layout.overflowCode);
  }
  // float32 subnormals (< 2^-126) lie far below half the smallest float8 subnormal (2^-10 or 2^-17).
  if (exponent === 0) return sign;
  const { mantissaBits, bias } = layout;
  const unbiased = exponent - 127;
  const significand = mantissa | 0x800000; // 1.m as a 24-bit integer
  // Drop enough low bits that what remains counts units of the target's ulp at this exponent (the subnormal ulp,
  // 2^(1 - bias - mantissaBits), below the smallest normal exponent).
  const shift = unbiased >= 1 - bias ? 23 - mantissaBits : 24 - bias - mantissaBits - unbiased;
  if (shift > 25) return sign; // below a quarter of the smallest subnormal
  let units = significand >>> shift;
  const remainder = significand - units * 2 ** shift;
  const half = 2 ** (shift - 1);
  if (remainder > half || (remainder === half && (units & 1) === 1)) units++;
  // For normals, units is 1.m in ulps (2^m .. 2^(m+1)); the implicit 1 is folded into the exponent field, and a
  // carry out of the mantissa bumps the exponent for free. For subnormals the exponent field is 0 (and a carry to
  // 2^m lands exactly on the smallest normal's code).
  const magnitude = unbiased >= 1 - bias ? ((unbiased + bias - 1) << mantissaBits) + units : units;
  if (magnitude > layout.maxCode) return sign | (saturate ? layout.maxCode : layout.overflowCode);
  return sign | magnitude;
}

function checkFormat(format: string): asserts format is Float8Format {
  if (!(format in LAYOUTS)) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      `float8 format "${format}" is not supported; choose ${listChoices(FLOAT8_FORMATS)}`,
    );
  }
}

/**
 * The float8 code of one number (first rounded to float32, as ONNX casts from float32), rounding to nearest even.
 *
 * @example
 * float8BitsOf(1, 'e4m3fn'); // 0x38
 * float8BitsOf(1000, 'e4m3fn'); // 0x7e (448, saturated)
 * @throws QuantError INVALID_ARGUMENT for an unknown format.
 */
export function float8BitsOf(
  value: number,
  format: Float8Format,
  options: Float8ConversionOptions = {},
): number {
  checkFormat(format);
  scratchFloat[0] = value;
  return encodeBits(scratchBits[0]!, LAYOUTS[format], options.saturate ?? true);
}

/**
 * Converts values to float8 codes of `format`; see {@link float32ToFloat8E4M3FN} and {@link float32ToFloat8E5M2}.
 * @throws QuantError INVALID_ARGUMENT for an unknown format.
 */
export function float32ToFloat8(
  values: ArrayLike<number>,
  format: Float8Format,
  options: Float8ConversionOptions = {},
): Uint8Array {
  checkFormat(format);
  const layout = LAYOUTS[format];
  const saturate = options.saturate ?? true;
  const source = values instanceof Float32Array ? values : Float32Array.from(values);
  const words = new Uint32Array(source.buffer, source.byteOffset, source.length);
  const out = new Uint8Array(source.length);
  for (let i = 0; i < words.length; i++) out[i] = encodeBits(words[i]!, layout, saturate);
  return out;
}

/**
 * Converts values to float8 e4m3fn codes (ONNX FLOAT8E4M3FN): round to nearest even; NaN becomes 0x7F (the
 * format's positive NaN); there are no infinities, so by default (ONNX's `saturate=1`) out-of-range values and
 * infinities clamp to +-448, and with `saturate: false` they become NaN.
 *
 * @example
 * float32ToFloat8E4M3FN([1, -0.5, 500, Number.NaN]); // Uint8Array [0x38, 0xb0, 0x7e, 0x7f]
 */
export function float32ToFloat8E4M3FN(
  values: ArrayLike<number>,
  options: Float8ConversionOptions = {},
): Uint8Array {
  return float32ToFloat8(values, 'e4m3fn', options);
}

/**
 * Converts values to float8 e5m2 codes (ONNX FLOAT8E5M2): round to nearest even; NaN becomes 0x7F; by default
 * (ONNX's `saturate=1`) out-of-range values and infinities clamp to +-57344, with `saturate: false` they become
 * +-infinity.
 *
 * @example
 * float32ToFloat8E5M2([1, 1e6]); // Uint8Array [0x3c, 0x7b]
 */
export function float32ToFloat8E5M2(
  values: ArrayLike<number>,
  options: Float8ConversionOptions = {},
): Uint8Array {
  return float32ToFloat8(values, 'e5m2', options);
}

/**
 * The value of one float8 code.
 * @example
 * float8Value(0x7e, 'e4m3fn'); // 448
 * @throws QuantError INVALID_ARGUMENT for an unknown format.
 */
export function float8Value(code: number, format: Float8Format): number {
  checkFormat(format);
  const { mantissaBits, bias } = LAYOUTS[format];
  const sign = code & 0x80 ? -1 : 1;
  const exponentField = (code & 0x7f) >>> mantissaBits;
  const mantissa = code & ((1 << mantissaBits) - 1);
  const maxExponentField = (0x7f >>> mantissaBits) & 0xff;
  if (format === 'e4m3fn' && (code & 0x7f) === 0x7f) return Number.NaN;
  if (format === 'e5m2' && exponentField === maxExponentField) {
    return mantissa === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  }
  if (exponentField === 0) return sign * mantissa * 2 ** (1 - bias - mantissaBits);
  return sign * (1 + mantissa / (1 << mantissaBits)) * 2 ** (exponentField - bias);
}

const decodeTables = new Map<Float8Format, Float32Array>();

function decodeTable(format: Float8Format): Float32Array {
  let table = decodeTables.get(format);
  if (table === undefined) {
    table = new Float32Array(256);
    for (let code = 0; code < 256; code++) table[code] = float8Value(code, format);
    decodeTables.set(format, table);
  }
  return table;
}

/**
 * Converts float8 codes of `format` to float32 values (exact).
 * @throws QuantError INVALID_ARGUMENT for an unknown format.
 */
export function float8ToFloat32(codes: ArrayLike<number>, format: Float8Format): Float32Array {
  checkFormat(format);
  const table = decodeTable(format);
  const out = new Float32Array(codes.length);
  for (let i = 0; i < codes.length; i++) out[i] = table[codes[i]! & 0xff]!;
  return out;
}

/**
 * Converts float8 e4m3fn codes to float32 values (exact; 0x7F and 0xFF are NaN).
 * @example
 * float8E4M3FNToFloat32(Uint8Array.of(0x38, 0x7e)); // Float32Array [1, 448]
 */
export function float8E4M3FNToFloat32(codes: ArrayLike<number>): Float32Array {
  return float8ToFloat32(codes, 'e4m3fn');
}

/**
 * Converts float8 e5m2 codes to float32 values (exact; 0x7C is infinity, 0x7D..0x7F NaN).
 * @example
 * float8E5M2ToFloat32(Uint8Array.of(0x3c, 0x7b)); // Float32Array [1, 57344]
 */
export function float8E5M2ToFloat32(codes: ArrayLike<number>): Float32Array {
  return float8ToFloat32(codes, 'e5m2');
}
