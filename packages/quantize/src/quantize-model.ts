import { type LinearQuantParams, QuantError } from '@quantkit/core';
import { type Model, cloneModel, encodedSize } from '@quantkit/onnx';
import { buildQuantizeReport } from './build-report.js';
import type { CalibrationCache } from './calibration-cache.js';
import { QdqEmitter } from './emitter.js';
import { finishModel, tidyGraph } from './finalize-model.js';
import {
  type LatencyGuardResult,
  guardMaxRatio,
  quantizedRegions,
  revertedNodes,
  searchRevertedRegions,
} from './latency-guard.js';
import { type QuantizerFor, type WeightRecord, weightRecords } from './compute-quantization.js';
import { applyQuantizationTransforms } from './model-transforms.js';
import { MODE_STAGES, type PlannedRun, type Statistics, foldsDequantize } from './mode-stages.js';
import type { QuantizeOptions, Recipe } from './options.js';
import { type ConstantUse, type QuantPlan, planQuantization } from './plan.js';
import { prepareModel, resolveRun } from './prepare-model.js';
import type { QuantizeReport } from './report.js';
import { hasSubgraphs, quantizeSubgraphs } from './subgraphs.js';
import { type QuantizeSummary, weightBytes } from './summary.js';
import { ensureQdqOpset } from './upgrade-opset.js';

export interface QuantizeResult {
  /** The quantized model (IR). */
  readonly model: Model;
  /**
   * Its encoding, made on first use. A model holding weights still in an external data file (read by
   * readModelFile) is better written with writeModelFile and external data, which never holds it whole.
   */
  readonly bytes: Uint8Array;
  readonly plan: QuantPlan;
  readonly summary: QuantizeSummary;
  /** Static mode: the calibrated ranges, to save and reuse with options.calibrationCache. */
  readonly calibrationCache: CalibrationCache | undefined;
  /** The per-layer error report, when options.report asked for it. */
  readonly report: QuantizeReport | undefined;
}

/**
 * Computes the main graph's quantization (pure: codes and parameters), lets the quantization transforms refine it,
 * and writes it: the emitters read only the plan and this value. Only what the report needs outlives the call, so
 * transposed copies of weights made for integer kernels are not held for the rest of the run.
 */
async function computeAndEmit(
  emitter: QdqEmitter,
  run: PlannedRun,
  statistics: Statistics,
  quantizerFor: QuantizerFor,
  forReport: boolean,
): Promise<{ activationParams: Map<string, LinearQuantParams>; weights: WeightRecord[] }> {
  const stages = MODE_STAGES[run.setup.recipe.mode];
  const computed = stages.compute(run, statistics, quantizerFor);
  const context = { model: run.prepared.model, plan: statistics.plan, recipe: run.setup.recipe };
  await applyQuantizationTransforms(computed, context, run.options.quantizationTransforms ?? []);
  stages.emit(emitter, run, statistics, computed);
  emitter.finish();
  return { activationParams: computed.activations, weights: forReport ? weightRecords(computed) : [] };
}

/** Resolves the run, prepares quantkit's copy of the model and plans it: the stages before any data is seen. */
async function planRun(input: Uint8Array | Model, options: QuantizeOptions): Promise<PlannedRun> {
  const setup = resolveRun(options);
  const { recipe, weightQuantizer } = setup;
  const prepared = await prepareModel(input, setup, options);
  // Static mode needs QuantizeLinear, which opset 9 lacks: such a model moves to opset 10 first.
  const opset = recipe.mode === 'static' ? ensureQdqOpset(prepared.model, prepared.opset) : prepared.opset;
  const keepFirstLast = recipe.keepHigherPrecision && weightQuantizer.keepHigherPrecision === 'first-last';
  const plan = planQuantization(prepared.model.graph, recipe, opset, keepFirstLast);
  return { setup, prepared, options, opset, plan };
}

/** What planModel returns: the plan and the model it was made for. */
export interface PlannedModel {
  /** Per node of the main graph: quantized or kept float, how, and why; what each stage after it works from. */
  readonly plan: QuantPlan;
  /** quantkit's copy of the input as planned: float transforms applied (BatchNorm folded), nodes named. */
  readonly model: Model;
  /** The options resolved against the target. */
  readonly recipe: Recipe;
}

/**
 * Plans a quantization without running it: resolves the options, prepares quantkit's copy of the model and decides,
 * per node, what is quantized, how and why. Nothing runs and nothing is written, so it is cheap enough to try many
 * recipes. It is the plan a quantizeModel run with the same options starts from; in float mode the fp16 range
 * check may then keep more nodes fp32, and nodes inside If/Loop/Scan bodies are planned as their weights are
 * written.
 *
 * @example
 * const { plan } = await planModel(modelBytes, { mode: 'static', target: 'x86-vnni' });
 * const kept = plan.decisions.filter((decision) => !decision.quantized);
 * @throws QuantError as quantizeModel does for bad options and models.
 */
