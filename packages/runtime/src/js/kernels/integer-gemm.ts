import type { Code8Array } from './quantized-values.js';

/**
 * Zero points of one operand of {@link integerGemm}: one for the whole matrix (length 1), or one per row of A /
 * per column of B.
 */
export type GemmZeroPoints = ArrayLike<number>;

/** Sums of each row of a row-major [rows, columns] block of codes. */
export function rowSums(codes: Code8Array, rows: number, columns: number): Int32Array {
  const sums = new Int32Array(rows);
  for (let row = 0; row < rows; row++) {
    let sum = 0;
    const base = row * columns;
    for (let column = 0; column < columns; column++) sum += codes[base + column]!;
    sums[row] = sum;
  }
  return sums;
}

/** Sums of each column of a row-major [rows, columns] block of codes. */
export function columnSums(codes: Code8Array, rows: number, columns: number): Int32Array {
  const sums = new Int32Array(columns);
  for (let row = 0; row < rows; row++) {
    const base = row * columns;
    for (let column = 0; column < columns; column++) sums[column] = sums[column]! + codes[base + column]!;
  }
  return sums;
}

/**
 * The integer GEMM every quantized matrix kernel runs: `out[i, j] = sum_p (a[i, p] - aZero[i]) * (b[p, j] -
 * bZero[j])` over row-major A [m, k] and B [k, n] of 8-bit codes, with int32 results (wrapping as int32 would).
 *
 * The zero points are hoisted out of the inner loop: the sum expands to `sum a*b - bZero[j] * rowSum(a)[i] -
 * aZero[i] * columnSum(b)[j] + k * aZero[i] * bZero[j]`, so the inner loop multiplies raw codes only. Constant
 * operands pass their sums (computed once when the kernel is prepared) as `aRowSums` / `bColumnSums`.
 *
 * Pure and allocation-free apart from the sums it is not given: the WebAssembly backend replaces it.
 *
 * @example
 * const out = new Int32Array(m * n);
 * integerGemm(aCodes, [aZero], bCodes, bZeroPerColumn, m, k, n, out);
 */
export function integerGemm(
  a: Code8Array,
  aZero: GemmZeroPoints,
  b: Code8Array,
  bZero: GemmZeroPoints,
  m: number,
  k: number,
  n: number,
  out: Int32Array,
  aRowSums?: Int32Array,
  bColumnSums?: Int32Array,
): void {
  out.fill(0, 0, m * n);
  // i-p-j order: the inner loop walks contiguous rows of B and of the output, four rows of B at a time so each
  // output element is loaded and stored once per four products (sums stay far below 2^53, exact in doubles).
  const k4 = k - (k % 4);
  for (let i = 0; i < m; i++) {
    const row = i * n;
    const aRow = i * k;
    for (let p = 0; p < k4; p += 4) {
      const a0 = a[aRow + p]!;
      const a1 = a[aRow + p + 1]!;
      const a2 = a[aRow + p + 2]!;
      const a3 = a[aRow + p + 3]!;
      const b0 = p * n;
      const b1 = b0 + n;
      const b2 = b1 + n;
      const b3 = b2 + n;
      for (let j = 0; j < n; j++) {
        out[row + j] = out[row + j]! + a0 * b[b0 + j]! + a1 * b[b1 + j]! + a2 * b[b2 + j]! + a3 * b[b3 + j]!;
      }
    }
    for (let p = k4; p < k; p++) {
      const value = a[aRow + p]!;
      const bRow = p * n;
      for (let j = 0; j < n; j++) out[row + j] = out[row + j]! + value * b[bRow + j]!;
    }
  }
  const aPerRow = aZero.length > 1;
  const bPerColumn = bZero.length > 1;
  const aAllZero = !aPerRow && aZero[0] === 0;
  const bAllZero = !bPerColumn && bZero[0] === 0;
  if (aAllZero && bAllZero) return;
  const sumsOfA = bAllZero ? undefined : (aRowSums ?? rowSums(a, m, k));
  const sumsOfB = aAllZero ? undefined : (bColumnSums ?? columnSums(b, k, n));
  for (let i = 0; i < m; i++) {
    const za = aPerRow ? aZero[i]! : aZero[0]!;
    const rowSum = sumsOfA === undefined ? 0 : sumsOfA[i]!;
    const row = i * n;
    for (let j = 0; j < n; j++) {
      const zb = bPerColumn ? bZero[j]! : bZero[0]!;
      const columnSum = sumsOfB === undefined ? 0 : sumsOfB[j]!;
      out[row + j] = (out[row + j]! - zb * rowSum - za * columnSum + k * za * zb) | 0;
    }
  }
}
