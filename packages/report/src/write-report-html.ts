import { writeFileAtomic } from '@quantkit/onnx/node';
import { loadChartScript } from './load-chart-script.js';
import type { ReportData } from './report-data.js';
import { type RenderReportHtmlOptions, renderReportHtml } from './render-report-html.js';

/**
 * Renders a report as a self-contained HTML page (see renderReportHtml) and writes it atomically: a temporary file
 * renamed into place, so a failure leaves no partial page.
 *
 * @example
 * await writeReportHtml('model.report.html', result.report);
 * @throws QuantError NOT_FOUND when the folder or chart.js is missing, IO_ERROR for other file-system failures,
 *   INVALID_ARGUMENT for a value that is not a quantkit report.
 */
export async function writeReportHtml(
  path: string,
  report: ReportData,
  options: Omit<RenderReportHtmlOptions, 'chartScript'> = {},
): Promise<void> {
  const html = renderReportHtml(report, { ...options, chartScript: await loadChartScript() });
  await writeFileAtomic(path, new TextEncoder().encode(html));
}