export async function planModel(input: Uint8Array | Model, options: QuantizeOptions): Promise<PlannedModel> {
  const { prepared, plan, setup } = await planRun(input, options);
  return { plan, model: prepared.model, recipe: setup.recipe };
}

/**
 * Quantizes an ONNX model. Every mode runs the same stages; the mode's recipe (MODE_STAGES) says what each does:
 * prepare (decode a private copy, float transforms such as BatchNorm folding) -> plan (per node: what, how, why)
 * -> collect statistics (calibration, fp16 range check) -> emit (the main graph, then If/Loop/Scan bodies) ->
 * finish (format, float precision, target check, provenance, one encode, verification) -> report.
 * The input is never modified. With options.latencyGuard, the run repeats with regions kept float while the
 * written model times slower than the float one (see quantizeWithLatencyGuard).
 *
 * @example
 * const { bytes, summary } = await quantizeModel(modelBytes, { mode: 'dynamic' });
 * @example
 * const result = await quantizeModel(modelBytes, { mode: 'static', executor, calibrationData: samples });
 * @throws QuantError INVALID_ARGUMENT for bad options, INVALID_MODEL for a broken model, CALIBRATION_DATA for
 * missing or misfit samples, EXECUTOR when the runtime fails during calibration.
 */
export async function quantizeModel(
  input: Uint8Array | Model,
  options: QuantizeOptions,
): Promise<QuantizeResult> {
  if (options.latencyGuard === undefined || options.latencyGuard === false)
    return quantizeOnce(input, options);
  const maxRatio = guardMaxRatio(options.latencyGuard);
  if (!GUARDED_MODES.has(options.mode)) return quantizeOnce(input, options);
  return quantizeWithLatencyGuard(input, options, maxRatio);
}

/** Modes whose point is speed; weight-only is for size and float mode for the narrower float's own sake. */
const GUARDED_MODES = new Set<QuantizeOptions['mode']>(['static', 'dynamic']);

/** The result with the guard's account in its summary (bytes stay lazy: spreading would encode them). */
function withGuard(
  result: QuantizeResult,
  latencyGuard: LatencyGuardResult,
  calibrationCache = result.calibrationCache,
): QuantizeResult {
  const summary = { ...result.summary, latencyGuard };
  return {
    model: result.model,
    get bytes() {
      return result.bytes;
    },
    plan: result.plan,
    summary,
    calibrationCache,
    report: result.report,
  };
}

/**
 * The never-slower guard around one run: quantize and time the result against the float model; while it is slower
 * than maxRatio, search (searchRevertedRegions) for the fewest quantized regions, lowest estimated gain first, to
 * keep float. Later runs reuse the first run's calibrated ranges, so calibration runs once.
 */
async function quantizeWithLatencyGuard(
  input: Uint8Array | Model,
  options: QuantizeOptions,
  maxRatio: number,
): Promise<QuantizeResult> {
  const timed: QuantizeOptions = { ...options, latencyGuard: false, measureLatency: true };
  const first = await quantizeOnce(input, timed);
  const verification = first.summary.verification;
  const latency = verification?.verified === true ? verification.latency : undefined;
  if (verification?.verified !== true || latency === undefined) {
    const reason =
      options.executor === undefined
        ? 'no executor to time the models in'
        : verification === undefined
          ? 'verification is off, and the guard times the models verification loads'
          : verification.verified
            ? 'the models were not timed'
            : `the models could not be timed: ${verification.reason}`;
    return withGuard(first, { ran: false, reason });
  }
  const passed = {
    ran: true,
    maxRatio,
    reverted: [],
    trials: [{ reverted: 0, ratio: latency.ratio }],
  } as const;
  if (latency.ratio <= maxRatio) return withGuard(first, { ...passed, ratio: latency.ratio });
  const planned = await planModel(input, timed);
  const regions = quantizedRegions(planned.model.graph, first.plan.decisions);
  if (regions.length === 0) return withGuard(first, { ...passed, regions: 0, ratio: latency.ratio });

  let cache = first.calibrationCache ?? options.calibrationCache;
  const keeping = (count: number): QuantizeOptions => ({
    ...timed,
    keepFloat: [
      ...(options.keepFloat ?? []),
      ...revertedNodes(regions.slice(0, count), latency.ratio, verification.runtime),
    ],
  });
  const runKeeping = async (count: number, extra: Partial<QuantizeOptions>): Promise<QuantizeResult> => {
    const settings = { ...keeping(count), ...extra };
    try {
      return await quantizeOnce(input, {
        ...settings,
        ...(cache !== undefined && { calibrationCache: cache }),
      });
    } catch (error) {
      // Keeping a region float can quantize a value the first plan did not (a graph input that now meets a
      // quantized node): calibrate once more on the user's data and keep every range for the trials after.
      const rangeMissing = QuantError.is(error) && error.code === 'CALIBRATION_DATA';
      if (!rangeMissing || options.calibrationCache !== undefined || options.calibrationData === undefined) {
        throw error;
      }
      const result = await quantizeOnce(input, settings);
      const fresh = result.calibrationCache;
      if (fresh !== undefined) cache = { ...fresh, tensors: { ...cache?.tensors, ...fresh.tensors } };
      return result;
    }
  };
  const found = await searchRevertedRegions(
    regions,
    maxRatio,
    { result: first, ratio: latency.ratio },
    async (count) => {
      const result = await runKeeping(count, { report: undefined });
      const check = result.summary.verification;
      return { result, ratio: check?.verified === true ? check.latency?.ratio : undefined };
    },
  );
  // The trials skip the report; the chosen configuration runs once more to build it.
  const result =
    options.report === undefined
      ? found.result
      : await runKeeping(found.count, { measureLatency: options.measureLatency });
  return withGuard(
    result,
    {
      ...passed,
      regions: regions.length,
      reverted: regions.slice(0, found.count),
      trials: found.trials,
      ratio: found.ratio,
    },
    first.calibrationCache,
  );
}

