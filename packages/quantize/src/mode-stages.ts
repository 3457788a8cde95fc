// A mode is a recipe of stages: what statistics it collects from the float model, how it computes the plan's
// quantization from them, and how it writes that into the graph.
// The pipeline (quantizeModel) runs the same sequence for every mode and asks the mode's recipe for these three.
import type { QuantizerPlugin } from '@quantkit/core';
import { linearQuantizer } from '@quantkit/quantizer-linear';
import { type ActivationRanges, activationRanges } from './activation-ranges.js';
import {
  type ComputedQuantization,
  type QuantizerFor,
  computeStaticQuantization,
  computeWeightQuantization,
} from './compute-quantization.js';
import { quantizeBias } from './bias-scale.js';
import { analyticBiasCorrection } from './analytic-bias-correction.js';
import { type RangeSource, dataFreeObserver, dataFreeRanges } from './data-free-ranges.js';
import { emitDynamic } from './emit-dynamic.js';
import { emitStatic } from './emit-static.js';
import { emitWeightOnly } from './emit-weight-only.js';
import type { QdqEmitter } from './emitter.js';
import { keepOverflowingNodesFp32 } from './float-ranges.js';
import type { QuantizationTransform } from './model-transforms.js';
import { type QuantizeMode, type QuantizeOptions, type Recipe, quantizesActivations } from './options.js';
import type { QuantPlan } from './plan.js';
import type { PreparedModel, RunSetup } from './prepare-model.js';
import type { ScopedDecision } from './subgraphs.js';

/** What a run knows once it has planned. */
export interface PlannedRun {
  readonly setup: RunSetup;
  readonly prepared: PreparedModel;
  readonly options: QuantizeOptions;
  /** The opset the plan was made for (static mode lifts opset 9 to 10, where QuantizeLinear exists). */
  readonly opset: number;
  readonly plan: QuantPlan;
}

/** What the statistics stage learned from running the float model (nothing, in modes that do not run it). */
export interface Statistics {
  /** The plan, revised where the statistics showed a node must stay float (fp16 overflow). */
  readonly plan: QuantPlan;
  /** Static mode: the activation ranges. */
  readonly activations?: ActivationRanges;
  /** Float mode: the fp16 range check's samples and threads. */
  readonly floatCheck?: { readonly samples: number; readonly threads: number };
  /** Nodes inside If/Loop/Scan bodies the statistics decided on (kept fp32 for overflow). */
  readonly bodyDecisions: readonly ScopedDecision[];
  /** Refinements the mode itself runs before the caller's (data-free: analytic bias correction). */
  readonly quantizationTransforms?: readonly QuantizationTransform[];
  /** Data-free mode: where each range came from, and the bias correction's count once it ran. */
  readonly dataFree?: {
    readonly sources: ReadonlyMap<string, RangeSource>;
    readonly randomSamples: number;
    readonly biasesCorrected: () => number;
  };
}

/** One mode's recipe. */
export interface ModeStages {
  collectStatistics(run: PlannedRun): Promise<Statistics>;
  /** Computes every number the main graph's quantization needs (codes, parameters) without touching the graph. */
  compute(run: PlannedRun, statistics: Statistics, quantizerFor: QuantizerFor): ComputedQuantization;
  /** Writes the plan's quantized main graph from the computed value. */
  emit(emitter: QdqEmitter, run: PlannedRun, statistics: Statistics, computed: ComputedQuantization): void;
  /** Whether the weights inside If/Loop/Scan bodies are quantized (fp16 converts bodies in its own pass). */
  readonly quantizesBodies: boolean;
}

/** Nothing to compute: float mode's conversion is the finishing float-precision pass. */
const nothingComputed = (): ComputedQuantization => ({
  activations: new Map(),
  weights: new Map(),
  biases: new Map(),
});

const noStatistics = async (run: PlannedRun): Promise<Statistics> => ({ plan: run.plan, bodyDecisions: [] });

const activationQuantizer = linearQuantizer as typeof linearQuantizer &
  Required<Pick<QuantizerPlugin, 'paramsForRange'>>;

/** Static: calibrate every planned activation, then Q/DQ (or QOperator) around integer compute. */
const staticStages: ModeStages = {
  async collectStatistics(run) {
    const { setup, prepared, options, plan } = run;
    const activations = await activationRanges(
      prepared.model,
      plan,
      setup.recipe,
      setup.registry,
      prepared.fingerprint,
      options,
      prepared.floatSource,
    );
    return { plan, activations, bodyDecisions: [] };
  },
  compute: (run, statistics, quantizerFor) =>
    computeStaticQuantization({
      plan: statistics.plan,
      recipe: run.setup.recipe,
      quantizerFor,
      weightRange: run.setup.recipe.weightRange,
      activationQuantizer,
      ranges: statistics.activations!.ranges,
      symmetric: statistics.activations!.symmetric,
    }),
  emit: (emitter, _run, statistics, computed) => emitStatic(emitter, statistics.plan, computed),
  quantizesBodies: true,
};

/**
 * Weight-only on a quantization-aware-trained model: the biases the plan stores beside a kept input pair and a
 * dequantized weight (withKeptQuantization), in int32 at input scale x weight scale, as static mode writes them.
 */
function emitKeptBiases(emitter: QdqEmitter, plan: QuantPlan, computed: ComputedQuantization): void {
  for (const bias of plan.biases) {
    const input = plan.kept?.activations.get(bias.input);
    const weight = computed.weights.get(bias.weight);
    if (input === undefined || weight === undefined || weight.quantized.params.granularity === 'block')
      continue;
    const quantized = quantizeBias(bias.tensor.data, input.scale[0]!, weight.quantized.params);
    if (quantized === undefined) continue;
    const original = bias.node.inputs[bias.slot]!;
    emitter.graph.replaceInput(bias.node, original, emitter.dequantizedConstant(original, quantized, false));
  }
}

