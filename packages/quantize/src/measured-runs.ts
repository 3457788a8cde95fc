// Runs that measure what they wrote and try again, in this order: calibrationMethod 'auto' compares observers (and
// bias correction) on held-out samples; bias correction (options.biasCorrection) takes the mean shift of rounded
// weights out of the biases; the fidelity floor (options.minSqnr) keeps the regions the output is most sensitive to
// float until its SQNR reaches the floor; the latency guard (options.latencyGuard) then keeps the regions estimated
// to gain least float while the model times slower than the float one. The floor and the guard search over how
// many regions to keep float and record them in the recipe (keepFloat); all of them share calibrated ranges.
import { QuantError } from '@quantkit/core';
import { type Model, encodeModel } from '@quantkit/onnx';
import { withMeasuredOutcome } from './build-report.js';
import { type BiasCorrectionResult, measureBiasShift } from './bias-correction.js';
import type { CalibrationCache } from './calibration-cache.js';
import { measureLatency } from './measure-latency.js';
import {
  type LatencyGuardResult,
  type QuantizedRegion,
  bodyRegions,
  guardMaxRatio,
  quantizedRegions,
  revertedNodes,
  searchKeptFloat,
} from './latency-guard.js';
import {
  type FidelityResult,
  OutputComparison,
  allBut,
  bySensitivity,
  checkMinSqnr,
  fidelitySamples,
  keptForFidelity,
} from './min-sqnr.js';
import type { ModelTransform } from './model-transforms.js';
import type { CalibrationSample, KeptFloat, QuantizeOptions } from './options.js';
import type { PlannedModel, QuantizeResult } from './quantize-model.js';

/** The pipeline's entry points the measured runs repeat (passed in, as they live in quantize-model.ts). */
export interface Pipeline {
  readonly quantizeOnce: (input: Uint8Array | Model, options: QuantizeOptions) => Promise<QuantizeResult>;
  readonly planModel: (input: Uint8Array | Model, options: QuantizeOptions) => Promise<PlannedModel>;
}

/** A first timing at most this much over the limit is timed again before the guard acts (10%). */
const CONFIRM_WITHIN = 0.1;
/** The second timing: longer than verification's, so a few slow rounds weigh less. */
const CONFIRM_TIMING = { minRounds: 21, budgetMs: 4000 } as const;

/** Modes whose point is speed, for the latency guard; weight-only is for size. */
const GUARDED_MODES = new Set<QuantizeOptions['mode']>(['static', 'dynamic', 'data-free']);
/** Modes with integer codes, for the fidelity floor. */
const FLOORED_MODES = new Set<QuantizeOptions['mode']>(['static', 'dynamic', 'weight-only', 'data-free']);

/**
 * The settings of a run a search measures itself: no latency guard, verification, timing or report, which only
 * the written run needs.
 */
function quietly(options: QuantizeOptions): QuantizeOptions {
  return { ...options, latencyGuard: false, verify: false, measureLatency: false, report: undefined };
}

/** The float model as the executor takes it: the bytes given, or the encoding of the model given. */
function floatBytesOf(input: Uint8Array | Model): Uint8Array {
  return input instanceof Uint8Array ? input : encodeModel(input);
}

/** A run of the same input with other settings; the runs share calibrated ranges. */
type Run = (settings: QuantizeOptions) => Promise<QuantizeResult>;

/**
 * Runs of one input that share calibrated ranges: the first calibrates and later ones reuse its ranges. Keeping a
 * region float can quantize a value the first plan did not (a graph input that now meets a quantized node); such a
 * run calibrates once more on the user's data, and its ranges join the rest.
 */
function sharedRanges(
  input: Uint8Array | Model,
  options: QuantizeOptions,
  pipeline: Pipeline,
): { run: Run; cache: () => CalibrationCache | undefined } {
  let cache = options.calibrationCache;
  const run: Run = async (settings) => {
    try {
      const result = await pipeline.quantizeOnce(input, {
        ...settings,
        ...(cache !== undefined && { calibrationCache: cache }),
      });
      cache ??= result.calibrationCache;
      return result;
    } catch (error) {
      const rangeMissing = QuantError.is(error) && error.code === 'CALIBRATION_DATA';
      const canCalibrate = options.calibrationCache === undefined && options.calibrationData !== undefined;
      if (!rangeMissing || !canCalibrate || cache === undefined) throw error;
      const result = await pipeline.quantizeOnce(input, settings);
      const fresh = result.calibrationCache;
      if (fresh !== undefined) cache = { ...fresh, tensors: { ...cache.tensors, ...fresh.tensors } };
      return result;
    }
  };
  return { run, cache: () => cache };
}

