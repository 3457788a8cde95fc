// A deliberately naive ternarizer for tests, written apart from the plugin: it assigns every element to its group by
// unravelling the flat index, collects each group's members in a list, and follows the TWN formulas literally.

/** Ternary codes and per-group scales, the way the TWN paper defines them. */
export interface ReferenceTernary {
  readonly codes: number[];
  readonly scales: number[];
  readonly thresholds: number[];
}

/** The group (channel index along `axis`, or 0 for the whole tensor) of flat element `index`. */
export function groupOf(index: number, shape: readonly number[], axis: number | undefined): number {
  if (axis === undefined) return 0;
  let after = 1;
  for (let d = axis + 1; d < shape.length; d++) after *= shape[d]!;
  return Math.floor(index / after) % shape[axis]!;
}

/**
 * t = factor * (1/n) sum |W|, I = { i : |W_i| > t }, a = (1/|I|) sum_{i in I} |W_i|, code = sign(W_i) for i in I.
 */
export function referenceTernarize(
  values: ArrayLike<number>,
  shape: readonly number[],
  axis: number | undefined,
  factor = 0.7,
): ReferenceTernary {
  const groupCount = axis === undefined ? 1 : shape[axis]!;
  const members: number[][] = Array.from({ length: groupCount }, () => []);
  for (let i = 0; i < values.length; i++) members[groupOf(i, shape, axis)]!.push(i);
  const codes = new Array<number>(values.length).fill(0);
  const scales: number[] = [];
  const thresholds: number[] = [];
  for (const group of members) {
    const magnitudes = group.map((i) => Math.abs(values[i]!));
    const threshold = (factor * magnitudes.reduce((a, b) => a + b, 0)) / magnitudes.length;
    const kept = group.filter((i) => Math.abs(values[i]!) > threshold);
    for (const i of kept) codes[i] = Math.sign(values[i]!);
    thresholds.push(threshold);
    scales.push(kept.length === 0 ? 1 : kept.reduce((sum, i) => sum + Math.abs(values[i]!), 0) / kept.length);
  }
  return { codes, scales, thresholds };
}

/** code * scale of its group, as float32 (the scale is stored in float32 in the model). */
export function referenceDequantized(
  values: ArrayLike<number>,
  shape: readonly number[],
  axis: number | undefined,
  factor = 0.7,
): Float32Array {
  const { codes, scales } = referenceTernarize(values, shape, axis, factor);
  return Float32Array.from(codes, (code, i) => code * Math.fround(scales[groupOf(i, shape, axis)]!));
}