/**
 * Data-free: static's compute and emit over ranges estimated from BatchNorm statistics (measured on seeded random
 * inputs only where there are none), after the float rewrites prepareModel ran (equalization, absorption), with
 * analytic bias correction refining the biases.
 */
const dataFreeStages: ModeStages = {
  async collectStatistics(run) {
    const { setup, prepared, options, plan } = run;
    const settings = setup.recipe.dataFree!;
    const statistics = prepared.dataFree?.statistics ?? new Map();
    const estimated = await dataFreeRanges(prepared.model, plan, setup.recipe, statistics, {
      executor: options.executor,
      registry: setup.registry,
      deviations: settings.deviations,
      maxTensorsPerPass: options.maxTensorsPerPass,
      calibrationRunner: options.calibrationRunner,
      source: prepared.floatSource,
      ...(options.calibrationCache?.model === prepared.fingerprint && { measured: options.calibrationCache }),
    });
    const correction = settings.correctBias ? analyticBiasCorrection(statistics) : undefined;
    const symmetric = () => setup.recipe.activationSymmetric;
    const tensors = Object.fromEntries(
      [...estimated.ranges].map(([name, range]) => [
        name,
        {
          observer: dataFreeObserver(estimated.sources.get(name)!),
          symmetric: symmetric(),
          min: [...range.min],
          max: [...range.max],
        },
      ]),
    );
    const activations: ActivationRanges = {
      ranges: estimated.ranges,
      symmetric,
      observerOf: (name) => `data-free:${estimated.sources.get(name) ?? 'shared'}`,
      observers: new Map(),
      samples: 0,
      threads: 0,
      calibrationHash: undefined,
      cache: {
        kind: 'quantkit-calibration-cache',
        version: 1,
        model: prepared.fingerprint,
        calibrationHash: undefined,
        samples: estimated.randomSamples,
        tensors,
      },
    };
    return {
      plan,
      activations,
      bodyDecisions: [],
      ...(correction !== undefined && { quantizationTransforms: [correction.transform] }),
      dataFree: {
        sources: estimated.sources,
        randomSamples: estimated.randomSamples,
        biasesCorrected: () => correction?.corrected() ?? 0,
      },
    };
  },
  compute: staticStages.compute,
  emit: staticStages.emit,
  quantizesBodies: true,
};

/** A mode that runs nothing on the float model and emits weights only, with no activation parameters. */
function weightsOnly(dynamic: boolean): ModeStages {
  const emitWeights = dynamic ? emitDynamic : emitWeightOnly;
  return {
    collectStatistics: noStatistics,
    compute: (run, statistics, quantizerFor) =>
      computeWeightQuantization({
        plan: statistics.plan,
        recipe: run.setup.recipe,
        quantizerFor,
        weightRange: run.setup.recipe.weightRange,
        dynamic,
      }),
    emit(emitter, run, statistics, computed) {
      emitWeights(emitter, statistics.plan, run.setup.recipe, computed);
      emitKeptBiases(emitter, statistics.plan, computed);
      // A quantization-aware-trained model's activation pairs go back as they were: they are part of what it
      // computes, and weight-only mode adds no activation quantization of its own.
      for (const [name, params] of statistics.plan.kept?.activations ?? [])
        emitter.quantizeActivation(name, params);
    },
    quantizesBodies: true,
  };
}

/** Dynamic: integer MatMul/Conv with activations quantized at run time. */
const dynamicStages = weightsOnly(true);

/** Weight-only: low-bit weights dequantized in front of float ops (or MatMulNBits). */
const weightOnlyStages = weightsOnly(false);

/**
 * Float: fp16 overflows beyond 65504, so with an executor and data (the calibration samples, or failing that the
 * sample the output will be verified on) the float model's values are checked and overflowing nodes stay fp32.
 * The conversion itself is the finishing float-precision pass.
 */
const floatStages: ModeStages = {
  async collectStatistics(run) {
    const { setup, prepared, options, plan } = run;
    const data =
      options.calibrationData ?? (options.verifySample === undefined ? undefined : [options.verifySample]);
    if (setup.recipe.floatPrecision !== 'fp16' || options.executor === undefined || data === undefined)
      return { plan, bodyDecisions: [] };
    const checked = await keepOverflowingNodesFp32(
      prepared.model,
      plan,
      setup.registry,
      { ...options, executor: options.executor, calibrationData: data },
      prepared.floatSource,
    );
    return { plan: checked.plan, floatCheck: checked, bodyDecisions: checked.bodyDecisions };
  },
  compute: nothingComputed,
  emit: () => {},
  quantizesBodies: false,
};

/**
 * Whether a graph's dequantized weights are written in the form onnxruntime folds to fp32 at load (Cast/Mul)
 * rather than behind DequantizeLinear: when asked for (weight-only form 'fold'), and wherever a static or dynamic
 * run, which wants speed, dequantizes weights that only float ops read: every weight in dynamic mode (its integer
 * ops read codes directly) and in If/Loop/Scan bodies. A static main graph keeps DequantizeLinear, which
 * onnxruntime fuses into its integer kernels.
 */
export function foldsDequantize(recipe: Recipe, graph: 'main' | 'body'): boolean {
  if (recipe.weightOnlyForm === 'fold' || recipe.mode === 'dynamic') return true;
  return graph === 'body' && quantizesActivations(recipe.mode);
}

/** Each mode's recipe of stages. */
export const MODE_STAGES: Readonly<Record<QuantizeMode, ModeStages>> = {
  static: staticStages,
  dynamic: dynamicStages,
  'weight-only': weightOnlyStages,
  float: floatStages,
  'data-free': dataFreeStages,
};
