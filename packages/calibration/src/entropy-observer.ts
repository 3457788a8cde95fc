import { type ObserverOptions, QuantError } from '@quantkit/core';
import { type HistogramObserverPlugin, createHistogramObserverPlugin } from './histogram-observer.js';
import { bitsOption, observerOption } from './observer-option.js';

const NAME = 'entropy';

/** Options of the entropy observer (besides granularity 'tensor' and symmetric). */
export interface EntropyObserverOptions extends ObserverOptions {
  /** Histogram bins of |x| (memory per tensor), an integer >= 128. Default 2048. */
  readonly bins?: number;
  /** Quantization levels on one side of zero, `2^(bits - 1)`; wins over `bits`. Default 128. */
  readonly levels?: number;
  /** Code width the levels follow from when `levels` is absent, 2..16. Default 8. */
  readonly bits?: number;
}

// Probability mass a zero bin receives before the KL divergence, in counts, as the reference implementations
// (MXNet's and onnxruntime's calibrators) do: log(p / 0) is infinite otherwise.
const SMOOTHING = 1e-4;

/**
 * TensorRT's entropy calibration on a histogram of |x|: for every candidate threshold bin i from `levels` to the
 * last used bin, the reference distribution P is the first i bins with every value beyond (the outliers) added to
 * bin i - 1, and the candidate Q is those i bins (without the outliers) merged into `levels` groups of
 * floor(i / levels) bins (the last group takes the remainder), each group's count then spread evenly over the bins
 * of the group where P is non-zero. Zero bins of P and Q receive 1e-4 counts, taken evenly from their non-zero bins
 * (never below 1e-4); KL(P || Q) of the normalised results is minimised, the first minimum winning.
 *
 * @returns the number of bins i kept: the threshold is `i * binWidth`. All bins when there are `levels` or fewer.
 * @example
 * const kept = entropyThresholdBins(histogram.usedCounts(), 128);
 */
export function entropyThresholdBins(counts: Float64Array, levels: number): number {
  const n = counts.length;
  if (n <= levels) return n;
  // Prefix sums of counts and of non-zero bins make every group's mass and non-zero count O(1), and the list of
  // non-zero bins lets each candidate visit only them: a zero bin of P is zero in Q too, and both smooth to the
  // same mass, so it adds nothing to the divergence (histograms with outliers are mostly empty bins).
  const cumulative = new Float64Array(n + 1);
  const nonZeroBefore = new Int32Array(n + 1);
  const nonZeroBins = new Int32Array(n);
  let nonZeroCount = 0;
  for (let j = 0; j < n; j++) {
    cumulative[j + 1] = cumulative[j]! + counts[j]!;
    nonZeroBefore[j + 1] = nonZeroBefore[j]! + (counts[j]! !== 0 ? 1 : 0);
    if (counts[j]! !== 0) nonZeroBins[nonZeroCount++] = j;
  }
  const total = cumulative[n]!;
  let best = n;
  let bestDivergence = Infinity;
  for (let i = levels; i <= n; i++) {
    const inside = cumulative[i]!;
    // Everything sits beyond this threshold: Q would be empty, not a distribution.
    if (inside === 0) continue;
    const outliers = total - inside;
    const last = i - 1;
    // The outliers make P's last bin non-zero even where the histogram has nothing.
    const outlierOnlyBin = outliers !== 0 && counts[last] === 0;
    const groupSize = Math.floor(i / levels);
    const lastGroup = levels - 1;
    const lastGroupStart = lastGroup * groupSize;
    const nonZeroP = nonZeroBefore[i]! + (outlierOnlyBin ? 1 : 0);
    const zerosP = i - nonZeroP;
    // Q is zero where P is, and also on the outlier-only bin when its whole group is empty.
    const emptyLastGroup = cumulative[i]! === cumulative[lastGroupStart]!;
    const zerosQ = zerosP + (outlierOnlyBin && emptyLastGroup ? 1 : 0);
    const takeP = (SMOOTHING * zerosP) / nonZeroP;
    const takeQ = zerosQ === i ? 0 : (SMOOTHING * zerosQ) / (i - zerosQ);
    // Zero bins of P (zero in Q too) smooth to the same mass in both: they add to the sums, not to the divergence.
    let sumP = SMOOTHING * zerosP;
    let sumQ = SMOOTHING * zerosP;
    let weighted = 0;
    let k = 0;
    for (let group = 0; group < levels; group++) {
      const start = group * groupSize;
      const end = group === lastGroup ? i : start + groupSize;
      const extra = group === lastGroup && outlierOnlyBin ? 1 : 0;
      const spread = nonZeroBefore[end]! - nonZeroBefore[start]! + extra;
      if (spread === 0) continue;
      // Q is constant over the group's non-zero bins of P: sum p log(p / q) = sum p log p - log q * sum p.
      const mass = cumulative[end]! - cumulative[start]!;
      const q = mass === 0 ? SMOOTHING : Math.max(mass / spread - takeQ, SMOOTHING);
      let groupP = 0;
      let groupPLogP = 0;
      for (; k < nonZeroCount && nonZeroBins[k]! < end; k++) {
        const j = nonZeroBins[k]!;
        const p = Math.max((j === last ? counts[j]! + outliers : counts[j]!) - takeP, SMOOTHING);
        groupP += p;
        groupPLogP += p * Math.log(p);
      }
      if (extra === 1) {
        const p = Math.max(outliers - takeP, SMOOTHING);
        groupP += p;
        groupPLogP += p * Math.log(p);
      }
      sumP += groupP;
      sumQ += q * spread;
      weighted += groupPLogP - Math.log(q) * groupP;
    }
    // KL of normalised p, q = (1 / sumP) * sum p log(p / q) + log(sumQ / sumP), with the sums of the smoothed values.
    const divergence = weighted / sumP + Math.log(sumQ / sumP);
    if (divergence < bestDivergence) {
      bestDivergence = divergence;
      best = i;
    }
  }
  return best;
}

