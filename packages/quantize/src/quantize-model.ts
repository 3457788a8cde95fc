import { type LinearQuantParams, QuantError } from '@quantkit/core';
import { type Model, cloneModel, encodedSize } from '@quantkit/onnx';
import { buildQuantizeReport } from './build-report.js';
import type { CalibrationCache } from './calibration-cache.js';
import { dataFreeResult } from './data-free-preparation.js';
import { QdqEmitter } from './emitter.js';
import { finishModel, tidyGraph } from './finalize-model.js';
import { quantizeMeasured } from './measured-runs.js';
import { type QuantizerFor, type WeightRecord, weightRecords } from './compute-quantization.js';
import {
  type FinetuneCache,
  type FinetuneResult,
  createAdaRoundTransform,
  createFinetuneCache,
} from './adaround-transform.js';
import { applyQuantizationTransforms } from './model-transforms.js';
import { MODE_STAGES, type PlannedRun, type Statistics, foldsDequantize } from './mode-stages.js';
import { type QuantizeOptions, type Recipe, quantizesActivations } from './options.js';
import { type ConstantUse, type QuantPlan, planQuantization } from './plan.js';
import { keptPoints, withKeptQuantization } from './plan-kept.js';
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
  finetuneCache: FinetuneCache | undefined,
): Promise<{
  activationParams: Map<string, LinearQuantParams>;
  weights: WeightRecord[];
  finetune: FinetuneResult | undefined;
}> {
  const { recipe } = run.setup;
  const stages = MODE_STAGES[recipe.mode];
  const computed = stages.compute(run, statistics, quantizerFor);
  const context = { model: run.prepared.model, plan: statistics.plan, recipe };
  // AdaRound refines the codes first, so the caller's transforms see (and may refine) the finetuned ones.
  const adaround =
    recipe.finetune === undefined
      ? undefined
      : createAdaRoundTransform({
          executor: run.options.executor,
          calibrationData: run.options.calibrationData,
          recipe: recipe.finetune,
          onProgress: run.options.onProgress,
          cache: finetuneCache,
        });
  // The mode's own refinements (data-free's analytic bias correction) see the finetuned weights' error.
  const transforms = [
    ...(adaround === undefined ? [] : [adaround]),
    ...(statistics.quantizationTransforms ?? []),
    ...(run.options.quantizationTransforms ?? []),
  ];
  await applyQuantizationTransforms(computed, context, transforms);
  stages.emit(emitter, run, statistics, computed);
  emitter.finish();
  return {
    activationParams: computed.activations,
    weights: forReport ? weightRecords(computed) : [],
    finetune: adaround?.result,
  };
}

/** Resolves the run, prepares quantkit's copy of the model and plans it: the stages before any data is seen. */
async function planRun(input: Uint8Array | Model, options: QuantizeOptions): Promise<PlannedRun> {
  const setup = resolveRun(options);
  const { recipe, weightQuantizer } = setup;
  const prepared = await prepareModel(input, setup, options);
  // Static mode needs QuantizeLinear, which opset 9 lacks: such a model moves to opset 10 first.
  const opset = quantizesActivations(recipe.mode)
    ? ensureQdqOpset(prepared.model, prepared.opset)
    : prepared.opset;
  const keepFirstLast = recipe.keepHigherPrecision && weightQuantizer.keepHigherPrecision === 'first-last';
  const plan = withKeptQuantization(
    planQuantization(prepared.model.graph, recipe, opset, keepFirstLast),
    prepared.kept,
    prepared.model.graph,
    recipe.mode,
  );
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
 * The input is never modified. With options.minSqnr or options.latencyGuard the run repeats, keeping regions
 * float until the output is close enough to the float model's and not slower than it (see quantizeMeasured).
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
  // finetune 'bias-correction' is biasCorrection by another name; the measured runs handle it.
  const settings: QuantizeOptions =
    options.finetune === 'bias-correction'
      ? { ...options, biasCorrection: true, finetune: undefined }
      : options;
  // The measured runs repeat the pipeline; AdaRound optimises each layer once across them.
  const finetuneCache = createFinetuneCache();
  return quantizeMeasured(input, settings, {
    quantizeOnce: (runInput, runOptions) => quantizeOnce(runInput, runOptions, finetuneCache),
    planModel,
  });
}

/** One run of the pipeline (quantizeModel without the measured searches: latency guard, fidelity floor). */
async function quantizeOnce(
  input: Uint8Array | Model,
  options: QuantizeOptions,
  finetuneCache?: FinetuneCache,
): Promise<QuantizeResult> {
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
  const fakeQuant = recipe.emit === 'fake-quant';
  const emitter = new QdqEmitter(model, planOpset, {
    perConsumer: recipe.qdqPerConsumer,
    packCodes: recipe.mode === 'weight-only' && !fakeQuant,
    foldDequantize: !fakeQuant && foldsDequantize(recipe, 'main'),
    fakeQuant,
  });
  const { activationParams, weights, finetune } = await computeAndEmit(
    emitter,
    run,
    statistics,
    quantizerFor,
    options.report !== undefined,
    finetuneCache,
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
    ...(plan.kept !== undefined && { keptQuantization: keptPoints(plan) }),
    ...(finished.verification !== undefined && { verification: finished.verification }),
    ...(finetune !== undefined && { finetune }),
    ...(statistics.dataFree !== undefined &&
      prepared.dataFree !== undefined && {
        dataFree: dataFreeResult(prepared.dataFree, statistics.dataFree),
      }),
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
