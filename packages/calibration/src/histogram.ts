import { type ObserverHistogram, QuantError } from '@quantkit/core';

/** What a histogram counts: the values themselves, or their magnitudes (bins start at 0). */
export type HistogramDomain = 'signed' | 'abs';

/** The bounded state of a histogram as plain arrays (see `Histogram.toArrays`). */
export type HistogramArrays = {
  /** One count per bin; always `bins` long. */
  readonly counts: readonly number[];
  /** `[exponent, offset]`: bin j covers `[(offset + j) * 2^exponent, (offset + j + 1) * 2^exponent)`. */
  readonly grid: readonly number[];
  /** `[lowest, highest]`: the finite extremes of the raw values (not of the domain); +-Infinity when empty. */
  readonly extremes: readonly number[];
};

// float32's smallest subnormal: a finer grid than this cannot separate float32 activations.
const MIN_EXPONENT = -149;
// A bin is never narrower than 2^-40 of the largest magnitude, so absolute bin indices stay below 2^41 and
// every index computation in doubles is exact integer arithmetic.
const RELATIVE_BITS = 40;

/**
 * The canonical grid exponent for data whose domain spans [low, high]: the smallest power of two (at least
 * `atLeast`, and above the two floors) for which the data fits in `bins` bins aligned to multiples of the width.
 * Every condition only gets harder as data is added, so the exponent of the union of two data sets is at least the
 * exponent of each, and searching upward from the current one finds it.
 */
function gridExponent(low: number, high: number, bins: number, atLeast: number): number {
  const magnitude = Math.max(Math.abs(low), Math.abs(high));
  let exponent = Math.max(atLeast, MIN_EXPONENT);
  if (magnitude > 0) exponent = Math.max(exponent, Math.ceil(Math.log2(magnitude)) - RELATIVE_BITS);
  // Halves first: high - low overflows for data near +-Number.MAX_VALUE.
  const halfSpan = high / 2 - low / 2;
  if (halfSpan > 0) {
    // Any width at or below span / (bins + 1) needs more than `bins` bins, so jump there (one lower for log2's
    // rounding) rather than stepping up from a tiny exponent one doubling at a time.
    exponent = Math.max(exponent, Math.floor(Math.log2(halfSpan) + 1 - Math.log2(bins + 1)) - 1);
  }
  while (Math.floor(high / 2 ** exponent) - Math.floor(low / 2 ** exponent) >= bins) exponent++;
  return exponent;
}

/**
 * Adds `source` (a grid with `sourceExponent <= targetExponent`) into `target`. Widths are powers of two, so one
 * source bin lies inside exactly one target bin: `floor(K / 2^shift)` for absolute source index K. Nothing is split.
 */
function foldBins(
  target: Float64Array,
  targetExponent: number,
  targetOffset: number,
  source: Float64Array,
  sourceExponent: number,
  sourceOffset: number,
): void {
  const factor = 2 ** (targetExponent - sourceExponent);
  for (let j = 0; j < source.length; j++) {
    const count = source[j]!;
    if (count === 0) continue;
    const absolute = sourceOffset + j;
    // An infinite factor (a jump of more than 2^1023) sends every source bin to the target bin around zero.
    const coarse = factor === Infinity ? (absolute < 0 ? -1 : 0) : Math.floor(absolute / factor);
    target[coarse - targetOffset]! += count;
  }
}

/**
 * The finite extremes of a batch, and whether every value is finite; undefined when none is. The hot loops below
 * are small functions of their own so each is optimised on its own.
 */
function finiteExtremes(values: ArrayLike<number>): { low: number; high: number; allFinite: boolean } | undefined {
  const n = values.length;
  let low = Infinity;
  let high = -Infinity;
  // Math.min/max compile to branch-free instructions; NaN poisons them and infinities must be skipped, so those
  // (rare) batches take the careful loop instead.
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    low = Math.min(low, v);
    high = Math.max(high, v);
  }
  if (n === 0) return undefined;
  if (low > -Infinity && high < Infinity) return { low, high, allFinite: true };
  low = Infinity;
  high = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (v < low && v !== -Infinity) low = v;
    if (v > high && v !== Infinity) high = v;
  }
  return low <= high ? { low, high, allFinite: false } : undefined;
}

// All values finite and on the grid: no bounds check. For |x| truncation is floor.
function countMagnitudes(counts: Float64Array, values: ArrayLike<number>, inverseWidth: number): void {
  const n = values.length;
  for (let i = 0; i < n; i++) counts[(Math.abs(values[i]!) * inverseWidth) | 0]!++;
}

// The floor comes before subtracting the offset: x / width - offset may round up across a bin edge.
function countValues(counts: Float64Array, values: ArrayLike<number>, inverseWidth: number, offset: number): void {
  const n = values.length;
  for (let i = 0; i < n; i++) counts[Math.floor(values[i]! * inverseWidth) - offset]!++;
}

