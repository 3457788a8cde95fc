import { Float16Array } from '@petamoriken/float16';

/** Largest finite float16 value. */
export const FLOAT16_MAX = 65504;

/**
 * Converts values to IEEE 754 binary16 bit patterns (the storage of a `float16` Tensor) with
 * @petamoriken/float16: round to nearest even, values beyond the float16 range become infinity, NaN stays NaN.
 * Pass `{ saturate: true }` to clamp finite values to +-65504 instead (what weight conversion wants: an infinite
 * weight would poison every output it touches).
 *
 * @example
 * toFloat16Bits([1, 65520]); // Uint16Array [0x3c00, 0x7c00]
 * toFloat16Bits([1, 65520], { saturate: true }); // Uint16Array [0x3c00, 0x7bff]
 */
export function toFloat16Bits(values: ArrayLike<number>, options: { saturate?: boolean } = {}): Uint16Array {
  let source: ArrayLike<number> = values;
  if (options.saturate) {
    const clamped = Float64Array.from(values);
    for (let i = 0; i < clamped.length; i++) {
      const value = clamped[i]!;
      if (value > FLOAT16_MAX && value !== Number.POSITIVE_INFINITY) clamped[i] = FLOAT16_MAX;
      else if (value < -FLOAT16_MAX && value !== Number.NEGATIVE_INFINITY) clamped[i] = -FLOAT16_MAX;
    }
    source = clamped;
  }
  // The library's typed-array constructor converts a whole array in one pass (element-wise setFloat16 calls are
  // ~40x slower); its buffer then holds the bits.
  const half = new Float16Array(source as ArrayLike<number>);
  return new Uint16Array(half.buffer, half.byteOffset, half.length);
}

let decodeTable: Float32Array | undefined;

/** Float32 value of every float16 bit pattern, built once with the library (a 256 KiB table). */
function float16Table(): Float32Array {
  if (decodeTable === undefined) {
    const codes = new Uint16Array(65536);
    for (let i = 0; i < codes.length; i++) codes[i] = i;
    const half = new Float16Array(codes.buffer);
    const table = new Float32Array(65536);
    for (let i = 0; i < table.length; i++) table[i] = half[i]!;
    decodeTable = table;
  }
  return decodeTable;
}

/**
 * Converts float16 bit patterns to float32 values. Exact: every float16 value is a float32 value.
 *
 * @example
 * fromFloat16Bits(Uint16Array.of(0x3c00, 0xc000)); // Float32Array [1, -2]
 */
export function fromFloat16Bits(bits: ArrayLike<number>): Float32Array {
  const table = float16Table();
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = table[bits[i]! & 0xffff]!;
  return out;
}
