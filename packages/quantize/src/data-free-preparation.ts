// The float rewrites of data-free quantization, in the order the method needs: BatchNorm statistics captured
// before folding removes the BatchNorm nodes, then (after the built-in folding) cross-layer equalization and
// high-bias absorption, each keeping the statistics in step with the weights. The statistics then serve the
// activation ranges and the analytic bias correction.
import { type BatchNormStatistics, captureBatchNormStatistics } from './batch-norm-statistics.js';
import { equalizeCrossLayer } from './cross-layer-equalization.js';
import { absorbHighBias } from './high-bias-absorption.js';
import type { ModelTransform } from './model-transforms.js';
import type { DataFreeSettings } from './options.js';
import type { RangeSource } from './data-free-ranges.js';

/** What data-free quantization did (QuantizeSummary.dataFree). */
export interface DataFreeResult {
  /** Tensors BatchNorm statistics were captured for. */
  readonly batchNormStatistics: number;
  /** Layer pairs cross-layer equalization scaled, and the sweeps it took. */
  readonly equalizedPairs: number;
  readonly equalizationSweeps: number;
  /** Layers whose high bias moved into the next layer; pairs skipped because the next layer pads. */
  readonly biasesAbsorbed: number;
  readonly absorptionSkippedForPadding: number;
  /** Biases analytic bias correction changed. */
  readonly biasesCorrected: number;
  /** How many activation ranges came from each source. */
  readonly rangeSources: Readonly<Record<RangeSource, number>>;
  /** Each estimated activation's range source, by tensor name: which ranges rest on statistics, which on noise. */
  readonly ranges: Readonly<Record<string, RangeSource>>;
  /** Random samples the float model ran on for the ranges statistics did not give. */
  readonly randomSamples: number;
}

/** The float rewrites of one data-free run and the statistics they keep. */
export interface DataFreePreparation {
  /** Channel statistics by tensor name, kept in step with every rewrite. */
  readonly statistics: BatchNormStatistics;
  /** Runs before the built-in transforms: captures the statistics that BatchNorm folding removes. */
  readonly before: ModelTransform;
  /** Run after BatchNorm folding: equalization, then absorption (as the settings ask). */
  readonly after: readonly ModelTransform[];
  /** What the rewrites did, once they ran. */
  readonly done: () => Pick<
    DataFreeResult,
    | 'batchNormStatistics'
    | 'equalizedPairs'
    | 'equalizationSweeps'
    | 'biasesAbsorbed'
    | 'absorptionSkippedForPadding'
  >;
}

/**
 * The float rewrites for one data-free run (each run needs its own: they hold that model's statistics).
 * @example
 * const preparation = dataFreePreparation({ equalize: true, absorbHighBias: true, correctBias: true, deviations: 6 });
 * await applyTransforms(model, [preparation.before, ...BUILTIN_TRANSFORMS, ...preparation.after]);
 */
export function dataFreePreparation(settings: DataFreeSettings): DataFreePreparation {
  const statistics: BatchNormStatistics = new Map();
  let captured = 0;
  let equalization = { pairs: 0, sweeps: 0 };
  let absorption = { absorbed: 0, skippedForPadding: 0 };
  const before: ModelTransform = {
    name: 'capture-batch-norm-statistics',
    modes: ['data-free'],
    apply(model) {
      for (const [name, channels] of captureBatchNormStatistics(model.graph)) statistics.set(name, channels);
      captured = statistics.size;
      // Reading changes nothing in the model.
      return 0;
    },
  };
  const after: ModelTransform[] = [];
  if (settings.equalize) {
    after.push({
      name: 'cross-layer-equalization',
      modes: ['data-free'],
      apply(model) {
        equalization = equalizeCrossLayer(model.graph, statistics);
        return equalization.pairs;
      },
    });
  }
  if (settings.absorbHighBias) {
    after.push({
      name: 'high-bias-absorption',
      modes: ['data-free'],
      apply(model) {
        absorption = absorbHighBias(model.graph, statistics);
        return absorption.absorbed;
      },
    });
  }
  return {
    statistics,
    before,
    after,
    done: () => ({
      batchNormStatistics: captured,
      equalizedPairs: equalization.pairs,
      equalizationSweeps: equalization.sweeps,
      biasesAbsorbed: absorption.absorbed,
      absorptionSkippedForPadding: absorption.skippedForPadding,
    }),
  };
}

/** The summary of a data-free run: the float rewrites' counts, the bias correction's, and the ranges' sources. */
export function dataFreeResult(
  preparation: DataFreePreparation,
  statistics: {
    readonly sources: ReadonlyMap<string, RangeSource>;
    readonly randomSamples: number;
    readonly biasesCorrected: () => number;
  },
): DataFreeResult {
  const rangeSources: Record<RangeSource, number> = { 'batch-norm': 0, propagated: 0, random: 0, fixed: 0 };
  for (const source of statistics.sources.values()) rangeSources[source]++;
  return {
    ...preparation.done(),
    biasesCorrected: statistics.biasesCorrected(),
    rangeSources,
    ranges: Object.fromEntries(statistics.sources),
    randomSamples: statistics.randomSamples,
  };
}
