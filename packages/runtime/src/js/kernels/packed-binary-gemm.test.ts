import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type BinaryWeights,
  binarizeRows,
  binaryGemm,
  popcount32,
  xnorPopcountGemm,
} from './packed-binary-gemm.js';

/** Rows of +-1 signs as compute-layout words (LSB first); `padding` fills the unused bits of each last word. */
function packRows(signs: readonly (readonly boolean[])[], k: number, padding = 0): Uint32Array {
  const wordsPerRow = (k + 31) >>> 5;
  const words = new Uint32Array(signs.length * wordsPerRow);
  signs.forEach((row, r) => {
    for (let w = 0; w < wordsPerRow; w++) {
      const used = Math.min(32, k - w * 32);
      words[r * wordsPerRow + w] = used === 32 ? 0 : (padding >>> used) << used;
    }
    row.forEach((positive, p) => {
      if (positive) words[r * wordsPerRow + (p >>> 5)]! |= 1 << (p & 31);
    });
  });
  return words;
}

const sizes = fc.record({
  m: fc.integer({ min: 1, max: 4 }),
  n: fc.integer({ min: 1, max: 5 }),
  // K around and between multiples of 32 and 4: partial words and partial nibbles.
  k: fc.oneof(fc.integer({ min: 0, max: 100 }), fc.constantFrom(31, 32, 33, 63, 64, 65, 96, 97)),
});

const signRows = (rows: number, k: number) =>
  fc.array(fc.array(fc.boolean(), { minLength: k, maxLength: k }), { minLength: rows, maxLength: rows });

const output = (out: Float32Array, n: number) => ({ out, offset: 0, rowStride: n, columnStride: 1 });

describe('popcount32', () => {
  it('counts the set bits of any 32-bit word', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), (word) => {
        let expected = 0;
        for (let bit = 0; bit < 32; bit++) expected += (word >>> bit) & 1;
        expect(popcount32(word)).toBe(expected);
      }),
    );
    expect(popcount32(0xffffffff)).toBe(32);
    expect(popcount32(0)).toBe(0);
  });
});

describe('binaryGemm', () => {
  it('equals a float product with the unpacked signs, whatever the padding bits hold', () => {
    fc.assert(
      fc.property(
        sizes.chain(({ m, n, k }) =>
          fc.record({
            m: fc.constant(m),
            n: fc.constant(n),
            k: fc.constant(k),
            signs: signRows(n, k),
            x: fc.array(fc.float({ min: -4, max: 4, noNaN: true }), { minLength: m * k, maxLength: m * k }),
            alpha: fc.array(fc.float({ min: Math.fround(0.01), max: 2, noNaN: true }), {
              minLength: n,
              maxLength: n,
            }),
            padding: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
          }),
        ),
        ({ m, n, k, signs, x, alpha, padding }) => {
          const weights: BinaryWeights = {
            bits: packRows(signs, k, padding),
            k,
            wordsPerRow: (k + 31) >>> 5,
            alpha: Float32Array.from(alpha),
          };
          const xs = Float32Array.from(x);
          const out = new Float32Array(m * n);
          binaryGemm(xs, 0, m, weights, 0, n, output(out, n));
          for (let i = 0; i < m; i++) {
            for (let j = 0; j < n; j++) {
              let sum = 0;
              let magnitude = 0;
              for (let p = 0; p < k; p++) {
                sum += (signs[j]![p] ? 1 : -1) * xs[i * k + p]!;
                magnitude += Math.abs(xs[i * k + p]!);
              }
              const expected = weights.alpha[j]! * sum;
              const bound = 1e-6 * weights.alpha[j]! * magnitude + 1e-30;
              expect(Math.abs(out[i * n + j]! - expected)).toBeLessThanOrEqual(bound);
            }
          }
        },
      ),
    );
  });

  it('reads rows from firstRow on and writes through the output strides', () => {
    const weights: BinaryWeights = {
      bits: packRows(
        [
          [true, true, true],
          [true, false, true],
          [false, false, true],
        ],
        3,
      ),
      k: 3,
      wordsPerRow: 1,
      alpha: Float32Array.of(1, 0.5, 2),
    };
    const out = new Float32Array(6).fill(-99);
    // rows 1 and 2 for x = [[1, 2, 3], [0, 1, 0]], transposed into out[j * 3 + i], starting at 0.
    binaryGemm(Float32Array.of(1, 2, 3, 0, 1, 0), 0, 2, weights, 1, 2, {
      out,
      offset: 0,
      rowStride: 1,
      columnStride: 3,
    });
    expect(Array.from(out)).toEqual([0.5 * 2, 0.5 * -1, -99, 2 * 0, 2 * -1, -99]);
  });
});

