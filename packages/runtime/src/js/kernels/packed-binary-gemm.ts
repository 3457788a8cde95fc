// The compute layout of binary weights and activations: each row of K sign codes (weights: one output channel;
// activations: one row of A, or one im2col patch) as ceil(K / 32) 32-bit words, element k in bit k % 32 of word
// k >> 5 (least significant bit first), 1 for +1 and 0 for -1, padding bits 0. quantkit's file format
// ('binary-1bit') stores bytes MSB first along an arbitrary axis; prepare re-packs it into this layout once, so
// these functions never see the file layout and a WebAssembly version can share their signatures.

/** Binary weights in the compute layout: rows of sign bits and one alpha per row (`y = alpha * sum sign(w) x`). */
export interface BinaryWeights {
  /** `rows * wordsPerRow` words. */
  readonly bits: Uint32Array;
  /** Codes per row (the dot product's length). */
  readonly k: number;
  /** `ceil(k / 32)`. */
  readonly wordsPerRow: number;
  /** One alpha per row (a per-tensor alpha is repeated). */
  readonly alpha: Float32Array;
}

/** Binarized activations (`x ~ scale[row] * sign(x)`), rows in the same layout as {@link BinaryWeights}. */
export interface BinaryActivations {
  readonly bits: Uint32Array;
  readonly wordsPerRow: number;
  /** One scale (beta) per row. */
  readonly scale: Float32Array;
  /**
   * Which elements exist (bit set), for rows with holes: a Conv patch over zero padding, whose zeros have no sign.
   * Omitted when every element of every row counts.
   */
  readonly valid?: Uint32Array;
}

/** Where a GEMM writes: `y[i, j]` goes to `out[offset + i * rowStride + j * columnStride]`. */
export interface GemmOutput {
  readonly out: Float32Array;
  readonly offset: number;
  readonly rowStride: number;
  readonly columnStride: number;
}

