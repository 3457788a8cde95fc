import type { GemmOutput } from './packed-binary-gemm.js';

// The compute layout of logarithmic weights: one code byte per weight, rows of K (one row per output channel), and
// per row a table of 256 entries that says what each code is worth. A level is sign * 2^e * f, where e is an
// integer exponent and f one of a few fixed factors in [1, 2): always 1 for quantkit's 'log' format (whole
// octaves), one of fround(2^(r/16)), r = 0..15, for 'log-nnie' (sixteenths of an octave). prepare builds the
// tables once from the format's attributes.

/** Codes per table: any byte. */
export const LOG_TABLE_SIZE = 256;

/**
 * How integer activations are accumulated by shifts (see {@link logShiftAddGemm}). One int32 per table entry packs
 * everything the inner loop needs, so it reads one value per weight: bits 0-4 the shift, bit 5 set unless the entry
 * is the zero level, bit 6 set for a negative level, bits 7 and up the accumulator (bucket) the term goes to. Per
 * bucket, the float factor its integer sum is worth.
 */
export interface LogShiftPlan {
  /** `tables * 256` packed entries (see above). */
  readonly entry: Int32Array;
  /** Buckets per table. */
  readonly buckets: number;
  /** `tables * buckets` factors: 2^(lowest exponent + window * windowBits) * f. */
  readonly bucketScale: Float64Array;
  /** Shift window: shifts stay below this, so an int32 accumulator never overflows (see logShiftPlan). */
  readonly windowBits: number;
}

const KEEP_BIT = 1 << 5;
const NEGATE_BIT = 1 << 6;
const BUCKET_SHIFT = 7;

/** Logarithmic weights in the compute layout. */
export interface LogWeights {
  /** `rows * k` code bytes. */
  readonly codes: Uint8Array;
  readonly k: number;
  /** `tables * 256` float32 levels (the exact dequantized weight values, scale included), by code. */
  readonly levels: Float32Array;
  /** For each row, its table's index. */
  readonly rowTable: Int32Array;
  /** For integer activations; undefined when the weights are only used with float activations. */
  readonly shiftPlan?: LogShiftPlan;
}

/** One level of a table, for {@link logShiftPlan}: zero, or sign * 2^exponent * factors[factor]. */
export interface LogLevel {
  readonly zero: boolean;
  readonly negative: boolean;
  /** Integer exponent (whole octaves). */
  readonly exponent: number;
  /** Index into the factors, 0 for a power of two. */
  readonly factor: number;
}

/** Largest |x| of an integer activation the shift plan allows for: uint8 up to 255, int8 down to -128. */
const ACTIVATION_BITS = 8;

/**
 * The shift-add plan for tables of levels (one array of 256 per table; undefined entries are unused codes) and
 * dot products of length k over 8-bit activations.
 *
 * Exponents below 0 (and the spread between the smallest and largest level) are handled by shifting the
 * accumulator's domain: within a table, every level's exponent is counted from the table's lowest exponent e0, so
 * shifts are non-negative and the integer sum is worth 2^e0 times its value. A term |x << s| is below 2^(8 + s),
 * and k of them stay inside an int32 when s < windowBits = 24 - ceil(log2 k); levels spread wider than that (8-bit
 * log codes span 127 octaves) go to one accumulator per window of windowBits octaves, each worth
 * 2^(e0 + window * windowBits), and fractional factors (NNIE's sixteenths) to one accumulator per factor. The
 * buckets' exact integer sums are combined in float64 at the end.
 *
 * @throws RangeError when k is 2^23 or more (no shift window fits an int32 then).
 */
export function logShiftPlan(
  tables: readonly (readonly (LogLevel | undefined)[])[],
  factors: readonly number[],
  k: number,
): LogShiftPlan {
  const windowBits = 31 - ACTIVATION_BITS + 1 - Math.ceil(Math.log2(Math.max(k, 1)));
  if (windowBits < 1) throw new RangeError(`logShiftPlan: dot products of ${k} terms overflow int32`);
  const lowest = tables.map((levels) => {
    let low = Number.POSITIVE_INFINITY;
    for (const level of levels) if (level !== undefined && !level.zero) low = Math.min(low, level.exponent);
    return Number.isFinite(low) ? low : 0;
  });
  let windows = 1;
  tables.forEach((levels, t) => {
    for (const level of levels) {
      if (level === undefined || level.zero) continue;
      windows = Math.max(windows, Math.floor((level.exponent - lowest[t]!) / windowBits) + 1);
    }
  });
  const buckets = windows * factors.length;
  const entries = tables.length * LOG_TABLE_SIZE;
  const entry = new Int32Array(entries);
  const bucketScale = new Float64Array(tables.length * buckets);
  tables.forEach((levels, t) => {
    for (let w = 0; w < windows; w++) {
      for (let f = 0; f < factors.length; f++) {
        bucketScale[t * buckets + w * factors.length + f] = 2 ** (lowest[t]! + w * windowBits) * factors[f]!;
      }
    }
    levels.forEach((level, code) => {
      if (level === undefined || level.zero) return;
      const relative = level.exponent - lowest[t]!;
      const window = Math.floor(relative / windowBits);
      const bucket = window * factors.length + level.factor;
      entry[t * LOG_TABLE_SIZE + code] =
        (relative - window * windowBits) |
        KEEP_BIT |
        (level.negative ? NEGATE_BIT : 0) |
        (bucket << BUCKET_SHIFT);
    });
  });
  return { entry, buckets, bucketScale, windowBits };
}