describe('xnorPopcountGemm', () => {
  it('equals the integer dot product of +-1 vectors', () => {
    fc.assert(
      fc.property(
        sizes.chain(({ m, n, k }) =>
          fc.record({
            m: fc.constant(m),
            n: fc.constant(n),
            k: fc.constant(k),
            a: signRows(m, k),
            w: signRows(n, k),
          }),
        ),
        ({ m, n, k, a, w }) => {
          const wordsPerRow = (k + 31) >>> 5;
          const out = new Float32Array(m * n);
          xnorPopcountGemm(
            { bits: packRows(a, k), wordsPerRow, scale: new Float32Array(m).fill(1) },
            m,
            { bits: packRows(w, k), k, wordsPerRow, alpha: new Float32Array(n).fill(1) },
            0,
            n,
            output(out, n),
          );
          for (let i = 0; i < m; i++) {
            for (let j = 0; j < n; j++) {
              let dot = 0;
              for (let p = 0; p < k; p++) dot += (a[i]![p] ? 1 : -1) * (w[j]![p] ? 1 : -1);
              expect(out[i * n + j]).toBe(dot);
            }
          }
        },
      ),
    );
  });

  it('counts only valid elements when a mask is given, whatever the masked bits hold', () => {
    fc.assert(
      fc.property(
        sizes.chain(({ m, n, k }) =>
          fc.record({
            m: fc.constant(m),
            n: fc.constant(n),
            k: fc.constant(k),
            a: signRows(m, k),
            valid: signRows(m, k),
            w: signRows(n, k),
          }),
        ),
        ({ m, n, k, a, valid, w }) => {
          const wordsPerRow = (k + 31) >>> 5;
          const out = new Float32Array(m * n);
          const scale = Float32Array.from({ length: m }, (_, i) => 0.5 + i);
          const alpha = Float32Array.from({ length: n }, (_, j) => 0.25 * (j + 1));
          xnorPopcountGemm(
            { bits: packRows(a, k), wordsPerRow, scale, valid: packRows(valid, k) },
            m,
            { bits: packRows(w, k), k, wordsPerRow, alpha },
            0,
            n,
            output(out, n),
          );
          for (let i = 0; i < m; i++) {
            for (let j = 0; j < n; j++) {
              let dot = 0;
              for (let p = 0; p < k; p++) {
                if (valid[i]![p]) dot += (a[i]![p] ? 1 : -1) * (w[j]![p] ? 1 : -1);
              }
              expect(out[i * n + j]).toBe(Math.fround(scale[i]! * alpha[j]! * dot));
            }
          }
        },
      ),
    );
  });
});

describe('binarizeRows', () => {
  it('packs sign(x) (0 counts as +1) and takes mean |x| per row', () => {
    const rows = binarizeRows(Float32Array.of(0.5, -1.5, 0, 2, -1, -1, -1, -1), 0, 2, 4, 'row');
    expect(Array.from(rows.bits)).toEqual([0b1101, 0]);
    expect(Array.from(rows.scale)).toEqual([1, 1]);
    expect(rows.valid).toBeUndefined();
  });

  it('leaves padding out of the signs and the mask but counts it in the mean', () => {
    const rows = binarizeRows(Float32Array.of(0, 3, -1), 0, 1, 3, 'row', Uint8Array.of(0, 1, 1));
    expect(Array.from(rows.bits)).toEqual([0b010]);
    expect(Array.from(rows.valid!)).toEqual([0b110]);
    expect(rows.scale[0]).toBeCloseTo(4 / 3, 6);
    expect(Array.from(binarizeRows(Float32Array.of(1, -2), 0, 1, 2, 0.75).scale)).toEqual([0.75]);
  });
});