/**
 * The result with more in its summary and in its report's, and the shared ranges as its cache (bytes stay lazy:
 * spreading encodes).
 */
function withSummary(
  result: QuantizeResult,
  extra: {
    latencyGuard?: LatencyGuardResult;
    fidelity?: FidelityResult;
    calibrationChoice?: CalibrationChoice;
  },
  calibrationCache: CalibrationCache | undefined,
): QuantizeResult {
  return {
    model: result.model,
    get bytes() {
      return result.bytes;
    },
    plan: result.plan,
    summary: { ...result.summary, ...extra },
    calibrationCache: calibrationCache ?? result.calibrationCache,
    report: result.report === undefined ? undefined : withMeasuredOutcome(result.report, extra),
  };
}

/**
 * quantizeModel: one run of the pipeline, or, with calibrationMethod 'auto', biasCorrection, minSqnr or
 * latencyGuard, the measured runs around it. Their trial runs skip the report and, but for the guard's timing,
 * verification; the chosen configuration runs once more with the options as given.
 */
export async function quantizeMeasured(
  input: Uint8Array | Model,
  options: QuantizeOptions,
  pipeline: Pipeline,
): Promise<QuantizeResult> {
  const guarded = options.latencyGuard !== undefined && options.latencyGuard !== false;
  const maxRatio = guarded ? guardMaxRatio(options.latencyGuard) : undefined;
  const minSqnr = options.minSqnr === undefined ? undefined : checkMinSqnr(options.minSqnr);
  if (minSqnr !== undefined && !FLOORED_MODES.has(options.mode)) {
    throw new QuantError('INVALID_ARGUMENT', [
      { option: 'minSqnr' },
      ` keeps quantized layers float; mode "${options.mode}" has none (use static, dynamic or weight-only)`,
    ]);
  }
  const guard = maxRatio !== undefined && GUARDED_MODES.has(options.mode) ? maxRatio : undefined;
  const auto = options.calibrationMethod === AUTO_CALIBRATION;
  const correct = options.biasCorrection === true;
  if (correct && options.mode !== 'static') {
    throw new QuantError('INVALID_ARGUMENT', [
      { option: 'biasCorrection' },
      ` corrects the biases of static int8 layers; mode "${options.mode}" has none (use static)`,
    ]);
  }
  if (minSqnr === undefined && guard === undefined && !auto && !correct) {
    return pipeline.quantizeOnce(input, options);
  }

  const chosen = auto ? await chooseCalibration(input, options, pipeline) : undefined;
  let given = chosen?.options ?? options;
  const { run, cache } = sharedRanges(input, given, pipeline);
  const calibrationChoice = chosen?.choice;
  let biasCorrection: BiasCorrectionResult | undefined;
  if (given.biasCorrection === true) {
    const corrected = await correctBiases(input, given, run, pipeline);
    biasCorrection = corrected.result;
    given = { ...given, transforms: [...(given.transforms ?? []), corrected.transform] };
  }
  let settled = given;
  let fidelity: FidelityResult | undefined;
  if (minSqnr !== undefined) {
    const floor = await fidelityFloor(input, given, minSqnr, run, pipeline);
    fidelity = floor.fidelity;
    settled = { ...given, keepFloat: floor.keepFloat };
  }
  const measured = {
    ...(calibrationChoice !== undefined && { calibrationChoice }),
    ...(biasCorrection !== undefined && { biasCorrection }),
    ...(fidelity !== undefined && { fidelity }),
  };
  if (guard === undefined) {
    return withSummary(await run({ ...settled, latencyGuard: false }), measured, cache());
  }
  const { result, latencyGuard } = await guardLatency(input, settled, guard, run, pipeline);
  return withSummary(result, { latencyGuard, ...measured }, cache());
}