/**
 * y[i, j] = sum_k x[i, k] * level(code[firstRow + j, k]) for float activations: each weight is its table's entry,
 * the power of two (times the format's factor and scale) read from a table of 2^e instead of computed. Sums run
 * in float64 and are rounded to float32 once.
 *
 * @example
 * logGemm(x, 0, m, weights, 0, n, { out, offset: 0, rowStride: n, columnStride: 1 });
 */
export function logGemm(
  x: Float32Array,
  xOffset: number,
  m: number,
  weights: LogWeights,
  firstRow: number,
  n: number,
  output: GemmOutput,
): void {
  const { codes, k, levels, rowTable } = weights;
  const { out, offset, rowStride, columnStride } = output;
  for (let i = 0; i < m; i++) {
    const row = xOffset + i * k;
    const target = offset + i * rowStride;
    for (let j = 0; j < n; j++) {
      const weightRow = (firstRow + j) * k;
      const table = rowTable[firstRow + j]! * LOG_TABLE_SIZE;
      let sum = 0;
      for (let p = 0; p < k; p++) sum += x[row + p]! * levels[table + codes[weightRow + p]!]!;
      out[target + j * columnStride] = sum;
    }
  }
}

/**
 * The shift-add GEMM for integer (quantized, 8-bit) activations, taken at their integer values: each weight is
 * +-2^e (times a factor), so x * w is x shifted left, negated for negative weights; terms are summed in int32
 * accumulators per bucket and each bucket is scaled once at the end (see {@link logShiftPlan} for how exponents
 * below 0 and wide spreads are handled). Exact up to the final float32 rounding.
 *
 * @example
 * logShiftAddGemm(Int8Array.of(3, -2), 0, 1, weights, 0, n, output); // weights with a shiftPlan
 * @throws RangeError when the weights carry no shift plan.
 */
export function logShiftAddGemm(
  x: Int8Array | Uint8Array,
  xOffset: number,
  m: number,
  weights: LogWeights,
  firstRow: number,
  n: number,
  output: GemmOutput,
): void {
  const { codes, k, rowTable, shiftPlan } = weights;
  if (shiftPlan === undefined) throw new RangeError('logShiftAddGemm: the weights have no shift plan');
  const { entry, buckets, bucketScale } = shiftPlan;
  const { out, offset, rowStride, columnStride } = output;
  const accumulators = new Int32Array(buckets);
  for (let i = 0; i < m; i++) {
    const row = xOffset + i * k;
    const target = offset + i * rowStride;
    for (let j = 0; j < n; j++) {
      const weightRow = (firstRow + j) * k;
      const table = rowTable[firstRow + j]!;
      const entries = table * LOG_TABLE_SIZE;
      // term = x << shift, zeroed for the zero level (& keep) and negated for negative levels ((t ^ -1) + 1).
      if (buckets === 1) {
        let sum = 0;
        for (let p = 0; p < k; p++) {
          const packed = entry[entries + codes[weightRow + p]!]!;
          const negate = -((packed >>> 6) & 1);
          sum = (sum + ((((x[row + p]! << (packed & 31)) & -((packed >>> 5) & 1)) ^ negate) - negate)) | 0;
        }
        out[target + j * columnStride] = sum * bucketScale[table]!;
        continue;
      }
      accumulators.fill(0);
      for (let p = 0; p < k; p++) {
        const packed = entry[entries + codes[weightRow + p]!]!;
        const negate = -((packed >>> 6) & 1);
        accumulators[packed >>> BUCKET_SHIFT]! +=
          (((x[row + p]! << (packed & 31)) & -((packed >>> 5) & 1)) ^ negate) - negate;
      }
      let sum = 0;
      const scales = table * buckets;
      for (let b = 0; b < buckets; b++) sum += accumulators[b]! * bucketScale[scales + b]!;
      out[target + j * columnStride] = sum;
    }
  }
}
