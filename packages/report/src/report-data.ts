/** Equal-width bins over [min, max]. */
export interface Histogram {
  readonly min: number;
  readonly max: number;
  readonly counts: readonly number[];
}

/** How a quantized weight differs from its float values. */
export interface WeightError {
  readonly tensor: string;
  readonly sqnr: number;
  readonly maxAbsError: number;
  readonly bits: number;
  readonly granularity: string;
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