/** The calibration method that lets a static run choose its observer by measuring (options.calibrationMethod). */
export const AUTO_CALIBRATION = 'auto';
/** What 'auto' compares: the observed extremes, and clipping where it cuts a tensor's error enough. */
const AUTO_CANDIDATES = ['minmax', 'clip'] as const;

/** What calibrationMethod 'auto' measured and chose (QuantizeSummary.calibrationChoice). */
export interface CalibrationChoice {
  /** Where the samples the outputs were compared on came from. */
  readonly samples: FidelityResult['samples'];
  /**
   * Calibration samples held out of the candidates' calibration to compare on (the last quarter of an array);
   * 0 when the comparison ran on calibration samples themselves.
   */
  readonly heldOut: number;
  /**
   * Each candidate (observer, with or without bias correction) and the worst output's SQNR it gave against the
   * float model.
   */
  readonly candidates: readonly {
    readonly method: string;
    readonly biasCorrection: boolean;
    readonly sqnr: number;
  }[];
  /** The chosen observer; the recipe and summary.biasCorrection say whether biases were corrected. */
  readonly chosen: string;
}

/**
 * calibrationMethod 'auto': calibrate with each candidate observer (each with and without bias correction, unless
 * biasCorrection is set), compare the outputs with the float model's, and keep the candidate that comes closest
 * (the first on a tie: min-max without correction). No one observer is best: on the real-model corpus the clip
 * observer gained 1-14 dB over min-max on five models and lost 4 dB on a text recognizer. A calibration cache given
 * with 'auto' names its observer, which is taken as chosen.
 * @returns the options with the chosen method and biasCorrection (the choice then calibrates again on every sample:
 *   the candidates saw only part of them) and the account of the choice.
 */
async function chooseCalibration(
  input: Uint8Array | Model,
  options: QuantizeOptions,
  pipeline: Pipeline,
): Promise<{ options: QuantizeOptions; choice?: CalibrationChoice }> {
  const cached = options.calibrationCache;
  if (cached !== undefined) {
    const method = Object.values(cached.tensors)[0]?.observer ?? 'minmax';
    return { options: { ...options, calibrationMethod: method } };
  }
  if (options.mode !== 'static' || options.executor === undefined) {
    throw new QuantError('INVALID_ARGUMENT', [
      { option: 'calibrationMethod', value: AUTO_CALIBRATION },
      ' compares calibrated static models with the float one: it needs mode "static" and an executor',
    ]);
  }
  // Compared on samples the candidates did not calibrate on: on its own calibration samples min-max clips nothing
  // and wins by construction. With calibration data as an array the last quarter is held out; otherwise (a folder
  // read afresh) the first samples are compared in-sample, which favours min-max.
  const data = options.calibrationData;
  const split = Array.isArray(data) && data.length >= 2;
  const held = split ? Math.max(1, Math.floor(data.length / 4)) : 0;
  const fit = split ? (data as readonly CalibrationSample[]).slice(0, data.length - held) : data;
  const check = split ? (data as readonly CalibrationSample[]).slice(data.length - held) : undefined;
  const quiet = quietly({ ...options, ...(fit !== undefined && { calibrationData: fit }) });
  let comparison: OutputComparison | undefined;
  let origin: FidelityResult['samples'] = 'calibration';
  const tried: CalibrationChoice['candidates'][number][] = [];
  const corrections = options.biasCorrection === undefined ? [false, true] : [options.biasCorrection];
  for (const method of AUTO_CANDIDATES) {
    const settings = { ...quiet, calibrationMethod: method };
    const result = await pipeline.quantizeOnce(input, settings);
    if (comparison === undefined) {
      const { samples, origin: from } =
        check === undefined
          ? await fidelitySamples(result.model.graph, options)
          : { samples: check, origin: 'calibration' as const };
      origin = from;
      comparison = await OutputComparison.create(options.executor, floatBytesOf(input), samples);
    }
    for (const biasCorrection of corrections) {
      const candidate = biasCorrection
        ? await pipeline.quantizeOnce(input, {
            ...settings,
            calibrationCache: result.calibrationCache,
            transforms: [
              ...(settings.transforms ?? []),
              (await correctBiasesOf(input, settings, result, pipeline)).transform,
            ],
          })
        : result;
      tried.push({ method, biasCorrection, sqnr: await comparison.sqnr(candidate.bytes) });
    }
  }
  const best = tried.reduce((winner, candidate) => (candidate.sqnr > winner.sqnr ? candidate : winner));
  // The chosen observer calibrates again on every sample (the candidates saw a part when some were held out).
  return {
    options: { ...options, calibrationMethod: best.method, biasCorrection: best.biasCorrection },
    choice: { samples: origin, heldOut: held, candidates: tried, chosen: best.method },
  };
}

