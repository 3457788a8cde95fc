import { exactPow2, floorLogIndex, roundLogIndex } from './exact-log2.js';

// NNIE-style 8-bit logarithmic codes, as public descriptions of HiSilicon NNIE's log quantization state them
// (e.g. MQBench's documentation of its NNIE backend); this is not derived from vendor code.
//
// A tensor has one clipping value c (here max|x|) and, 16 steps per octave, the top exponent T = round(16 log2 c)
// (in sixteenths of an octave) and z = T - 127. The code is a byte in sign-magnitude ("true form"):
//
//   0x00..0x7F  +2^((z + m)/16) for m = 0..127      (128 positive magnitudes; 0x00 is the smallest, not zero)
//   0x80        0                                    (the "negative zero" code is the zero code)
//   0x81..0xFF  -2^((z + m)/16) for m = 1..127       (127 negative magnitudes)
//
// A positive x >= 2^(z/16 - 1) (half the smallest positive level) takes m = clamp(round(16 log2 x) - z, 0, 127);
// a negative x < -2^((z + 1)/16 - 1) takes m = clamp(round(16 log2 |x|) - z, 1, 127); everything between is 0.
// The rounding is in the log domain, like Miyashita's.

/** Steps per octave of the NNIE log code. */
export const NNIE_STEPS_PER_OCTAVE = 16;
/** The zero code (sign bit set, magnitude 0). */
export const NNIE_ZERO_CODE = 0x80;
/** T is kept in [-2016, 2047]: 2^(T/16) stays below float32's largest value and its octave 2^floor(T/16) normal. */
export const MIN_NNIE_FSR = -126 * NNIE_STEPS_PER_OCTAVE;
export const MAX_NNIE_FSR = 128 * NNIE_STEPS_PER_OCTAVE - 1;

/**
 * T = round(16 log2 maxAbs), the top level's exponent in sixteenths of an octave (0 for an all-zero tensor).
 * @example nnieFsr(1) === 0; nnieFsr(3) === 25 (16 * 1.585 = 25.4)
 */
export function nnieFsr(maxAbs: number): number {
  if (!(maxAbs > 0)) return 0;
  return Math.min(Math.max(roundLogIndex(maxAbs, NNIE_STEPS_PER_OCTAVE), MIN_NNIE_FSR), MAX_NNIE_FSR);
}

/**
 * The code byte of one value in a tensor with top exponent T (see the layout above).
 * @example encodeNnieValue(1, 0) === 0x7f; encodeNnieValue(-1, 0) === 0xff; encodeNnieValue(0, 0) === 0x80
 */
export function encodeNnieValue(value: number, top: number): number {
  const z = top - 127;
  if (value > 0) {
    // x >= 2^((z - 16)/16): exact in the integer domain, floor(16 log2 x) >= z - 16.
    if (floorLogIndex(value, NNIE_STEPS_PER_OCTAVE) < z - 16) return NNIE_ZERO_CODE;
    return Math.min(Math.max(roundLogIndex(value, NNIE_STEPS_PER_OCTAVE) - z, 0), 127);
  }
  if (value < 0) {
    const magnitude = -value;
    const bound = z - 15;
    // |x| > 2^(bound/16): strictly, so |x| equal to the bound (possible only when it is a power of two) is zero.
    const floor = floorLogIndex(magnitude, NNIE_STEPS_PER_OCTAVE);
    const onBound = bound % 16 === 0 && magnitude === exactPow2(bound / 16);
    if (floor < bound || onBound) return NNIE_ZERO_CODE;
    return 0x80 | Math.min(Math.max(roundLogIndex(magnitude, NNIE_STEPS_PER_OCTAVE) - z, 1), 127);
  }
  return NNIE_ZERO_CODE;
}

/**
 * Index of a code byte in the ascending lookup table: negative magnitudes 127 - m (0..126), zero 127, positive
 * magnitudes 128 + m (128..255). Ascending indices keep `code * scale` monotone for tools that ignore the table.
 */
export function nnieLookupIndex(code: number): number {
  if (code === NNIE_ZERO_CODE) return 127;
  return code & 0x80 ? 127 - (code & 0x7f) : 128 + code;
}

/** The code byte of a lookup index (inverse of {@link nnieLookupIndex}). */
export function nnieCodeOfIndex(index: number): number {
  if (index === 127) return NNIE_ZERO_CODE;
  return index < 127 ? 0x80 | (127 - index) : index - 128;
}

/**
 * The scale of the Gather form: 2^floor(T/16), a power of two, so `table[index] * scale` rounds only once (in the
 * table).
 */
export function nnieScale(top: number): number {
  return exactPow2(Math.floor(top / NNIE_STEPS_PER_OCTAVE));
}

/**
 * The 256-entry ascending table of the Gather form for top exponent T: entry 128 + m is float32(2^((m - 127 + r)/16))
 * with r = T mod 16, entry 127 - m its negative, entry 127 zero. Times nnieScale(T) it is the level 2^((z + m)/16)
 * rounded once to float32.
 */
export function nnieLookupTable(top: number): Float32Array {
  const r = top - NNIE_STEPS_PER_OCTAVE * Math.floor(top / NNIE_STEPS_PER_OCTAVE);
  const table = new Float32Array(256);
  for (let m = 0; m <= 127; m++) {
    const level = 2 ** ((m - 127 + r) / NNIE_STEPS_PER_OCTAVE);
    table[128 + m] = level;
    if (m > 0) table[127 - m] = -level;
  }
  return table;
}
