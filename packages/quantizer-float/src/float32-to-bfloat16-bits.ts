// One shared scratch pair: reading a float32's bits through an aliasing Uint32Array is exact and far faster than
// DataView calls in a loop.
const scratchFloat = new Float32Array(1);
const scratchBits = new Uint32Array(scratchFloat.buffer);

/**
 * bfloat16 bits of one number (first rounded to float32): round to nearest, ties to even; NaN stays NaN (the
 * quiet bit is set, so a NaN whose payload sits only in the dropped low bits does not turn into infinity); values
 * beyond the largest bfloat16 round to infinity, as IEEE rounding does (bfloat16 has float32's exponent range, so
 * only values within half an ulp of float32's maximum do).
 *
 * @example
 * bfloat16BitsOf(1); // 0x3f80
 */
export function bfloat16BitsOf(value: number): number {
  scratchFloat[0] = value;
  const bits = scratchBits[0]!;
  if ((bits & 0x7fffffff) > 0x7f800000) return ((bits >>> 16) | 0x0040) & 0xffff;
  // Adding 0x7fff plus the lowest kept bit rounds half to even: a tie carries only when the kept part is odd.
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

/**
 * Converts float32 values to bfloat16 bit patterns (the storage of a `bfloat16` Tensor), rounding to nearest even.
 *
 * @example
 * float32ToBfloat16Bits(Float32Array.of(1, -2.5, Number.NaN)); // Uint16Array [0x3f80, 0xc020, 0x7fc0]
 */
export function float32ToBfloat16Bits(values: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(values.length);
  const source = values instanceof Float32Array ? values : Float32Array.from(values);
  const bits = new Uint32Array(source.buffer, source.byteOffset, source.length);
  for (let i = 0; i < bits.length; i++) {
    const word = bits[i]!;
    out[i] =
      (word & 0x7fffffff) > 0x7f800000
        ? (word >>> 16) | 0x0040
        : (word + 0x7fff + ((word >>> 16) & 1)) >>> 16;
  }
  return out;
}

/**
 * Converts bfloat16 bit patterns to float32 values. Exact: every bfloat16 value is a float32 value.
 *
 * @example
 * bfloat16BitsToFloat32(Uint16Array.of(0x3f80, 0xc020)); // Float32Array [1, -2.5]
 */
export function bfloat16BitsToFloat32(bits: ArrayLike<number>): Float32Array {
  const words = new Uint32Array(bits.length);
  for (let i = 0; i < bits.length; i++) words[i] = (bits[i]! & 0xffff) << 16;
  return new Float32Array(words.buffer);
}