/** One run of the pipeline (quantizeModel without the latency guard). */
async function quantizeOnce(input: Uint8Array | Model, options: QuantizeOptions): Promise<QuantizeResult> {
  const run = await planRun(input, options);
  const { setup, prepared, opset: planOpset } = run;
  const { recipe, registry, weightQuantizer } = setup;
  const stages = MODE_STAGES[recipe.mode];
  const { model } = prepared;
  const { graph } = model;
  // The report compares against the float graph as planned (BatchNorm folded), so every value name lines up.
  // graph.clone() shares tensors, which quantization replaces rather than changes, so the copy costs no weights.
  const reference = options.report === undefined ? undefined : cloneModel(model);

  const statistics = await stages.collectStatistics(run);

  const quantizerFor = (use: ConstantUse) =>
    use.override?.quantizer === undefined
      ? weightQuantizer
      : registry.get('quantizer', use.override.quantizer);
  const emitter = new QdqEmitter(model, planOpset, {
    perConsumer: recipe.qdqPerConsumer,
    packCodes: recipe.mode === 'weight-only',
    foldDequantize: foldsDequantize(recipe, 'main'),
  });
  const { activationParams, weights } = await computeAndEmit(
    emitter,
    run,
    statistics,
    quantizerFor,
    options.report !== undefined,
  );
  // Weights inside If/Loop/Scan bodies (a voice-activity model's whole network can live in If branches).
  const bodyDecisions =
    !stages.quantizesBodies || !hasSubgraphs(graph)
      ? statistics.bodyDecisions
      : quantizeSubgraphs(model, emitter, {
          recipe,
          opset: planOpset,
          quantizerFor,
          weightRange: recipe.weightRange,
        });
  tidyGraph(graph);

  const finished = await finishModel(model, run, statistics, bodyDecisions);
  const { plan, activations, floatCheck } = statistics;
  const summary: QuantizeSummary = {
    mode: recipe.mode,
    recipe,
    sizeBefore: prepared.inputSize(),
    // A model read with its weights left in their data file is written with external data, never encoded whole.
    sizeAfter: prepared.paged ? encodedSize(finished.model) : finished.encode().length,
    weightBytesBefore: prepared.weightBytesBefore,
    weightBytesAfter: weightBytes(finished.model.graph),
    nodes: [...plan.decisions, ...bodyDecisions],
    calibrationSamples: activations?.samples ?? floatCheck?.samples ?? 0,
    calibrationThreads: activations?.threads ?? floatCheck?.threads ?? 0,
    warnings: [...finished.warnings],
    ...(finished.verification !== undefined && { verification: finished.verification }),
    ...(finished.formatConversion && {
      qoperator: {
        converted: finished.formatConversion.converted.length,
        kept: finished.formatConversion.kept,
      },
    }),
  };
  let report: QuantizeReport | undefined;
  if (options.report !== undefined && reference !== undefined) {
    const samples = options.report.samples ?? options.calibrationData;
    if (options.executor === undefined || samples === undefined) {
      throw new QuantError(
        'INVALID_ARGUMENT',
        'the per-layer report needs an executor and samples (report.samples or calibration data)',
      );
    }
    report = await buildQuantizeReport({
      modelName: options.report.modelName ?? 'model',
      reference,
      quantized: finished.model,
      plan,
      summary,
      weights,
      activationParams,
      observerOf: activations?.observerOf ?? (() => 'none'),
      executor: options.executor,
      samples,
      limit: options.report.limit,
      maxTensorsPerPass: options.maxTensorsPerPass,
    });
  }
  return {
    model: finished.model,
    get bytes() {
      return finished.encode();
    },
    plan,
    summary,
    calibrationCache: activations?.cache,
    report,
  };
}