/**
 * Bias correction: quantize once and compute each biased layer's output shift from its weight rounding and the
 * float model's input means on up to 4 calibration samples (see measureBiasShift); returns the transform that takes
 * it out of the float biases.
 */
async function correctBiases(
  input: Uint8Array | Model,
  options: QuantizeOptions,
  run: Run,
  pipeline: Pipeline,
): Promise<{ transform: ModelTransform; result: BiasCorrectionResult }> {
  const quiet = quietly(options);
  return correctBiasesOf(input, quiet, await run(quiet), pipeline);
}

/** Bias correction's measurement on a run already made with `settings`. */
async function correctBiasesOf(
  input: Uint8Array | Model,
  settings: QuantizeOptions,
  first: QuantizeResult,
  pipeline: Pipeline,
): Promise<{ transform: ModelTransform; result: BiasCorrectionResult }> {
  if (settings.executor === undefined) {
    throw new QuantError('INVALID_ARGUMENT', [
      { option: 'biasCorrection' },
      " measures the float layers' inputs and needs an executor",
    ]);
  }
  const planned = await pipeline.planModel(input, settings);
  const { samples } = await fidelitySamples(first.model.graph, settings);
  return measureBiasShift(settings.executor, planned.model, first.model, first.plan, samples);
}

/**
 * The regions of the plan a run made, in the graph planModel gives for the same options; with `bodies`, the compute
 * nodes inside If/Loop/Scan bodies first (see bodyRegions).
 */
async function regionsOf(
  input: Uint8Array | Model,
  settings: QuantizeOptions,
  result: QuantizeResult,
  pipeline: Pipeline,
  bodies: boolean,
): Promise<QuantizedRegion[]> {
  const planned = await pipeline.planModel(input, settings);
  const main = quantizedRegions(planned.model.graph, result.plan.decisions);
  return bodies ? [...bodyRegions(result.summary.nodes), ...main] : main;
}

/**
 * The fidelity floor: measure the output's SQNR as planned; when it falls short, measure each region's
 * sensitivity (it alone quantized) and find the fewest of the most sensitive to keep float.
 * @returns the keepFloat entries to run with (the user's and the floor's) and the account of it.
 */
async function fidelityFloor(
  input: Uint8Array | Model,
  options: QuantizeOptions,
  minSqnr: number,
  run: Run,
  pipeline: Pipeline,
): Promise<{ keepFloat: KeptFloat[]; fidelity: FidelityResult }> {
  const { executor } = options;
  if (executor === undefined) {
    throw new QuantError('INVALID_ARGUMENT', [
      { option: 'minSqnr' },
      ' measures the quantized model against the float one and needs an executor',
    ]);
  }
  const quiet = quietly(options);
  const first = await run(quiet);
  const floatBytes = floatBytesOf(input);
  const { samples, origin } = await fidelitySamples(first.model.graph, options);
  const comparison = await OutputComparison.create(executor, floatBytes, samples);
  const sqnr = await comparison.sqnr(first.bytes);
  const given = [...(options.keepFloat ?? [])];
  const account = { minSqnr, samples: origin, sqnr };
  if (sqnr >= minSqnr) {
    return {
      keepFloat: given,
      fidelity: { ...account, sensitivity: [], kept: [], trials: [{ reverted: 0, sqnr }], finalSqnr: sqnr },
    };
  }
  // Body weights add error in every mode.
  const regions = await regionsOf(input, quiet, first, pipeline, true);
  const probe = 'kept float while another region is measured alone';
  const alone: number[] = [];
  for (const region of regions) {
    const probed = await run({ ...quiet, keepFloat: [...given, ...allBut(regions, region, probe)] });
    alone.push(await comparison.sqnr(probed.bytes));
  }
  const ordered = bySensitivity(regions, alone);
  const keeping = (count: number) => [...given, ...keptForFidelity(ordered.slice(0, count), minSqnr)];
  const found = await searchKeptFloat(
    ordered.length,
    (value) => value >= minSqnr,
    { result: undefined, value: sqnr },
    async (count) => {
      const result = await run({ ...quiet, keepFloat: keeping(count) });
      return { result: undefined, value: await comparison.sqnr(result.bytes) };
    },
  );
  return {
    keepFloat: keeping(found.count),
    fidelity: {
      ...account,
      sensitivity: ordered,
      kept: ordered.slice(0, found.count),
      trials: found.trials.map(({ reverted, value }) => ({ reverted, sqnr: value })),
      finalSqnr: found.value ?? Number.POSITIVE_INFINITY,
    },
  };
}

