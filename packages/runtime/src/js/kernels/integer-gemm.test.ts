import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { columnSums, integerGemm, rowSums } from './integer-gemm.js';

/** The definition, term by term: sum_p (a[i, p] - aZero[i]) * (b[p, j] - bZero[j]). */
function naive(
  a: ArrayLike<number>,
  aZero: readonly number[],
  b: ArrayLike<number>,
  bZero: readonly number[],
  m: number,
  k: number,
  n: number,
): number[] {
  const out: number[] = [];
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      const za = aZero.length === 1 ? aZero[0]! : aZero[i]!;
      const zb = bZero.length === 1 ? bZero[0]! : bZero[j]!;
      for (let p = 0; p < k; p++) sum += (a[i * k + p]! - za) * (b[p * n + j]! - zb);
      out.push(sum);
    }
  }
  return out;
}

const problem = fc
  .record({
    m: fc.integer({ min: 0, max: 6 }),
    k: fc.integer({ min: 0, max: 40 }),
    n: fc.integer({ min: 0, max: 6 }),
    aSigned: fc.boolean(),
    bSigned: fc.boolean(),
    aPerRow: fc.boolean(),
    bPerColumn: fc.boolean(),
  })
  .chain((shape) => {
    const code = (signed: boolean) =>
      signed ? fc.integer({ min: -128, max: 127 }) : fc.integer({ min: 0, max: 255 });
    return fc.record({
      shape: fc.constant(shape),
      a: fc.array(code(shape.aSigned), { minLength: shape.m * shape.k, maxLength: shape.m * shape.k }),
      b: fc.array(code(shape.bSigned), { minLength: shape.k * shape.n, maxLength: shape.k * shape.n }),
      aZero: fc.array(code(shape.aSigned), {
        minLength: shape.aPerRow ? Math.max(shape.m, 1) : 1,
        maxLength: shape.aPerRow ? Math.max(shape.m, 1) : 1,
      }),
      bZero: fc.array(code(shape.bSigned), {
        minLength: shape.bPerColumn ? Math.max(shape.n, 1) : 1,
        maxLength: shape.bPerColumn ? Math.max(shape.n, 1) : 1,
      }),
    });
  });

describe('integerGemm', () => {
  it('equals the definition for every mix of signedness and per-row / per-column zero points', () => {
    fc.assert(
      fc.property(problem, ({ shape, a, b, aZero, bZero }) => {
        const { m, k, n } = shape;
        const aCodes = shape.aSigned ? Int8Array.from(a) : Uint8Array.from(a);
        const bCodes = shape.bSigned ? Int8Array.from(b) : Uint8Array.from(b);
        const out = new Int32Array(m * n).fill(7);
        integerGemm(aCodes, aZero, bCodes, bZero, m, k, n, out);
        expect(Array.from(out)).toEqual(naive(a, aZero, b, bZero, m, k, n));
        // Precomputed sums give the same result.
        const again = new Int32Array(m * n);
        integerGemm(
          aCodes,
          aZero,
          bCodes,
          bZero,
          m,
          k,
          n,
          again,
          rowSums(aCodes, m, k),
          columnSums(bCodes, k, n),
        );
        expect(again).toEqual(out);
      }),
    );
  });
});
