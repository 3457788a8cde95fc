// The report document as this pipeline writes it: @quantkit/report's ReportData with the pipeline's own recipe,
// summary, output metrics and overrides types, so a reader of `result.report` gets them typed.
import {
  type LayerReport as BaseLayerReport,
  type LayerSuggestion as BaseLayerSuggestion,
  type ReportData,
  parseReportHtml as parseReportData,
} from '@quantkit/report';
import type { OutputMetrics } from './metrics.js';
import type { Recipe } from './options.js';
import type { QuantOverrides } from './overrides.js';
import type { QuantizeSummary } from './summary.js';

export type { ActivationRange, Histogram, QuantParamsRange, WeightError } from '@quantkit/report';

/** A fix for a flagged layer: why, and an overrides document (options.overrides, --overrides) that applies it. */
export interface LayerSuggestion extends BaseLayerSuggestion {
  readonly override: QuantOverrides;
}

/** One quantized node: its output compared between the quantized and the float graph. */
export interface LayerReport extends BaseLayerReport {
  readonly suggestion?: LayerSuggestion | undefined;
}

/**
 * Everything `--report` writes: the run's summary, output metrics and per-layer errors. JSON for machines;
 * renderReportHtml (@quantkit/report) turns it into a self-contained page.
 */
export interface QuantizeReport extends ReportData {
  readonly recipe: Recipe;
  readonly summary: Omit<QuantizeSummary, 'recipe'>;
  readonly outputs: readonly (OutputMetrics & { readonly name: string })[];
  readonly layers: readonly LayerReport[];
}

/**
 * Reads the report back out of a page written by renderReportHtml, typed as this pipeline's report. Like
 * @quantkit/report's parseReportHtml, it checks the document's kind, version and arrays, not every field.
 *
 * @example
 * const report = parseReportHtml(await readFile('report.html', 'utf8'));
 * @throws QuantError INVALID_ARGUMENT when the page holds no quantkit report data.
 */
export function parseReportHtml(html: string): QuantizeReport {
  return parseReportData(html) as QuantizeReport;
}
