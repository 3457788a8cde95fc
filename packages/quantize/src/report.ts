import type { QuantOverrides } from './overrides.js';
import type { OutputMetrics } from './metrics.js';
import type { Recipe } from './options.js';
import type { QuantizeSummary } from './summary.js';

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

/** A fix for a flagged layer: why, and an overrides document (options.overrides, --overrides) that applies it. */
export interface LayerSuggestion {
  readonly why: string;
  readonly override: QuantOverrides;
}

/**
 * A suggestion in one line: its reason and the override as JSON.
 * @example formatSuggestion(layer.suggestion) // 'keep it float: {"nodes":{"conv1":{"float":true}}}'
 */
export function formatSuggestion(suggestion: LayerSuggestion): string {
  return `${suggestion.why}: ${JSON.stringify(suggestion.override)}`;
}

/**
 * Everything `--report` writes: the run's summary, output metrics and per-layer errors. JSON for machines;
 * renderReportHtml turns it into a self-contained page.
 */
export interface QuantizeReport {
  readonly kind: 'quantkit-report';
  readonly version: 1;
  readonly model: string;
  readonly quantkitVersion: string;
  readonly recipe: Recipe;
  readonly summary: Omit<QuantizeSummary, 'recipe'>;
  /** Samples the per-layer comparison ran on. */
  readonly samples: number;
  readonly outputs: readonly (OutputMetrics & { readonly name: string })[];
  readonly layers: readonly LayerReport[];
}
