// float16 and bfloat16 tensors hold raw bits in a Uint16Array (see @quantkit/core's dtypes). Kernels compute in
// float32, so these convert whole arrays at once: float16 is decoded through a 65536-entry table (every float16 is
// exact in float32) and encoded with integer arithmetic on the float32 bits, both rounding to nearest even. Per
// element DataView calls (getFloat16/setFloat16) cost about a microsecond each, too slow for activations.

/** The 16-bit float dtypes whose values the JS kernels compute on in float32. */
export type HalfDType = 'float16' | 'bfloat16';

/** Whether a dtype is one of the 16-bit float types. */
export function isHalfDType(dtype: string): dtype is HalfDType {
  return dtype === 'float16' || dtype === 'bfloat16';
}

const bits32 = new Uint32Array(1);
const float32 = new Float32Array(bits32.buffer);

let float16Table: Float32Array | undefined;

/** The float32 value of every float16 bit pattern (built on first use: 256 KiB). */
function float16Values(): Float32Array {
  if (float16Table !== undefined) return float16Table;
  const table = new Float32Array(65536);
  const words = new Uint32Array(table.buffer);
  for (let bits = 0; bits < 65536; bits++) {
    const sign = (bits & 0x8000) << 16;
    const exponent = (bits >>> 10) & 0x1f;
    const mantissa = bits & 0x3ff;
    if (exponent === 0x1f) {
      // Infinity, or NaN with its payload kept.
      words[bits] = sign | 0x7f800000 | (mantissa << 13);
    } else if (exponent !== 0) {
      words[bits] = sign | ((exponent + 112) << 23) | (mantissa << 13);
    } else {
      // Zero or subnormal: mantissa * 2^-24, exact in float32.
      table[bits] = (sign !== 0 ? -mantissa : mantissa) * 2 ** -24;
      if (mantissa === 0 && sign !== 0) table[bits] = -0;
    }
  }
  float16Table = table;
  return table;
}

/** A float32 value as float16 bits, rounded to nearest even (NaN stays NaN, overflow becomes infinity). */
export function float16Bits(value: number): number {
  float32[0] = value;
  const x = bits32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  const mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa !== 0 ? 0x200 | (mantissa >>> 13) : 0);
  const halfExponent = exponent - 112;
  if (halfExponent >= 0x1f) return sign | 0x7c00;
  if (halfExponent <= 0) {
    // Subnormal (or zero) in float16: the 24-bit significand shifted right, rounded to nearest even.
    if (halfExponent < -10) return sign;
    const significand = mantissa | 0x800000;
    const shift = 14 - halfExponent;
    const half = significand >>> shift;
    const rest = significand & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    return sign | (half + (rest > halfway || (rest === halfway && (half & 1) !== 0) ? 1 : 0));
  }
  const half = (halfExponent << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  // A carry out of the mantissa steps the exponent up, to infinity past the largest finite value: as it should.
  return sign | (half + (rest > 0x1000 || (rest === 0x1000 && (half & 1) !== 0) ? 1 : 0));
}

/** A float32 value as bfloat16 bits (the high half of its float32 bits), rounded to nearest even. */
export function bfloat16Bits(value: number): number {
  float32[0] = value;
  const x = bits32[0]!;
  if ((x & 0x7f800000) === 0x7f800000 && (x & 0x7fffff) !== 0) return (x >>> 16) | 0x40;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

/** 16-bit float bits as float32 values (exact). */
export function halfToFloat32(bits: Uint16Array, dtype: HalfDType): Float32Array {
  const out = new Float32Array(bits.length);
  if (dtype === 'float16') {
    const table = float16Values();
    for (let i = 0; i < bits.length; i++) out[i] = table[bits[i]!]!;
  } else {
    const words = new Uint32Array(out.buffer);
    for (let i = 0; i < bits.length; i++) words[i] = bits[i]! << 16;
  }
  return out;
}

/** Float values as 16-bit float bits, each rounded to nearest even once from its float32 value. */
export function float32ToHalf(values: Float32Array, dtype: HalfDType): Uint16Array {
  const out = new Uint16Array(values.length);
  if (dtype === 'float16') {
    for (let i = 0; i < values.length; i++) out[i] = float16Bits(values[i]!);
  } else {
    const words = new Uint32Array(values.buffer, values.byteOffset, values.length);
    for (let i = 0; i < values.length; i++) {
      const x = words[i]!;
      out[i] =
        (x & 0x7f800000) === 0x7f800000 && (x & 0x7fffff) !== 0
          ? (x >>> 16) | 0x40
          : ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
    }
  }
  return out;
}