function resolveLevels(options: ObserverOptions, bins: number): number {
  const fromBits = options['levels'] === undefined ? 2 ** (bitsOption(NAME, options) - 1) : undefined;
  const levels = observerOption(NAME, options, 'levels', fromBits ?? 128, (v) => Number.isInteger(v) && v >= 2, 'an integer >= 2');
  if (levels > bins) {
    const origin = fromBits === undefined ? '' : ` (2^(bits - 1) for bits ${options['bits']})`;
    throw new QuantError(
      'INVALID_ARGUMENT',
      `observer "${NAME}": option levels${origin} is ${levels}, more than bins ${bins}; raise bins or lower bits`,
    );
  }
  return levels;
}

/**
 * Creates the entropy (KL divergence) observer plugin, TensorRT's calibration: it keeps a `bins`-bin histogram of
 * |x| and picks the threshold t whose `levels`-level quantization loses the least information
 * (`entropyThresholdBins`); t is the upper edge of the last kept bin, at most max |x|.
 *
 * Ranges: symmetric `[-t, t]`; asymmetric `[max(min, -t), min(max, t)]`, the same threshold clipped to the observed
 * extremes, so a one-sided tensor (after ReLU) gets `[min, t]`.
 *
 * @example
 * const observer = entropyObserver.create({ symmetric: true });
 * for (const batch of batches) observer.observe(batch.data, batch.shape);
 * const { max } = observer.range();
 * @throws QuantError INVALID_ARGUMENT for bins < 128, bits outside 2..16, levels > bins, or granularity 'channel'.
 */
export function createEntropyObserver(defaults?: EntropyObserverOptions): HistogramObserverPlugin<EntropyObserverOptions> {
  return createHistogramObserverPlugin(
    {
      name: NAME,
      description: 'TensorRT entropy (KL divergence) calibration on a histogram of |x| (per tensor)',
      settings(options) {
        const bins = observerOption(NAME, options, 'bins', 2048, (v) => Number.isInteger(v) && v >= 128, 'an integer >= 128');
        return { bins, levels: resolveLevels(options, bins) };
      },
      domain: () => 'abs',
      choose(histogram, { levels }, symmetric) {
        const kept = entropyThresholdBins(histogram.usedCounts(), levels);
        const threshold = Math.min(kept * histogram.binWidth, histogram.domainHigh);
        if (symmetric) return [-threshold, threshold];
        return [Math.max(histogram.lowest, -threshold), Math.min(histogram.highest, threshold)];
      },
    },
    defaults,
  );
}

/** The entropy observer plugin with default options (2048 bins, 128 levels for 8 bits). */
export const entropyObserver: HistogramObserverPlugin<EntropyObserverOptions> = createEntropyObserver();
