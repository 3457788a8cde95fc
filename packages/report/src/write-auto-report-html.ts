import { writeFileAtomic } from '@quantkit/onnx/node';
import type { AutoReportData } from './auto-report-data.js';
import { loadChartScript } from './load-chart-script.js';
import { renderAutoReportHtml } from './render-auto-report-html.js';

/**
 * Renders a `quantkit auto` report (renderAutoReportHtml) and writes it atomically.
 *
 * @example await writeAutoReportHtml('auto.html', result.report);
 * @throws QuantError NOT_FOUND when the folder or chart.js is missing, IO_ERROR for other file-system failures.
 */
export async function writeAutoReportHtml(path: string, data: AutoReportData): Promise<void> {
  const html = renderAutoReportHtml(data, { chartScript: await loadChartScript() });
  await writeFileAtomic(path, new TextEncoder().encode(html));
}
