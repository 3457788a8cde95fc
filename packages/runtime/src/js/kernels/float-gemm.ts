/**
 * C[m, n] += A[m, k] * B[k, n] over row-major float32 blocks: computed in 4x4
 * blocks of C held in sixteen float64 locals over the whole k loop, so each loaded element of A and B feeds four
 * multiply-adds and C is read and written once per element (4 to 9 times faster than the i-k-j loop in V8 on
 * convolution-shaped products). The sums are rounded to float32 once, when added into C.
 */
export function gemmBlockedFloat32(
  a: Float32Array,
  aOffset: number,
  b: Float32Array,
  bOffset: number,
  c: Float32Array,
  cOffset: number,
  m: number,
  k: number,
  n: number,
): void {
  const m4 = m - (m % 4);
  const n4 = n - (n % 4);
  for (let i = 0; i < m4; i += 4) {
    const a0 = aOffset + i * k;
    const a1 = a0 + k;
    const a2 = a1 + k;
    const a3 = a2 + k;
    for (let j = 0; j < n4; j += 4) {
      let c00 = 0;
      let c01 = 0;
      let c02 = 0;
      let c03 = 0;
      let c10 = 0;
      let c11 = 0;
      let c12 = 0;
      let c13 = 0;
      let c20 = 0;
      let c21 = 0;
      let c22 = 0;
      let c23 = 0;
      let c30 = 0;
      let c31 = 0;
      let c32 = 0;
      let c33 = 0;
      let at = bOffset + j;
      for (let p = 0; p < k; p++, at += n) {
        const b0 = b[at]!;
        const b1 = b[at + 1]!;
        const b2 = b[at + 2]!;
        const b3 = b[at + 3]!;
        const x0 = a[a0 + p]!;
        const x1 = a[a1 + p]!;
        const x2 = a[a2 + p]!;
        const x3 = a[a3 + p]!;
        c00 += x0 * b0;
        c01 += x0 * b1;
        c02 += x0 * b2;
        c03 += x0 * b3;
        c10 += x1 * b0;
        c11 += x1 * b1;
        c12 += x1 * b2;
        c13 += x1 * b3;
        c20 += x2 * b0;
        c21 += x2 * b1;
        c22 += x2 * b2;
        c23 += x2 * b3;
        c30 += x3 * b0;
        c31 += x3 * b1;
        c32 += x3 * b2;
        c33 += x3 * b3;
      }
      let row = cOffset + i * n + j;
      c[row] = c[row]! + c00;
      c[row + 1] = c[row + 1]! + c01;
      c[row + 2] = c[row + 2]! + c02;
      c[row + 3] = c[row + 3]! + c03;
      row += n;
      c[row] = c[row]! + c10;
      c[row + 1] = c[row + 1]! + c11;
      c[row + 2] = c[row + 2]! + c12;
      c[row + 3] = c[row + 3]! + c13;
      row += n;
      c[row] = c[row]! + c20;
      c[row + 1] = c[row + 1]! + c21;
      c[row + 2] = c[row + 2]! + c22;
      c[row + 3] = c[row + 3]! + c23;
      row += n;
      c[row] = c[row]! + c30;
      c[row + 1] = c[row + 1]! + c31;
      c[row + 2] = c[row + 2]! + c32;
      c[row + 3] = c[row + 3]! + c33;
    }
    // The last n % 4 columns of these four rows.
    for (let j = n4; j < n; j++) {
      let c0 = 0;
      let c1 = 0;
      let c2 = 0;
      let c3 = 0;
      let at = bOffset + j;
      for (let p = 0; p < k; p++, at += n) {
        const value = b[at]!;
        c0 += a[a0 + p]! * value;
        c1 += a[a1 + p]! * value;
        c2 += a[a2 + p]! * value;
        c3 += a[a3 + p]! * value;
      }
      const row = cOffset + i * n + j;
      c[row] = c[row]! + c0;
      c[row + n] = c[row + n]! + c1;
      c[row + 2 * n] = c[row + 2 * n]! + c2;
      c[row + 3 * n] = c[row + 3 * n]! + c3;
    }
  }
  // The last m % 4 rows, four columns at a time.
  for (let i = m4; i < m; i++) {
    const a0 = aOffset + i * k;
    const row = cOffset + i * n;
    for (let j = 0; j < n4; j += 4) {
      let c0 = 0;
      let c1 = 0;
      let c2 = 0;
      let c3 = 0;
      let at = bOffset + j;
      for (let p = 0; p < k; p++, at += n) {
        const x = a[a0 + p]!;
        c0 += x * b[at]!;
        c1 += x * b[at + 1]!;
        c2 += x * b[at + 2]!;
        c3 += x * b[at + 3]!;
      }
      c[row + j] = c[row + j]! + c0;
      c[row + j + 1] = c[row + j + 1]! + c1;
      c[row + j + 2] = c[row + j + 2]! + c2;
      c[row + j + 3] = c[row + j + 3]! + c3;
    }
    for (let j = n4; j < n; j++) {
      let sum = 0;
      let at = bOffset + j;
      for (let p = 0; p < k; p++, at += n) sum += a[a0 + p]! * b[at]!;
      c[row + j] = c[row + j]! + sum;
    }
  }
}

