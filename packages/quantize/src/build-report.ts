import { type ExecutorPlugin, type LinearQuantParams, dequantizeQuantized } from '@quantkit/core';
import type { Model } from '@quantkit/onnx';
import { type LayerComparison, compareLayers } from './compare-layers.js';
import type { WeightRecord } from './compute-quantization.js';
import { compareTensors } from './metrics.js';
import type { CalibrationSource } from './options.js';
import type { QuantPlan } from './plan.js';
import { flagLayers } from './flag-layers.js';
import type { Histogram, QuantParamsRange, QuantizeReport, WeightError } from './report.js';
import type { QuantizeSummary } from './summary.js';
import type { LatencyGuardResult } from './latency-guard.js';
import type { FidelityResult } from './min-sqnr.js';
import { QUANTKIT_VERSION } from './version.js';

export interface ReportInputs {
  readonly modelName: string;
  /** The float model the quantized one was made from (after BatchNorm folding). */
  readonly reference: Model;
  readonly quantized: Model;
  readonly plan: QuantPlan;
  readonly summary: QuantizeSummary;
  readonly weights: readonly WeightRecord[];
  readonly activationParams: ReadonlyMap<string, LinearQuantParams>;
  readonly observerOf: (name: string) => string;
  readonly executor: ExecutorPlugin;
  readonly samples: CalibrationSource;
  readonly limit?: number | undefined;
  readonly maxTensorsPerPass?: number | undefined;
}

function histogramOf(values: Float32Array, bins = 64): Histogram {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (!(max > min)) return { min, max: min, counts: [values.length] };
  const counts = new Array<number>(bins).fill(0);
  const scale = bins / (max - min);
  for (const v of values) counts[Math.min(bins - 1, Math.floor((v - min) * scale))]!++;
  return { min, max, counts };
}

/** A tensor's scales and zero points: their count and extremes (a per-channel weight has hundreds). */
function quantParamsRange(params: LinearQuantParams): QuantParamsRange {
  let minScale = Infinity;
  let maxScale = -Infinity;
  for (const scale of params.scale) {
    if (scale < minScale) minScale = scale;
    if (scale > maxScale) maxScale = scale;
  }
  let minZeroPoint = Infinity;
  let maxZeroPoint = -Infinity;
  for (const zeroPoint of params.zeroPoint) {
    if (zeroPoint < minZeroPoint) minZeroPoint = zeroPoint;
    if (zeroPoint > maxZeroPoint) maxZeroPoint = zeroPoint;
  }
  return { count: params.scale.length, minScale, maxScale, minZeroPoint, maxZeroPoint };
}

function weightError(record: WeightRecord): WeightError {
  const { float, quantized } = record;
  const restored = dequantizeQuantized(quantized);
  const metrics = compareTensors(float, { dtype: 'float32', shape: float.shape, data: restored });
  return {
    tensor: record.tensor,
    sqnr: metrics.sqnr,
    maxAbsError: metrics.maxAbsError,
    bits: quantized.params.bits,
    granularity: quantized.params.granularity,
    quantParams: quantParamsRange(quantized.params),
    histogram: histogramOf(float.data),
  };
}

function representable(params: LinearQuantParams): [number, number] {
  const scale = params.scale[0]!;
  const zeroPoint = params.zeroPoint[0]!;
  return [(params.qmin - zeroPoint) * scale, (params.qmax - zeroPoint) * scale];
}

/**
 * The per-layer error report of a quantization run: for every quantized node, its output compared between the
 * quantized and the float graph on the same samples, its weight's quantization error, its activation range and
 * the share of values that range clips; the worst layers flagged with a suggested override (REPORT_FLAG_RULE).
 *
 * @example const report = await buildQuantizeReport({ modelName: 'model.onnx', reference, quantized, ...run });
 * @throws QuantError CALIBRATION_DATA when there is no sample to compare on, INVALID_ARGUMENT when a layer's output
 *   is missing from either model.
 */
