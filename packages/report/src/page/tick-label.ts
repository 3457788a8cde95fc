/**
 * A number short enough for an axis tick or a bin bound: three significant digits, exponent form outside
 * [1e-3, 1e5), without the trailing zeros toPrecision leaves.
 */
export function tickLabel(value: number): string {
  if (value === 0) return '0';
  const size = Math.abs(value);
  return size < 1e-3 || size >= 1e5 ? value.toExponential(2) : String(Number(value.toPrecision(3)));
}