/**
 * The never-slower guard: quantize and time the result against the float model; while it is slower than
 * maxRatio, search for the fewest quantized regions, lowest estimated gain first, to keep float.
 */
async function guardLatency(
  input: Uint8Array | Model,
  options: QuantizeOptions,
  maxRatio: number,
  run: Run,
  pipeline: Pipeline,
): Promise<{ result: QuantizeResult; latencyGuard: LatencyGuardResult }> {
  const timed: QuantizeOptions = { ...options, latencyGuard: false, measureLatency: true };
  const first = await run(timed);
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
    return { result: first, latencyGuard: { ran: false, reason } };
  }
  let firstRatio = latency.ratio;
  if (firstRatio > maxRatio && firstRatio <= maxRatio * (1 + CONFIRM_WITHIN)) {
    // Timing on a shared machine wanders by a few percent: a small slowdown is timed again, longer, before
    // regions go float for it, and the lower of the two ratios stands.
    const floatBytes = floatBytesOf(input);
    const { samples } = await fidelitySamples(first.model.graph, options);
    const again = await measureLatency(
      options.executor!,
      floatBytes,
      first.bytes,
      samples[0]!,
      CONFIRM_TIMING,
    );
    firstRatio = Math.min(firstRatio, again.ratio);
  }
  const passed = {
    ran: true,
    maxRatio,
    reverted: [],
    trials: [{ reverted: 0, ratio: firstRatio }],
  } as const;
  if (firstRatio <= maxRatio) return { result: first, latencyGuard: { ...passed, ratio: firstRatio } };
  // Only dynamic mode runs integer kernels inside bodies; the other modes store body weights in the form
  // onnxruntime folds at load, which costs no time per run.
  const regions = await regionsOf(input, timed, first, pipeline, options.mode === 'dynamic');
  if (regions.length === 0) {
    return { result: first, latencyGuard: { ...passed, regions: 0, ratio: firstRatio } };
  }
  const keeping = (count: number): QuantizeOptions => ({
    ...timed,
    keepFloat: [
      ...(options.keepFloat ?? []),
      ...revertedNodes(regions.slice(0, count), firstRatio, verification.runtime),
    ],
  });
  // A variant the executor refuses (a quantkit bug, reported in the result) does not pass; the search goes on.
  const refused: { reverted: number; message: string }[] = [];
  let refusal: unknown;
  const found = await searchKeptFloat<QuantizeResult | undefined>(
    regions.length,
    (ratio) => ratio <= maxRatio,
    { result: first, value: firstRatio },
    async (count) => {
      try {
        const result = await run({ ...keeping(count), report: undefined });
        const check = result.summary.verification;
        return { result, value: check?.verified === true ? check.latency?.ratio : undefined };
      } catch (error) {
        if (!(QuantError.is(error) && error.code === 'INTERNAL')) throw error;
        refused.push({ reverted: count, message: error.message });
        refusal = error;
        return { result: undefined, value: undefined };
      }
    },
  );
  if (found.result === undefined) throw refusal;
  // The trials skip the report; the chosen configuration runs once more to build it.
  const result =
    options.report === undefined
      ? found.result
      : await run({ ...keeping(found.count), measureLatency: options.measureLatency });
  return {
    result,
    latencyGuard: {
      ...passed,
      regions: regions.length,
      reverted: regions.slice(0, found.count),
      trials: found.trials.map(({ reverted, value }) => ({ reverted, ratio: value })),
      // Every region float leaves nothing quantized to time: the float model's own speed.
      ratio: found.value ?? 1,
      ...(refused.length > 0 && { refused }),
    },
  };
}
