import { createSeededRandom } from '@quantkit/core';
import { describe, expect, it } from 'vitest';
import { gemmBlockedFloat32, gemmTransposedFloat32, transposeFloat32 } from './float-gemm.js';

function randomArray(length: number, seed: number): Float32Array {
  const random = createSeededRandom(seed);
  return Float32Array.from({ length }, () => random() * 2 - 1);
}

/** C + A * B by the textbook triple loop in float64. */
function reference(a: Float32Array, b: Float32Array, c: Float32Array, m: number, k: number, n: number) {
  return Array.from({ length: m * n }, (_, index) => {
    const i = Math.floor(index / n);
    const j = index % n;
    let sum = 0;
    for (let p = 0; p < k; p++) sum += a[i * k + p]! * b[p * n + j]!;
    return c[index]! + sum;
  });
}

// The blocked loops have separate paths for the 4x4 blocks and the rows and columns they leave; every size from 1
// to 9 on each side, at offsets into larger buffers, exercises all of them.
describe('float gemm blocks', () => {
  const sizes = [1, 2, 3, 4, 5, 7, 8, 9];
  for (const m of sizes) {
    it(`m ${m}, n from 1 to 9: blocked and transposed agree with the triple loop`, () => {
      for (const n of sizes) {
        for (const k of [1, 3, 6]) {
          const a = randomArray(m * k, m * 100 + n * 10 + k);
          const b = randomArray(k * n, m * 100 + n * 10 + k + 1);
          const c = randomArray(m * n, m * 100 + n * 10 + k + 2);
          const expected = reference(a, b, c, m, k, n);
          const blocked = new Float32Array(m * n + 5);
          blocked.set(c, 2);
          const padded = new Float32Array(a.length + 3);
          padded.set(a, 3);
          gemmBlockedFloat32(padded, 3, b, 0, blocked, 2, m, k, n);
          const transposed = new Float32Array(m * n);
          transposed.set(c);
          const bRows = new Float32Array(k * n + 1);
          bRows.set(transposeFloat32(b, k, n), 1);
          gemmTransposedFloat32(a, 0, bRows, 1, transposed, 0, m, k, n);
          for (let index = 0; index < m * n; index++) {
            expect(blocked[index + 2]).toBeCloseTo(expected[index]!, 5);
            expect(transposed[index]).toBeCloseTo(expected[index]!, 5);
          }
          expect(blocked[0]).toBe(0);
          expect(blocked[m * n + 2]).toBe(0);
        }
      }
    });
  }
});
