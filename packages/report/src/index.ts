export {
  type ActivationRange,
  type Histogram,
  type LayerReport,
  type LayerSuggestion,
  type OutputReport,
  type ReportData,
  type ReportNode,
  type ReportSummary,
  type WeightError,
  formatSuggestion,
} from './report-data.js';
export { parseReportHtml } from './parse-report-html.js';
export { type RenderReportHtmlOptions, renderReportHtml } from './render-report-html.js';