export async function buildQuantizeReport(inputs: ReportInputs): Promise<QuantizeReport> {
  const { plan, reference, quantized, activationParams, summary } = inputs;
  const fusedInto = new Map(
    plan.fusedActivations.map(({ activation, producer }) => [producer.name, activation.outputs[0]!]),
  );
  const fused = new Set(plan.fusedActivations.map(({ activation }) => activation.name));
  const producers = new Map(reference.graph.nodes.map((node) => [node.name, node]));
  const layers = plan.decisions
    .filter((decision) => decision.quantized && !fused.has(decision.name))
    .map((decision) => ({
      decision,
      output: fusedInto.get(decision.name) ?? producers.get(decision.name)?.outputs[0],
    }))
    .filter(
      (layer): layer is { decision: (typeof layer)['decision']; output: string } =>
        layer.output !== undefined,
    );

  const probes = layers.map(({ output }) => {
    const params = activationParams.get(output);
    if (params === undefined) return { name: output };
    // A value within half a step of the range rounds like any other; only values beyond that are clipped.
    const [low, high] = representable(params);
    const halfStep = params.scale[0]! / 2;
    return { name: output, range: [low - halfStep, high + halfStep] as const };
  });
  const comparisons = new Map<string, LayerComparison>();
  for (const comparison of await compareLayers(reference, quantized, probes, inputs)) {
    comparisons.set(comparison.name, comparison);
  }
  const weights = new Map<string, WeightError>();
  for (const record of inputs.weights)
    if (!weights.has(record.node)) weights.set(record.node, weightError(record));

  const rows = layers.map(({ decision, output }) => {
    const comparison = comparisons.get(output)!;
    const params = activationParams.get(output);
    const [min, max] = params ? representable(params) : [0, 0];
    return {
      node: decision.name,
      opType: decision.opType,
      output,
      sqnr: comparison.sqnr,
      cosine: comparison.cosine,
      maxAbsError: comparison.maxAbsError,
      weight: weights.get(decision.name),
      activation:
        params && comparison.histogram
          ? {
              tensor: output,
              observer: inputs.observerOf(output),
              min,
              max,
              scale: params.scale[0]!,
              zeroPoint: params.zeroPoint[0]!,
              clippedShare: comparison.clippedShare ?? 0,
              histogram: comparison.histogram,
            }
          : undefined,
    };
  });

  const graphOutputs = reference.graph.outputs.map((output) => output.name);
  const outputComparisons = await compareLayers(
    reference,
    quantized,
    graphOutputs.map((name) => ({ name })),
    inputs,
  );
  const { recipe, ...rest } = summary;
  return {
    kind: 'quantkit-report',
    version: 1,
    model: inputs.modelName,
    quantkitVersion: QUANTKIT_VERSION,
    recipe,
    summary: rest,
    samples: outputComparisons[0]?.samples ?? 0,
    outputs: outputComparisons.map(({ name, sqnr, cosine, maxAbsError, top1Agreement }) => ({
      name,
      sqnr,
      cosine,
      maxAbsError,
      top1Agreement,
    })),
    layers: flagLayers(rows),
  };
}

/** What the measured runs (quantizeMeasured) learn after the report of the chosen plan was built. */
export interface MeasuredOutcome {
  readonly fidelity?: FidelityResult | undefined;
  readonly latencyGuard?: LatencyGuardResult | undefined;
}

/**
 * The report with the measured runs' outcome: the fidelity floor's and the latency guard's accounts in its summary,
 * as in the run's, and each layer's sensitivity (the output SQNR with only its region quantized) when the floor
 * measured it. The report is built inside the run of the chosen plan, before the searches around it finish.
 *
 * @example const report = withMeasuredOutcome(result.report, { fidelity, latencyGuard });
 * @throws never.
 */
export function withMeasuredOutcome(report: QuantizeReport, outcome: MeasuredOutcome): QuantizeReport {
  const { fidelity, latencyGuard } = outcome;
  const sensitivityOf = new Map<string, number>();
  for (const region of fidelity?.sensitivity ?? []) {
    for (const node of region.nodes) sensitivityOf.set(node, region.sqnr);
  }
  return {
    ...report,
    summary: {
      ...report.summary,
      ...(fidelity !== undefined && { fidelity }),
      ...(latencyGuard !== undefined && { latencyGuard }),
    },
    layers: report.layers.map((layer) => {
      const sensitivity = sensitivityOf.get(layer.node);
      return sensitivity === undefined ? layer : { ...layer, sensitivity };
    }),
  };
}
