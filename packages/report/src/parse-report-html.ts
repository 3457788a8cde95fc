import { QuantError } from '@quantkit/core';
import type { ReportData } from './report-data.js';
import { DATA_ELEMENT_ID, decodeNonFinite } from './report-embedding.js';

/**
 * Checks the marks of a report document (kind, version and the two arrays), not every field.
 * @throws QuantError INVALID_ARGUMENT naming `label` when `data` is not a quantkit report.
 */
export function checkReport(data: unknown, label: string): asserts data is ReportData {
  const report = data as Partial<ReportData> | null;
  if (
    report === null ||
    typeof report !== 'object' ||
    report.kind !== 'quantkit-report' ||
    report.version !== 1
  ) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      `${label} is not a quantkit report (expected kind "quantkit-report", version 1)`,
    );
  }
  if (!Array.isArray(report.layers) || !Array.isArray(report.outputs)) {
    throw new QuantError('INVALID_ARGUMENT', `${label} lacks the "layers" and "outputs" arrays`);
  }
}

/**
 * Reads the report back out of a page written by renderReportHtml.
 *
 * @example
 * const report = parseReportHtml(await readFile('report.html', 'utf8'));
 * @throws QuantError INVALID_ARGUMENT when the page holds no quantkit report data.
 */
export function parseReportHtml(html: string): ReportData {
  const match = new RegExp(`<script type="application/json" id="${DATA_ELEMENT_ID}">([^<]*)</script>`).exec(
    html,
  );
  if (match === null) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      `HTML holds no <script id="${DATA_ELEMENT_ID}"> element; not a quantkit report page`,
    );
  }
  let data: unknown;
  try {
    data = JSON.parse(match[1]!, decodeNonFinite);
  } catch (error) {
    throw new QuantError('INVALID_ARGUMENT', `report data in the HTML page is not valid JSON`, {
      cause: error,
    });
  }
  checkReport(data, 'report data in the HTML page');
  return data;
}
