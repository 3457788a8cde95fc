// Exact exponent arithmetic for positive finite doubles (every float32 weight is one).
//
// Math.log2 is not correctly rounded, so `Math.round(S * Math.log2(x))` could put a value that sits within an ulp
// of a rounding boundary on the wrong side, and two engines could disagree. Instead the exponent is split off
// exactly (a division by a power of two is exact in float64) and the mantissa in [1, 2) is compared with the
// boundaries 2^(k/S) or 2^((k + 0.5)/S). For S <= 64 those boundaries are irrational, so no float32 mantissa
// equals one; a float64 approximation (within a couple of ulps) orders every float32 mantissa correctly, because
// float32 mantissas near each boundary are far coarser than that error (checked in exact-log2.test.ts).

/**
 * 2^e as a double, exactly, for integer e from -1074 to 1023 (0 below, Infinity above).
 * @example exactPow2(-3) === 0.125
 */
export function exactPow2(e: number): number {
  // `**` with base 2 and an integer exponent is exact in V8/SpiderMonkey/JSC; the test checks it over the range.
  return 2 ** e;
}

/**
 * floor(log2 a) for a positive finite double, exactly.
 * @example floorLog2(1) === 0; floorLog2(0.75) === -1; floorLog2(2 ** -140) === -140
 */
export function floorLog2(a: number): number {
  let e = Math.floor(Math.log2(a));
  // Math.log2 may be one off next to a power of two; correct against exact powers.
  if (exactPow2(e) > a) e -= 1;
  else if (exactPow2(e + 1) <= a) e += 1;
  return e;
}

const boundaryCache = new Map<string, Float64Array>();

/** Mantissa boundaries in (1, 2]: 2^((k + offset)/steps) for the k that give a value strictly inside (1, 2]. */
function boundaries(steps: number, offset: 0 | 0.5): Float64Array {
  const key = `${steps}:${offset}`;
  let cached = boundaryCache.get(key);
  if (cached === undefined) {
    const values: number[] = [];
    for (let k = offset === 0 ? 1 : 0; k + offset < steps; k++) values.push(2 ** ((k + offset) / steps));
    cached = Float64Array.from(values);
    boundaryCache.set(key, cached);
  }
  return cached;
}

function countBelow(mantissa: number, thresholds: Float64Array): number {
  let count = 0;
  while (count < thresholds.length && mantissa >= thresholds[count]!) count++;
  return count;
}

/**
 * round(steps * log2 a) for a positive finite double: the nearest level on a grid of `steps` levels per octave,
 * measured in the log domain. Ties cannot occur for float32 inputs (the boundaries are irrational).
 * @example roundLogIndex(3, 1) === 2 (log2 3 = 1.58); roundLogIndex(1.4, 1) === 0 (1.4 < sqrt 2)
 */
export function roundLogIndex(a: number, steps: number): number {
  const e = floorLog2(a);
  return steps * e + countBelow(a / exactPow2(e), boundaries(steps, 0.5));
}

/**
 * floor(steps * log2 a) for a positive finite double.
 * @example floorLogIndex(1.05, 16) === 1 (2^(1/16) = 1.044)
 */
export function floorLogIndex(a: number, steps: number): number {
  const e = floorLog2(a);
  return steps * e + countBelow(a / exactPow2(e), boundaries(steps, 0));
}

/**
 * The exponent of the power of two nearest to `a` in the linear domain: between 2^e and 2^(e+1) the midpoint is
 * 1.5 * 2^e, and a value exactly on it goes to the larger power (ties away from zero).
 * @example nearestLinearExponent(1.4) === 0; nearestLinearExponent(1.5) === 1
 */
export function nearestLinearExponent(a: number): number {
  const e = floorLog2(a);
  return a / exactPow2(e) >= 1.5 ? e + 1 : e;
}

/**
 * ceil(log2 a) for a positive finite double.
 * @example ceilLog2(4) === 2; ceilLog2(4.5) === 3
 */
export function ceilLog2(a: number): number {
  const e = floorLog2(a);
  return exactPow2(e) === a ? e : e + 1;
}

/**
 * The integer e with 2^e === a, or undefined when `a` is not an exact power of two.
 * @example exponentOfPowerOfTwo(0.25) === -2; exponentOfPowerOfTwo(0.3) === undefined
 */
export function exponentOfPowerOfTwo(a: number): number | undefined {
  if (!(a > 0) || !Number.isFinite(a)) return undefined;
  const e = floorLog2(a);
  return exactPow2(e) === a ? e : undefined;
}
