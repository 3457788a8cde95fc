export { loadChartScript } from './load-chart-script.js';
export { writeReportHtml } from './write-report-html.js';
export { writeAutoReportHtml } from './write-auto-report-html.js';