/** Counts a batch holding NaN or infinities; returns how many values were finite. */
function countFiniteValues(
  counts: Float64Array,
  values: ArrayLike<number>,
  inverseWidth: number,
  offset: number,
  magnitudes: boolean,
): number {
  const n = values.length;
  const bins = counts.length;
  let added = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    const k = Math.floor((magnitudes ? Math.abs(v) : v) * inverseWidth) - offset;
    // NaN and infinities fail the bounds check; every finite value passes it since the grid covers them.
    if (k >= 0 && k < bins) {
      counts[k]!++;
      added++;
    }
  }
  return added;
}

/**
 * A histogram with a fixed number of bins over a range that grows as data arrives, so memory is O(bins) however
 * many values flow through and no raw value is kept.
 *
 * Re-binning choice: bin widths are powers of two and bin edges are multiples of the width. When a batch falls
 * outside, the width doubles as often as needed and each new bin is the exact sum of the old bins inside it;
 * nothing is split proportionally and nothing is approximated. The grid (width and first edge) is a function of the
 * data's extremes alone, so the histogram does not depend on the order in which batches arrive: merging histograms
 * built on different workers gives exactly the histogram one pass over all data would have built. The price is
 * resolution: the data covers between half and all of the bins (`usedBins`), never fewer than `bins / 2 - 1`.
 *
 * @example
 * const histogram = new Histogram(2048, 'abs');
 * histogram.add(activations);
 * const p99 = histogram.quantile(0.99);
 */
export class Histogram {
  readonly bins: number;
  readonly domain: HistogramDomain;
  private counts: Float64Array;
  private exponent = MIN_EXPONENT;
  private offset = 0;
  private lowestValue = Infinity;
  private highestValue = -Infinity;
  private total = 0;

  /** @throws QuantError INVALID_ARGUMENT when bins is not an integer of at least 2. */
  constructor(bins: number, domain: HistogramDomain) {
    if (!Number.isInteger(bins) || bins < 2) {
      throw new QuantError('INVALID_ARGUMENT', `a histogram needs an integer number of bins >= 2, got ${bins}`);
    }
    this.bins = bins;
    this.domain = domain;
    this.counts = new Float64Array(bins);
  }

  /** Number of finite values counted. */
  get count(): number {
    return this.total;
  }

  /** Smallest finite raw value seen (Infinity when empty). */
  get lowest(): number {
    return this.lowestValue;
  }

  /** Largest finite raw value seen (-Infinity when empty). */
  get highest(): number {
    return this.highestValue;
  }

  /** Smallest value of the domain seen: `lowest`, or the smallest magnitude bound 0 for 'abs'. */
  get domainLow(): number {
    return this.domain === 'abs' ? 0 : this.lowestValue;
  }

  /** Largest value of the domain seen: `highest`, or the largest magnitude for 'abs'. */
  get domainHigh(): number {
    return this.domain === 'abs' ? Math.max(-this.lowestValue, this.highestValue) : this.highestValue;
  }

  /** Width of every bin (a power of two). */
  get binWidth(): number {
    return 2 ** this.exponent;
  }

  /** Lower edge of bin 0. */
  get lowerEdge(): number {
    return this.offset * 2 ** this.exponent;
  }

  /** Bins from 0 up to the one holding the largest value; the rest are empty. 0 when nothing was counted. */
  get usedBins(): number {
    if (this.total === 0) return 0;
    return Math.floor(this.domainHigh / 2 ** this.exponent) - this.offset + 1;
  }

  /** The counts of the used bins, as a view into the histogram: read it, do not write it. */
  usedCounts(): Float64Array {
    return this.counts.subarray(0, this.usedBins);
  }

  /**
   * Counts the finite values of a batch (of `|x|` for the 'abs' domain); NaN and infinities are skipped. O(n) with
   * two passes: the extremes first, so the grid grows at most once per batch, then the counting loop.
   */
  add(values: ArrayLike<number>): void {
    const extremes = finiteExtremes(values);
    if (extremes === undefined) return;
    this.include(extremes.low, extremes.high);
    const inverseWidth = 2 ** -this.exponent;
    if (extremes.allFinite) {
      if (this.domain === 'abs') countMagnitudes(this.counts, values, inverseWidth);
      else countValues(this.counts, values, inverseWidth, this.offset);
      this.total += values.length;
    } else {
      this.total += countFiniteValues(this.counts, values, inverseWidth, this.offset, this.domain === 'abs');
    }
  }

  /**
   * Adds another histogram's counts, as if its values had been added here.
   * @throws QuantError CALIBRATION_DATA when the bin counts or domains differ.
   */
  merge(other: Histogram): void {
    if (other.bins !== this.bins || other.domain !== this.domain) {
      throw new QuantError(
        'CALIBRATION_DATA',
        `cannot merge a ${other.bins}-bin histogram of ${other.domain} values into a ${this.bins}-bin histogram ` +
          `of ${this.domain} values`,
      );
    }
    if (other.total === 0) return;
    if (this.total === 0) {
      this.counts.set(other.counts);
      this.exponent = other.exponent;
      this.offset = other.offset;
    } else {
      this.include(other.lowestValue, other.highestValue, other.exponent);
      foldBins(this.counts, this.exponent, this.offset, other.counts, other.exponent, other.offset);
    }
    this.lowestValue = Math.min(this.lowestValue, other.lowestValue);
    this.highestValue = Math.max(this.highestValue, other.highestValue);
    this.total += other.total;
  }

