import type { ReportData } from './report-data.js';

/** The id of the `<script type="application/json">` element that holds the report in the page. */
export const DATA_ELEMENT_ID = 'quantkit-report-data';

/**
 * JSON has no Infinity or NaN (JSON.stringify writes null), and SQNR is Infinity for an exact layer. Non-finite
 * numbers are stored as `{"$number": "Infinity"}`: an object can never be confused with a node name that happens
 * to read "Infinity", which a plain string encoding would allow. A JSON.stringify replacer.
 */
export function encodeNonFinite(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? { $number: String(value) } : value;
}

/** The JSON.parse reviver that undoes encodeNonFinite; Node and the page's script both read the data with it. */
export function decodeNonFinite(_key: string, value: unknown): unknown {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const keys = Object.keys(value);
    const tagged = (value as { $number?: unknown }).$number;
    if (keys.length === 1 && typeof tagged === 'string') return Number(tagged);
  }
  return value;
}

/**
 * Serializes a report for embedding in HTML: non-finite numbers tagged, and every `<` written as `\u003c` so no
 * string in the data (a node named `</script>...`) can end the script element early.
 */
export function embedReportJson(report: ReportData): string {
  return JSON.stringify(report, encodeNonFinite).replace(/</g, '\\u003c');
}
