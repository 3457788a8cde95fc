// A mode is a recipe of stages: what statistics it collects from the float model and how it emits the plan.
// The pipeline (quantizeModel) runs the same sequence for every mode and asks the mode's recipe for these two.
import type { LinearQuantParams, QuantizerPlugin } from '@quantkit/core';
import { linearQuantizer } from '@quantkit/quantizer-linear';
import { type ActivationRanges, activationRanges } from './activation-ranges.js';
import { emitDynamic } from './emit-dynamic.js';
import { emitStatic } from './emit-static.js';
import { emitWeightOnly } from './emit-weight-only.js';
import type { QdqEmitter } from './emitter.js';
import { keepOverflowingNodesFp32 } from './float-ranges.js';
import type { QuantizeMode, QuantizeOptions } from './options.js';
import type { ConstantUse, QuantPlan } from './plan.js';
import type { PreparedModel, RunSetup } from './prepare-model.js';
import type { ScopedDecision } from './subgraphs.js';

/** What a run knows once it has planned. */
export interface PlannedRun {
  readonly setup: RunSetup;
  readonly prepared: PreparedModel;
  readonly options: QuantizeOptions;
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
}

/** The quantizer for one constant: the override's, else the run's. */
export type QuantizerFor = (use: ConstantUse) => QuantizerPlugin;

/** One mode's recipe. */
export interface ModeStages {
  collectStatistics(run: PlannedRun): Promise<Statistics>;
  /** Writes the plan's quantized main graph; returns the activation parameters it chose (static mode). */
  emit(
    emitter: QdqEmitter,
    run: PlannedRun,
    statistics: Statistics,
    quantizerFor: QuantizerFor,
  ): Map<string, LinearQuantParams>;
  /** Whether the weights inside If/Loop/Scan bodies are quantized (fp16 converts bodies in its own pass). */
  readonly quantizesBodies: boolean;
}

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
  emit: (emitter, run, statistics, quantizerFor) =>
    emitStatic(emitter, {
      plan: statistics.plan,
      recipe: run.setup.recipe,
      quantizerFor,
      activationQuantizer,
      ranges: statistics.activations!.ranges,
      symmetric: statistics.activations!.symmetric,
    }),
  quantizesBodies: true,
};

/** A mode that runs nothing on the float model and emits weights only, with no activation parameters. */
function weightsOnly(emitWeights: typeof emitWeightOnly): ModeStages {
  return {
    collectStatistics: noStatistics,
    emit(emitter, run, statistics, quantizerFor) {
      emitWeights(emitter, statistics.plan, run.setup.recipe, quantizerFor);
      return new Map();
    },
    quantizesBodies: true,
  };
}

/** Dynamic: integer MatMul/Conv with activations quantized at run time. */
const dynamicStages = weightsOnly(emitDynamic);

/** Weight-only: low-bit weights dequantized in front of float ops (or MatMulNBits). */
const weightOnlyStages = weightsOnly(emitWeightOnly);

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
  emit: () => new Map(),
  quantizesBodies: false,
};

/** Each mode's recipe of stages. */
export const MODE_STAGES: Readonly<Record<QuantizeMode, ModeStages>> = {
  static: staticStages,
  dynamic: dynamicStages,
  'weight-only': weightOnlyStages,
  float: floatStages,
};