  /**
   * The domain value below which a fraction `q` of the counted values lie: the nearest-rank quantile (the bin of
   * the ceil(q * count)-th smallest value), interpolated linearly inside that bin, so within one bin width of the
   * exact nearest-rank quantile. Not clamped to the observed extremes.
   * @throws QuantError CALIBRATION_DATA when the histogram is empty.
   */
  quantile(q: number): number {
    if (this.total === 0) throw new QuantError('CALIBRATION_DATA', 'the histogram has counted no finite value yet');
    const target = q * this.total;
    const width = this.binWidth;
    const used = this.usedBins;
    let below = 0;
    for (let j = 0; j < used; j++) {
      const count = this.counts[j]!;
      // Empty bins are skipped so the answer lies where data is, not on an empty stretch before it.
      if (count > 0 && below + count >= target) {
        return (this.offset + j + Math.max(0, target - below) / count) * width;
      }
      below += count;
    }
    return (this.offset + used) * width;
  }

  /** The used bins as plain data, for reports. */
  view(): ObserverHistogram {
    const used = this.usedBins;
    const width = this.binWidth;
    return {
      min: this.offset * width,
      max: (this.offset + used) * width,
      counts: Array.from(this.counts.subarray(0, used)),
    };
  }

  /** A plain copy of the state; `Histogram.fromArrays` rebuilds it. */
  toArrays(): HistogramArrays {
    return {
      counts: Array.from(this.counts),
      grid: [this.exponent, this.offset],
      extremes: [this.lowestValue, this.highestValue],
    };
  }

  /**
   * Rebuilds a histogram from `toArrays` output (typically read back from a calibration cache).
   * @throws QuantError CALIBRATION_DATA naming what does not fit.
   */
  static fromArrays(bins: number, domain: HistogramDomain, arrays: HistogramArrays): Histogram {
    const problem = (what: string) => new QuantError('CALIBRATION_DATA', `saved histogram is not usable: ${what}`);
    const histogram = new Histogram(bins, domain);
    const { counts, grid, extremes } = arrays;
    if (counts.length !== bins) throw problem(`it has ${counts.length} counts, expected ${bins}`);
    let total = 0;
    for (const count of counts) {
      if (!(Number.isInteger(count) && count >= 0)) throw problem(`count ${count} is not a non-negative integer`);
      total += count;
    }
    const [exponent, offset] = grid;
    if (grid.length !== 2 || !Number.isInteger(exponent) || !Number.isInteger(offset)) {
      throw problem(`grid ${JSON.stringify(grid)} is not [exponent, offset] integers`);
    }
    const [lowest, highest] = extremes;
    if (extremes.length !== 2 || lowest === undefined || highest === undefined) {
      throw problem('extremes are not [lowest, highest]');
    }
    if (total > 0) {
      if (!(Number.isFinite(lowest) && Number.isFinite(highest) && lowest <= highest)) {
        throw problem(`extremes [${lowest}, ${highest}] are not a finite range although values were counted`);
      }
      histogram.exponent = exponent!;
      histogram.offset = offset!;
      histogram.lowestValue = lowest;
      histogram.highestValue = highest;
      histogram.total = total;
      // Only the canonical grid keeps merges exact, so a state with any other grid is refused.
      const expected = gridExponent(histogram.domainLow, histogram.domainHigh, bins, MIN_EXPONENT);
      if (expected !== exponent || offset !== histogram.canonicalOffset(exponent)) {
        throw problem(`grid ${JSON.stringify(grid)} is not the grid of extremes [${lowest}, ${highest}]`);
      }
      if (counts.slice(histogram.usedBins).some((count) => count !== 0)) {
        throw problem(`values are counted beyond the largest value ${histogram.domainHigh}`);
      }
      histogram.counts.set(counts);
    }
    return histogram;
  }

  private canonicalOffset(exponent: number): number {
    return this.domain === 'abs' ? 0 : Math.floor(this.lowestValue / 2 ** exponent);
  }

  /**
   * Grows the grid so it covers raw values in [low, high] besides what it holds, re-binning the counts into it.
   * `atLeast` is another histogram's exponent when merging.
   */
  private include(low: number, high: number, atLeast = MIN_EXPONENT): void {
    const wasEmpty = this.total === 0;
    this.lowestValue = Math.min(this.lowestValue, low);
    this.highestValue = Math.max(this.highestValue, high);
    const exponent = gridExponent(
      this.domainLow,
      this.domainHigh,
      this.bins,
      wasEmpty ? atLeast : Math.max(atLeast, this.exponent),
    );
    const offset = this.canonicalOffset(exponent);
    if (!wasEmpty && (exponent !== this.exponent || offset !== this.offset)) {
      const next = new Float64Array(this.bins);
      foldBins(next, exponent, offset, this.counts, this.exponent, this.offset);
      this.counts = next;
    }
    this.exponent = exponent;
    this.offset = offset;
  }
}
