/** Equal-width bins over [min, max]. */
export interface Histogram {
  readonly min: number;
  readonly max: number;
  readonly counts: readonly number[];
}

/**
 * A tensor's quantization steps. A weight quantized per channel or per block has a scale and zero point for each,
 * too many to list for every layer, so the report keeps their count and extremes; per tensor, min equals max.
 */
export interface QuantParamsRange {
  /** How many scales: 1 per tensor, else one per channel or block. */
  readonly count: number;
  readonly minScale: number;
  readonly maxScale: number;
  readonly minZeroPoint: number;
  readonly maxZeroPoint: number;
}

/** How a quantized weight differs from its float values. */
export interface WeightError {
  readonly tensor: string;
  readonly sqnr: number;
  readonly maxAbsError: number;
  readonly bits: number;
  readonly granularity: string;
  /** Its scales and zero points (absent in reports written before they were recorded). */
  readonly quantParams?: QuantParamsRange | undefined;
  /** Histogram of the float weight values. */
  readonly histogram: Histogram;
}

/** The quantization range chosen for a node's output activation, and how much of the data it clips. */
export interface ActivationRange {
  readonly tensor: string;
  readonly observer: string;
  /** The representable range [ (qmin - zp) * scale, (qmax - zp) * scale ]. */
  readonly min: number;
  readonly max: number;
  /** The step and zero point of its codes (absent in reports written before they were recorded). */
  readonly scale?: number | undefined;
  readonly zeroPoint?: number | undefined;
  /** Share of the report samples' values more than half a step outside [min, max] (saturated, not rounded). */
  readonly clippedShare: number;
  /** Histogram of the float activation over its observed extremes. */
  readonly histogram: Histogram;
}

/**
 * A fix for a flagged layer: why, and an overrides document that applies it. The report only shows the override
 * (as JSON); @quantkit/quantize narrows it to its `QuantOverrides`, which `options.overrides` takes as it is.
 */
export interface LayerSuggestion {
  readonly why: string;
  readonly override: object;
}

/** One quantized node: its output compared between the quantized and the float graph. */
export interface LayerReport {
  readonly node: string;
  readonly opType: string;
  /** The output value compared (the node's output in the float graph). */
  readonly output: string;
  readonly sqnr: number;
  readonly cosine: number;
  readonly maxAbsError: number;
  readonly weight?: WeightError | undefined;
  readonly activation?: ActivationRange | undefined;
  /**
   * With a fidelity floor that measured sensitivity: the model output's SQNR in dB with only this node's region
   * (summary.fidelity.sensitivity) quantized and the rest float. Unlike `sqnr`, which carries the error of every
   * layer before this one, it says how much this layer alone costs.
   */
  readonly sensitivity?: number | undefined;
  /** Among the worst layers, with a suggested override. */
  readonly flagged: boolean;
  readonly suggestion?: LayerSuggestion | undefined;
}

/** A model output compared between the quantized and the float model. */
export interface OutputReport {
  readonly name: string;
  /** Signal-to-quantization-noise ratio in dB; Infinity when the outputs are equal. */
  readonly sqnr: number;
  readonly cosine: number;
  readonly maxAbsError: number;
  /** Share of rows (last axis) whose argmax agrees; undefined for scalars. */
  readonly top1Agreement?: number | undefined;
}

/** A node of the model and whether the run quantized it. */
export interface ReportNode {
  readonly name: string;
  readonly opType: string;
  readonly quantized: boolean;
  /** Why the node was quantized or kept in float. */
  readonly reason: string;
}

/** Nodes kept quantized or float together (a compute node and the quantized ops after it), and a measure of it. */
export interface ReportRegion {
  readonly nodes: readonly string[];
}

/** A region measured by the fidelity floor: the output's SQNR in dB with it alone quantized. */
export interface ReportRegionSensitivity extends ReportRegion {
  readonly sqnr: number;
}