/** The number of set bits of a 32-bit word, by the SWAR (SIMD within a register) bit trick: no table, no loop. */
export function popcount32(word: number): number {
  let v = word - ((word >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  v = (v + (v >>> 4)) & 0x0f0f0f0f;
  return Math.imul(v, 0x01010101) >>> 24;
}

/**
 * y[i, j] = alpha[firstRow + j] * sum_k sign(w[firstRow + j, k]) * x[i, k] for float activations, computed from the
 * sign bits without unpacking them: for each row of x, a table holds, for every 4-bit nibble s and each group of 4
 * elements, sum_b (bit b of s ? +x : -x) (15 additions per group), and each output is then one table read per 4
 * weights. Padding elements of the last group read as 0, so padding bits do not matter. Sums run in float64 and
 * are rounded to float32 once.
 *
 * @example
 * // w = [[+1, -1, +1]] (bits 0b101), alpha 0.5; x = [[1, 2, 3]]: 0.5 * (1 - 2 + 3) = 1
 * binaryGemm(Float32Array.of(1, 2, 3), 0, 1, { bits: Uint32Array.of(0b101), k: 3, wordsPerRow: 1, alpha: Float32Array.of(0.5) }, 0, 1, output);
 */
export function binaryGemm(
  x: Float32Array,
  xOffset: number,
  m: number,
  weights: BinaryWeights,
  firstRow: number,
  n: number,
  output: GemmOutput,
): void {
  const { bits, k, wordsPerRow, alpha } = weights;
  const { out, offset, rowStride, columnStride } = output;
  const groups = (k + 3) >>> 2;
  const table = new Float64Array(groups * 16);
  for (let i = 0; i < m; i++) {
    const row = xOffset + i * k;
    for (let g = 0; g < groups; g++) {
      const base = g * 16;
      const first = g * 4;
      let all = 0;
      for (let b = 0; b < 4; b++) if (first + b < k) all -= x[row + first + b]!;
      table[base] = all;
      // table[s | 2^b] = table[s] + 2 x_b: flipping element b from -1 to +1.
      for (let b = 0, size = 1; b < 4; b++, size <<= 1) {
        const twice = first + b < k ? 2 * x[row + first + b]! : 0;
        for (let s = 0; s < size; s++) table[base + size + s] = table[base + s]! + twice;
      }
    }
    const target = offset + i * rowStride;
    for (let j = 0; j < n; j++) {
      const words = (firstRow + j) * wordsPerRow;
      let sum = 0;
      for (let w = 0; w < wordsPerRow; w++) {
        let word = bits[words + w]!;
        const base = w * 128;
        const count = Math.min(8, groups - w * 8);
        for (let q = 0; q < count; q++) {
          sum += table[base + q * 16 + (word & 15)]!;
          word >>>= 4;
        }
      }
      out[target + j * columnStride] = alpha[firstRow + j]! * sum;
    }
  }
}

/**
 * The XNOR-popcount GEMM for binarized activations: y[i, j] = scale[i] * alpha[firstRow + j] * dot, where the dot of
 * two +-1 vectors of K elements is K - 2 * popcount(a XOR w) (equal signs give +1, different ones -1). With
 * `activations.valid`, only valid elements count: dot = popcount(valid) - 2 * popcount((a XOR w) AND valid).
 * Padding bits are 0 in both operands, so they never differ.
 *
 * @example
 * // a = [+1, -1, +1] (0b101), w = [+1, +1, -1] (0b011): 3 - 2 * popcount(0b110) = -1
 * xnorPopcountGemm({ bits: Uint32Array.of(0b101), wordsPerRow: 1, scale: Float32Array.of(1) }, 1, weights, 0, 1, output);
 */
export function xnorPopcountGemm(
  activations: BinaryActivations,
  m: number,
  weights: BinaryWeights,
  firstRow: number,
  n: number,
  output: GemmOutput,
): void {
  const { bits: aBits, scale, valid } = activations;
  const { bits: wBits, k, wordsPerRow, alpha } = weights;
  if (activations.wordsPerRow !== wordsPerRow) {
    throw new RangeError(
      `xnorPopcountGemm: activation rows have ${activations.wordsPerRow} words, weight rows ${wordsPerRow}`,
    );
  }
  const { out, offset, rowStride, columnStride } = output;
  for (let i = 0; i < m; i++) {
    const a = i * wordsPerRow;
    let count = k;
    if (valid !== undefined) {
      count = 0;
      for (let w = 0; w < wordsPerRow; w++) count += popcount32(valid[a + w]!);
    }
    const beta = scale[i]!;
    const target = offset + i * rowStride;
    for (let j = 0; j < n; j++) {
      const b = (firstRow + j) * wordsPerRow;
      let differ = 0;
      if (valid === undefined) {
        for (let w = 0; w < wordsPerRow; w++) differ += popcount32(aBits[a + w]! ^ wBits[b + w]!);
      } else {
        for (let w = 0; w < wordsPerRow; w++)
          differ += popcount32((aBits[a + w]! ^ wBits[b + w]!) & valid[a + w]!);
      }
      out[target + j * columnStride] = beta * alpha[firstRow + j]! * (count - 2 * differ);
    }
  }
}

/** How {@link binarizeRows} chooses each row's scale: mean |x| of the row, or one given scale for every row. */
export type BinarizeScale = 'row' | number;

/**
 * Binarizes m rows of k activations as XNOR-Net does: sign bits (x >= 0 is +1, as the binary quantizer's sign(0))
 * and a scale per row, mean |x| over the row's k elements (padding included as zeros, XNOR-Net's K for a Conv
 * patch) or the one `scale` given (mean |x| over a whole tensor). `valid` (one byte per element, 0 for padding)
 * marks elements with no sign: their bits stay 0 and the result carries a `valid` mask.
 *
 * @example
 * binarizeRows(Float32Array.of(0.5, -1.5, 0, 2), 0, 1, 4, 'row'); // bits [0b1101], scale [1]
 */
export function binarizeRows(
  x: ArrayLike<number>,
  xOffset: number,
  m: number,
  k: number,
  scale: BinarizeScale,
  valid?: Uint8Array,
): BinaryActivations {
  const wordsPerRow = (k + 31) >>> 5;
  const bits = new Uint32Array(m * wordsPerRow);
  const mask = valid === undefined ? undefined : new Uint32Array(m * wordsPerRow);
  const scales = new Float32Array(m);
  for (let i = 0; i < m; i++) {
    const row = xOffset + i * k;
    const words = i * wordsPerRow;
    let sum = 0;
    for (let p = 0; p < k; p++) {
      const value = x[row + p]!;
      const bit = 1 << (p & 31);
      if (mask !== undefined) {
        if (valid![i * k + p] === 0) continue;
        mask[words + (p >>> 5)]! |= bit;
      }
      sum += Math.abs(value);
      if (value >= 0) bits[words + (p >>> 5)]! |= bit;
    }
    scales[i] = scale === 'row' ? (k === 0 ? 0 : sum / k) : scale;
  }
  return { bits, wordsPerRow, scale: scales, ...(mask !== undefined && { valid: mask }) };
}
