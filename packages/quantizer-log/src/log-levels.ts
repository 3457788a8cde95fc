import { ceilLog2, exactPow2, nearestLinearExponent, roundLogIndex } from './exact-log2.js';

// The code layout (Miyashita, Lee & Murmann 2016, "Convolutional Neural Networks using Logarithmic Data
// Representation"), for b bits:
//
//   bit b-1      sign (1 = negative)
//   bits 0..b-2  magnitude index m: m = 0 is zero, m = 1..M with M = 2^(b-1) - 1 is 2^(FSR - M + m)
//
// so the nonzero exponents are FSR - 2^(b-1) + 2 .. FSR: M = 2^(b-1) - 1 of them per sign, and a tensor has
// 2 * M + 1 = 2^b - 1 distinct values (the code "negative zero" is never produced). This is the paper's
// LogQuant with its bitwidth = b - 1 magnitude bits and its clip: exponents at or below
// min = FSR - 2^(b-1) + 1 become zero (the paper's Clip returns 0 for x <= min), exponents above FSR saturate
// at FSR. (The paper's FSR is exclusive, max - 1; here FSR is the top level itself, so the largest weight is
// representable.) Examples: 3 bits -> +-{2^(F-2), 2^(F-1), 2^F} and 0, 7 values; 4 bits -> 7 exponents, 15 values;
// 8 bits -> 127 exponents, 255 values.

/** Narrowest log code: sign + 2-bit magnitude index (3 exponents). */
export const MIN_LOG_BITS = 3;
/** Widest log code: sign + 7-bit magnitude index (127 exponents). */
export const MAX_LOG_BITS = 8;
/** Every code width the log quantizer accepts, for `QuantizerCapabilities.bits`. */
export const LOG_BITS: readonly number[] = Object.freeze([3, 4, 5, 6, 7, 8]);

/**
 * FSR is kept in [-126, 127] so 2^FSR is a normal float32 (a scale the ONNX Mul and DequantizeLinear take as is);
 * a group whose largest magnitude is below 2^-126 is effectively zero for any float32 model anyway.
 */
export const MIN_LOG_FSR = -126;
export const MAX_LOG_FSR = 127;
/** Levels below 2^-149 (the smallest float32) cannot be held exactly; values that would round there become 0. */
export const MIN_LOG_EXPONENT = -149;

/**
 * How a magnitude picks its exponent:
 * - 'log' (default, the paper's rule): round(log2 |x|), i.e. nearest in the log domain; the boundary between
 *   2^e and 2^(e+1) is 2^(e + 0.5) = 1.414 * 2^e, and values below 2^(e_min - 0.5) become 0.
 * - 'linear': the nearest level in the linear domain; the boundary is 1.5 * 2^e (exact ties go up), and values
 *   below 2^(e_min - 1) (half the smallest level) become 0.
 */
export type LogRounding = 'log' | 'linear';

/**
 * How FSR (the top exponent of a group) follows from the group's largest magnitude max|w|:
 * - 'round' (default): the exponent max|w| itself rounds to under the chosen rounding, so the largest weight is
 *   represented as well as any other and no level is wasted above it;
 * - 'ceil': ceil(log2 max|w|), so the top level never sits below max|w| (nothing is clipped), at the cost of
 *   the top level often being unused and one exponent fewer covering small weights.
 */
export type LogFsrRule = 'round' | 'ceil';

/** Nonzero magnitudes of a b-bit log code: M = 2^(b-1) - 1. */
export function logMagnitudes(bits: number): number {
  return 2 ** (bits - 1) - 1;
}

/**
 * The exponent of the smallest nonzero level of a group: FSR - M + 1, but never below 2^-149.
 * @example smallestLogExponent(0, 4) === -6
 */
export function smallestLogExponent(fsr: number, bits: number): number {
  return Math.max(fsr - logMagnitudes(bits) + 1, MIN_LOG_EXPONENT);
}

/**
 * FSR of a group from its largest magnitude (see {@link LogFsrRule}), clamped to [-126, 127]; 0 for an all-zero
 * group.
 * @example logFsr(0.3, 'log', 'round') === -2 (log2 0.3 = -1.74); logFsr(0.3, 'log', 'ceil') === -1
 */
export function logFsr(maxAbs: number, rounding: LogRounding, rule: LogFsrRule): number {
  if (!(maxAbs > 0)) return 0;
  const top =
    rule === 'ceil'
      ? ceilLog2(maxAbs)
      : rounding === 'log'
        ? roundLogIndex(maxAbs, 1)
        : nearestLinearExponent(maxAbs);
  return Math.min(Math.max(top, MIN_LOG_FSR), MAX_LOG_FSR);
}

/**
 * The signed magnitude index s in [-M, M] of one value: sign(x) * m, 0 for zero (see the layout above).
 * @example encodeLogValue(-0.3, 0, 4, 'log') === -5 (log2 0.3 = -1.74 rounds to -2 = FSR - 7 + 5)
 */
export function encodeLogValue(value: number, fsr: number, bits: number, rounding: LogRounding): number {
  const magnitude = Math.abs(value);
  if (magnitude === 0) return 0;
  const low = smallestLogExponent(fsr, bits);
  let e: number;
  if (rounding === 'log') {
    e = roundLogIndex(magnitude, 1);
    if (e < low) return 0;
  } else {
    e = nearestLinearExponent(magnitude);
    // Below the smallest level the choice is between 0 and 2^low; the midpoint is 2^(low - 1).
    if (e < low) {
      if (magnitude < exactPow2(low - 1)) return 0;
      e = low;
    }
  }
  if (e > fsr) e = fsr;
  const m = e - fsr + logMagnitudes(bits);
  return value < 0 ? -m : m;
}

/**
 * The value of signed magnitude index s in a group with top exponent fsr: sign(s) * 2^(fsr - M + |s|).
 * @example logLevel(-5, 0, 4) === -0.25
 */
export function logLevel(signedIndex: number, fsr: number, bits: number): number {
  if (signedIndex === 0) return 0;
  const level = exactPow2(fsr - logMagnitudes(bits) + Math.abs(signedIndex));
  return signedIndex < 0 ? -level : level;
}

/**
 * The lookup table of the Gather form: the 2^b - 1 signed levels relative to 2^FSR, ascending, so index M + s
 * holds sign(s) * 2^(|s| - M) and index M holds 0. Every entry is an exact float32 (down to 2^-126 for 8 bits);
 * multiplied by the group's scale 2^FSR it gives the level exactly.
 * @example logLookupTable(3) // [-1, -0.5, -0.25, 0, 0.25, 0.5, 1]
 */
export function logLookupTable(bits: number): Float32Array {
  const magnitudes = logMagnitudes(bits);
  const table = new Float32Array(2 * magnitudes + 1);
  for (let s = -magnitudes; s <= magnitudes; s++) table[magnitudes + s] = logLevel(s, 0, bits);
  return table;
}

/**
 * The int8 power-of-two form holds 7 exponents, codes +-{1, 2, ..., 64}: its scale is 2^(FSR - shift), with
 * shift = min(M - 1, 6). For 3 and 4 bits every level fits (shift = M - 1); wider codes fit only when no value
 * of the group uses an exponent below FSR - 6.
 * @example logInt8Shift(3) === 2; logInt8Shift(4) === 6; logInt8Shift(8) === 6
 */
export function logInt8Shift(bits: number): number {
  return Math.min(logMagnitudes(bits) - 1, 6);
}