/** What the fidelity floor (minSqnr) did, as far as the page shows it. */
export interface ReportFidelity {
  /** The floor, in dB of the worst output's SQNR against the float model. */
  readonly minSqnr: number;
  /** Where the samples it measured on came from. */
  readonly samples: string;
  /** The output SQNR with everything quantized as first planned. */
  readonly sqnr: number;
  /** Every region's sensitivity, most sensitive first (empty when the plan as made met the floor). */
  readonly sensitivity: readonly ReportRegionSensitivity[];
  /** The regions kept float, most sensitive first. */
  readonly kept: readonly ReportRegionSensitivity[];
  /** Each configuration the search measured: regions kept float and the SQNR it gave. */
  readonly trials: readonly { readonly reverted: number; readonly sqnr: number }[];
  /** The written model's output SQNR (Infinity when every region went float). */
  readonly finalSqnr: number;
}

/** The float and quantized models timed in turns on one sample. */
export interface ReportLatency {
  /** Median milliseconds per run. */
  readonly floatMs: number;
  readonly quantizedMs: number;
  /** quantizedMs / floatMs: below 1 the quantized model is faster. */
  readonly ratio: number;
  readonly rounds: number;
  readonly threads: number;
}

/** The run of the written model on one sample, as far as the page shows it. */
export type ReportVerification =
  | { readonly verified: true; readonly runtime: string; readonly latency?: ReportLatency | undefined }
  | { readonly verified: false; readonly reason: string };

/** What the latency guard did, as far as the page shows it. */
export type ReportLatencyGuard =
  | {
      readonly ran: true;
      /** The quantized / float latency ratio the written model may not exceed. */
      readonly maxRatio: number;
      /** The regions kept float, in the order the guard reverted them. */
      readonly reverted: readonly ReportRegion[];
      /** Each configuration timed: regions kept float and the ratio measured; the first is the plan as made. */
      readonly trials: readonly { readonly reverted: number; readonly ratio: number }[];
      /** The written model's ratio. */
      readonly ratio: number;
    }
  | { readonly ran: false; readonly reason: string };

/** What the run changed, as far as the page shows it. */
export interface ReportSummary {
  readonly mode: string;
  /** Encoded model sizes in bytes. */
  readonly sizeBefore: number;
  readonly sizeAfter: number;
  /** Bytes held by weights, before and after. */
  readonly weightBytesBefore: number;
  readonly weightBytesAfter: number;
  readonly nodes: readonly ReportNode[];
  readonly calibrationSamples: number;
  /** The written model run once against the float model, with its latency when it was timed. */
  readonly verification?: ReportVerification | undefined;
  /** What the fidelity floor did, when the run had one. */
  readonly fidelity?: ReportFidelity | undefined;
  /** What the latency guard did, when the run had one. */
  readonly latencyGuard?: ReportLatencyGuard | undefined;
}

/**
 * The report document: what `--report` writes as JSON and what renderReportHtml draws. It names only what the page
 * reads; the recipe is listed setting by setting, so any object will do. @quantkit/quantize's `QuantizeReport`
 * extends it with the pipeline's own recipe, summary and overrides types, and `quantkit compare` writes one with
 * a recipe read back from a model's metadata.
 */
export interface ReportData {
  readonly kind: 'quantkit-report';
  readonly version: 1;
  readonly model: string;
  readonly quantkitVersion: string;
  readonly recipe: object;
  readonly summary: ReportSummary;
  /** Samples the per-layer comparison ran on. */
  readonly samples: number;
  readonly outputs: readonly OutputReport[];
  readonly layers: readonly LayerReport[];
}

/**
 * A suggestion in one line: its reason and the override as JSON.
 * @example formatSuggestion(layer.suggestion) // 'keep it float: {"nodes":{"conv1":{"float":true}}}'
 */
export function formatSuggestion(suggestion: LayerSuggestion): string {
  return `${suggestion.why}: ${JSON.stringify(suggestion.override)}`;
}
