import { QuantError } from '@quantkit/core';
import { PAGE_SCRIPT } from './generated/page-script.js';
import { escapeHtml } from './html-format.js';
import { checkReport } from './parse-report-html.js';
import {
  hasBins,
  headerHtml,
  histogramsHtml,
  layerTableHtml,
  measuredRunsHtml,
  outputsHtml,
  worstFirst,
} from './page-sections.js';
import { PAGE_STYLE } from './page-style.js';
import type { ReportData } from './report-data.js';
import { DATA_ELEMENT_ID, embedReportJson } from './report-embedding.js';

export interface RenderReportHtmlOptions {
  /**
   * The Chart.js 4 UMD build (`chart.js/dist/chart.umd.min.js`) as text; it is inlined so the page opens offline.
   * In Node, `loadChartScript()` from `@quantkit/report/node` reads it.
   */
  readonly chartScript: string;
  /** Page heading (default "quantkit report"); the browser tab shows it, or "quantkit report: <model>" by default. */
  readonly title?: string;
  /**
   * How many layers, worst first, get their histograms drawn when the page opens (default 12). The others sit in
   * closed `<details>` elements and are drawn when opened, so a model with thousands of layers stays responsive.
   */
  readonly expandedLayers?: number;
}

const DEFAULT_EXPANDED_LAYERS = 12;

/** Pieces of text that would end or corrupt an inline `<script>` element. */
const SCRIPT_BREAKERS = /<\/script|<!--/i;

function checkOptions(options: RenderReportHtmlOptions): number {
  const { chartScript } = options;
  if (typeof chartScript !== 'string' || chartScript.trim() === '') {
    throw new QuantError(
      'INVALID_ARGUMENT',
      'chartScript must be the Chart.js UMD build as text, got an empty value',
    );
  }
  if (SCRIPT_BREAKERS.test(chartScript)) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      'chartScript contains "</script" or "<!--", which would break the inline <script>; pass chart.js/dist/chart.umd.min.js',
    );
  }
  const expanded = options.expandedLayers ?? DEFAULT_EXPANDED_LAYERS;
  if (!Number.isInteger(expanded) || expanded < 0) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      `expandedLayers must be a non-negative integer, got ${expanded}`,
    );
  }
  return expanded;
}

/** The SQNR chart and the histograms: what `data-charts-total` counts. */
function chartCount(report: ReportData): number {
  return (
    (report.layers.length > 0 ? 1 : 0) +
    report.layers.filter((layer) => hasBins(layer.activation?.histogram)).length +
    report.layers.filter((layer) => hasBins(layer.weight?.histogram)).length
  );
}

function sqnrSectionHtml(report: ReportData): string {
  if (report.layers.length === 0) return '<p class="note">No per-layer comparison in this report.</p>';
  return `<p class="note">Graph order. Red bars are flagged layers (among the worst, with a suggested override);
green bars are exact (∞ dB) and drawn just above the best finite value.</p>
<div class="chart wide"><canvas data-chart="sqnr" role="img" aria-label="per-layer SQNR bar chart"></canvas></div>`;
}

/**
 * Renders a quantization report as one self-contained HTML page that opens offline: inline CSS, Chart.js inlined
 * from `options.chartScript`, the report embedded as JSON (readable again with parseReportHtml), and the page's
 * script (compiled from src/page/) that draws a per-layer SQNR chart and activation (with the clip range marked)
 * and weight histograms, and sorts and filters the layer table. All model text (node and tensor names) is escaped. Pure and browser-safe.
 *
 * The page sets `document.body.dataset.chartsDrawn` to the number of charts drawn so far (and
 * `data-charts-total` to the number of chart canvases), which lets tests and tools wait for the drawing.
 *
 * @example
 * import chartScript from 'chart.js/dist/chart.umd.min.js?raw'; // in a Vite app
 * const html = renderReportHtml(report, { chartScript });
 * @throws QuantError INVALID_ARGUMENT when the report is not a quantkit report, when `chartScript` is empty or
 *   contains `</script` or `<!--` (which would end or corrupt the inline script), or when `expandedLayers` is
 *   not a non-negative integer.
 */
export function renderReportHtml(report: ReportData, options: RenderReportHtmlOptions): string {
  checkReport(report, 'report');
  const expanded = checkOptions(options);
  const title = options.title ?? 'quantkit report';
  const order = worstFirst(report.layers);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="quantkit ${escapeHtml(report.quantkitVersion)}">
<title>${escapeHtml(options.title ?? `${title}: ${report.model}`)}</title>
<link rel="icon" href="data:,">
<style>${PAGE_STYLE}</style>
</head>
<body data-charts-total="${chartCount(report)}">
${headerHtml(report, title)}
<main>
${outputsHtml(report)}
${measuredRunsHtml(report)}
<h2>Per-layer SQNR</h2>
<p id="chart-status" class="note"></p>
${sqnrSectionHtml(report)}
${layerTableHtml(report, order)}
${histogramsHtml(report, order, expanded)}
</main>
<script type="application/json" id="${DATA_ELEMENT_ID}">${embedReportJson(report)}</script>
<script>${options.chartScript}</script>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}
