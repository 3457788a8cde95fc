// Activation ranges with no calibration data. Where BatchNorm statistics describe a tensor (or the input of the
// Relu or Clip that made it), each channel is taken to lie within mean +- n std, and the tensor's range is the
// union over channels, clipped by the activation. Ops whose outputs are drawn from their inputs' values (MaxPool,
// Reshape, Transpose, Concat, ...) carry such ranges on. What is left (the model's inputs, what follows ops
// with no statistics) is measured on the float model over seeded random inputs, and each range says where it
// came from, so a user knows which ranges rest on statistics and which on random data.
import { type ExecutorPlugin, QuantError, type Registry, type ValueRange } from '@quantkit/core';
import { type Graph, type Model, isDefaultDomain } from '@quantkit/onnx';
import type { BatchNormStatistics } from './batch-norm-statistics.js';
import type { CalibrationCache } from './calibration-cache.js';
import {
  type CalibrationRunner,
  type FloatModelBytes,
  type ObservationRequest,
  calibrate,
} from './calibrate.js';
import { clipBounds } from './clip-bounds.js';
import type { Recipe } from './options.js';
import { createOverrideLookup } from './overrides.js';
import type { QuantPlan } from './plan.js';
import { DEFAULT_RANDOM_SAMPLES, DEFAULT_SEED, randomSampleSource } from './random-samples.js';

/**
 * Where a data-free range came from: 'batch-norm' (mean +- n std of BatchNorm statistics, clipped by a Relu or
 * Clip), 'propagated' (carried from such ranges through ops that pick among their inputs' values), 'random' (the
 * float model run on seeded random inputs), 'fixed' (an override).
 */
export type RangeSource = 'batch-norm' | 'propagated' | 'random' | 'fixed';

/** Standard deviations either side of the mean a BatchNorm-derived range spans (Nagel et al. use 6). */
export const DEFAULT_RANGE_DEVIATIONS = 6;

/** Ops whose outputs only hold values found in their data inputs (or averages of them, which stay within). */
const RANGE_PRESERVING = new Set([
  'Identity',
  'Dropout',
  'MaxPool',
  'GlobalMaxPool',
  'GlobalAveragePool',
  'Reshape',
  'Flatten',
  'Transpose',
  'Squeeze',
  'Unsqueeze',
  'Slice',
  'Split',
  'Gather',
  'Expand',
  'Tile',
  'DepthToSpace',
  'SpaceToDepth',
  'ReduceMax',
  'ReduceMin',
  'ReduceMean',
]);

/** The data-free ranges and where each came from. */
export interface DataFreeRanges {
  readonly ranges: Map<string, ValueRange>;
  readonly sources: Map<string, RangeSource>;
  /** Random samples the float model ran on for the ranges nothing else gave (0 when none was needed). */
  readonly randomSamples: number;
}

interface Estimate {
  readonly min: number;
  readonly max: number;
  readonly source: 'batch-norm' | 'propagated';
}

/** Ranges estimated from statistics alone, memoized by tensor name. */
class RangeEstimator {
  private readonly known = new Map<string, Estimate | undefined>();

  constructor(
    private readonly graph: Graph,
    private readonly statistics: BatchNormStatistics,
    private readonly deviations: number,
  ) {}

  estimate(name: string): Estimate | undefined {
    if (this.known.has(name)) return this.known.get(name);
    // Marked first, so a cycle through a Loop's carried value ends here instead of recursing forever.
    this.known.set(name, undefined);
    const found = this.compute(name);
    this.known.set(name, found);
    return found;
  }

  private compute(name: string): Estimate | undefined {
    const channels = this.statistics.get(name);
    if (channels !== undefined && channels.mean.length > 0) {
      let min = Number.POSITIVE_INFINITY;
      let max = Number.NEGATIVE_INFINITY;
      channels.mean.forEach((mean, i) => {
        min = Math.min(min, mean - this.deviations * channels.std[i]!);
        max = Math.max(max, mean + this.deviations * channels.std[i]!);
      });
      return { min, max, source: 'batch-norm' };
    }
    const producer = this.graph.producer(name);
    if (producer === undefined || !isDefaultDomain(producer.domain)) return undefined;
    const bounds = clipBounds(this.graph, producer);
    if (bounds !== undefined) {
      const input = this.estimate(producer.inputs[0] ?? '');
      if (input === undefined) return undefined;
      const clamp = (value: number) => Math.min(bounds[1], Math.max(bounds[0], value));
      return { min: clamp(input.min), max: clamp(input.max), source: input.source };
    }
    if (producer.opType === 'Concat') {
      const inputs = producer.inputs.map((input) => this.estimate(input));
      if (inputs.length === 0 || inputs.some((input) => input === undefined)) return undefined;
      const defined = inputs as Estimate[];
      return {
        min: Math.min(...defined.map((input) => input.min)),
        max: Math.max(...defined.map((input) => input.max)),
        source: 'propagated',
      };
    }
    if (RANGE_PRESERVING.has(producer.opType)) {
      const input = this.estimate(producer.inputs[0] ?? '');
      return input === undefined ? undefined : { ...input, source: 'propagated' };
    }
    return undefined;
  }
}

