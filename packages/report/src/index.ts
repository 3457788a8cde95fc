export {
  type ActivationRange,
  type Histogram,
  type LayerReport,
  type LayerSuggestion,
  type OutputReport,
  type QuantParamsRange,
  type ReportFidelity,
  type ReportLatency,
  type ReportLatencyGuard,
  type ReportRegion,
  type ReportRegionSensitivity,
  type ReportVerification,
  type ReportData,
  type ReportNode,
  type ReportSummary,
  type WeightError,
  formatSuggestion,
} from './report-data.js';
export { parseReportHtml } from './parse-report-html.js';
export { type RenderReportHtmlOptions, renderReportHtml } from './render-report-html.js';
export type {
  AutoReportData,
  AutoReportLayer,
  AutoReportPoint,
  AutoSensitivityCell,
} from './auto-report-data.js';
export {
  AUTO_DATA_ELEMENT_ID,
  AUTO_PAGE_SCRIPT,
  renderAutoReportHtml,
} from './render-auto-report-html.js';