/**
 * C[m, n] += sum over p of A[m, p] * B[n, p] over row-major float32 blocks (B given transposed, as [n, k]): dot
 * products along contiguous rows of both operands in 4x4 blocks of C (four rows of A against four rows of B, each
 * loaded element feeding four multiply-adds), summed in float64 locals.
 */
export function gemmTransposedFloat32(
  a: Float32Array,
  aOffset: number,
  b: Float32Array,
  bOffset: number,
  c: Float32Array,
  cOffset: number,
  m: number,
  k: number,
  n: number,
): void {
  const m4 = m - (m % 4);
  const n4 = n - (n % 4);
  for (let i = 0; i < m4; i += 4) {
    const a0 = aOffset + i * k;
    const a1 = a0 + k;
    const a2 = a1 + k;
    const a3 = a2 + k;
    for (let j = 0; j < n4; j += 4) {
      const b0 = bOffset + j * k;
      const b1 = b0 + k;
      const b2 = b1 + k;
      const b3 = b2 + k;
      let c00 = 0;
      let c01 = 0;
      let c02 = 0;
      let c03 = 0;
      let c10 = 0;
      let c11 = 0;
      let c12 = 0;
      let c13 = 0;
      let c20 = 0;
      let c21 = 0;
      let c22 = 0;
      let c23 = 0;
      let c30 = 0;
      let c31 = 0;
      let c32 = 0;
      let c33 = 0;
      for (let p = 0; p < k; p++) {
        const x0 = a[a0 + p]!;
        const x1 = a[a1 + p]!;
        const x2 = a[a2 + p]!;
        const x3 = a[a3 + p]!;
        const y0 = b[b0 + p]!;
        const y1 = b[b1 + p]!;
        const y2 = b[b2 + p]!;
        const y3 = b[b3 + p]!;
        c00 += x0 * y0;
        c01 += x0 * y1;
        c02 += x0 * y2;
        c03 += x0 * y3;
        c10 += x1 * y0;
        c11 += x1 * y1;
        c12 += x1 * y2;
        c13 += x1 * y3;
        c20 += x2 * y0;
        c21 += x2 * y1;
        c22 += x2 * y2;
        c23 += x2 * y3;
        c30 += x3 * y0;
        c31 += x3 * y1;
        c32 += x3 * y2;
        c33 += x3 * y3;
      }
      let row = cOffset + i * n + j;
      c[row] = c[row]! + c00;
      c[row + 1] = c[row + 1]! + c01;
      c[row + 2] = c[row + 2]! + c02;
      c[row + 3] = c[row + 3]! + c03;
      row += n;
      c[row] = c[row]! + c10;
      c[row + 1] = c[row + 1]! + c11;
      c[row + 2] = c[row + 2]! + c12;
      c[row + 3] = c[row + 3]! + c13;
      row += n;
      c[row] = c[row]! + c20;
      c[row + 1] = c[row + 1]! + c21;
      c[row + 2] = c[row + 2]! + c22;
      c[row + 3] = c[row + 3]! + c23;
      row += n;
      c[row] = c[row]! + c30;
      c[row + 1] = c[row + 1]! + c31;
      c[row + 2] = c[row + 2]! + c32;
      c[row + 3] = c[row + 3]! + c33;
    }
  }
  // The rows and columns the 4x4 blocks leave: one row of A against four rows of B, then single dot products.
  for (let i = 0; i < m; i++) {
    const row = aOffset + i * k;
    const target = cOffset + i * n;
    for (let j = i < m4 ? n4 : 0; j < n; j += 4) {
      if (j + 4 > n) {
        for (let last = j; last < n; last++) {
          const column = bOffset + last * k;
          let sum = 0;
          for (let p = 0; p < k; p++) sum += a[row + p]! * b[column + p]!;
          c[target + last] = c[target + last]! + sum;
        }
        break;
      }
      const b0 = bOffset + j * k;
      const b1 = b0 + k;
      const b2 = b1 + k;
      const b3 = b2 + k;
      let c0 = 0;
      let c1 = 0;
      let c2 = 0;
      let c3 = 0;
      for (let p = 0; p < k; p++) {
        const x = a[row + p]!;
        c0 += x * b[b0 + p]!;
        c1 += x * b[b1 + p]!;
        c2 += x * b[b2 + p]!;
        c3 += x * b[b3 + p]!;
      }
      c[target + j] = c[target + j]! + c0;
      c[target + j + 1] = c[target + j + 1]! + c1;
      c[target + j + 2] = c[target + j + 2]! + c2;
      c[target + j + 3] = c[target + j + 3]! + c3;
    }
  }
}

/** A row-major [rows, columns] matrix transposed into a new [columns, rows] one. */
export function transposeFloat32(source: Float32Array, rows: number, columns: number): Float32Array {
  const out = new Float32Array(rows * columns);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < columns; c++) out[c * rows + r] = source[r * columns + c]!;
  }
  return out;
}