/** What dataFreeRanges needs beside the model and plan. */
export interface DataFreeRangeOptions {
  readonly executor: ExecutorPlugin | undefined;
  readonly registry: Registry;
  /** Standard deviations either side of a BatchNorm mean (default DEFAULT_RANGE_DEVIATIONS). */
  readonly deviations?: number;
  /** Random samples for the ranges statistics do not give (default DEFAULT_RANDOM_SAMPLES). */
  readonly randomSamples?: number;
  readonly maxTensorsPerPass?: number;
  readonly calibrationRunner?: CalibrationRunner;
  readonly source?: () => FloatModelBytes;
  /**
   * Ranges an earlier data-free run of the same model measured on the same random inputs (its calibration cache,
   * observer 'data-free:random'): reused instead of running the float model again, as the latency guard's and the
   * fidelity floor's repeated runs do.
   */
  readonly measured?: CalibrationCache;
}

/** The observer name a data-free range is recorded under in a calibration cache. */
export const dataFreeObserver = (source: RangeSource): string => `data-free:${source}`;

/**
 * A range for every activation the plan quantizes (those not sharing another's): fixed by an override, estimated
 * from BatchNorm statistics or propagated from such an estimate, else measured with the min-max observer on the
 * float model over seeded random inputs (see RangeSource).
 * @example const { ranges, sources } = await dataFreeRanges(model, plan, recipe, statistics, { executor, registry });
 * @throws QuantError INVALID_ARGUMENT when some range needs random data and there is no executor, naming how
 *   many and the first.
 */
export async function dataFreeRanges(
  model: Model,
  plan: QuantPlan,
  recipe: Recipe,
  statistics: BatchNormStatistics,
  options: DataFreeRangeOptions,
): Promise<DataFreeRanges> {
  const overrides = createOverrideLookup(recipe.overrides);
  const estimator = new RangeEstimator(
    model.graph,
    statistics,
    options.deviations ?? DEFAULT_RANGE_DEVIATIONS,
  );
  const ranges = new Map<string, ValueRange>();
  const sources = new Map<string, RangeSource>();
  const measure: string[] = [];
  for (const name of plan.activations) {
    if (plan.sharedParams.has(name) || plan.scaledParams?.has(name)) continue;
    const fixed = overrides.tensor(name)?.range;
    const estimate = fixed === undefined ? estimator.estimate(name) : undefined;
    if (fixed !== undefined) {
      ranges.set(name, { min: Float32Array.of(fixed[0]), max: Float32Array.of(fixed[1]) });
      sources.set(name, 'fixed');
    } else if (estimate !== undefined) {
      ranges.set(name, { min: Float32Array.of(estimate.min), max: Float32Array.of(estimate.max) });
      sources.set(name, estimate.source);
    } else {
      measure.push(name);
    }
  }
  const count = options.randomSamples ?? DEFAULT_RANDOM_SAMPLES;
  const reused = options.measured?.tensors ?? {};
  const reusable = measure.every((name) => reused[name]?.observer === dataFreeObserver('random'));
  if (measure.length > 0 && reusable) {
    for (const name of measure) {
      const entry = reused[name]!;
      ranges.set(name, { min: Float32Array.from(entry.min), max: Float32Array.from(entry.max) });
      sources.set(name, 'random');
    }
    return { ranges, sources, randomSamples: options.measured!.samples };
  }
  if (measure.length === 0) return { ranges, sources, randomSamples: 0 };
  if (options.executor === undefined) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      `data-free quantization has no BatchNorm statistics for ${measure.length} activation(s) (first "${measure[0]}") ` +
        'and measures them on random inputs: it needs an executor (options.executor)',
    );
  }
  const { graph } = model;
  const inputs = graph.inputs.filter((input) => !graph.initializers.has(input.name));
  const observer = options.registry.get('observer', 'minmax');
  const requests: ObservationRequest[] = measure.map((name) => ({
    name,
    observer,
    options: { granularity: 'tensor', symmetric: recipe.activationSymmetric },
  }));
  const measured = await (options.calibrationRunner ?? calibrate)(model, requests, {
    executor: options.executor,
    samples: randomSampleSource(inputs, count, DEFAULT_SEED, 'data-free random inputs'),
    maxTensorsPerPass: options.maxTensorsPerPass,
    source: options.source?.(),
  });
  for (const name of measure) {
    ranges.set(name, measured.ranges.get(name)!);
    sources.set(name, 'random');
  }
  return { ranges, sources, randomSamples: measured.samples };
}
