import { QuantError } from '@quantkit/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadChartScript } from './load-chart-script.js';
import { parseReportHtml } from './parse-report-html.js';
import type { ReportData } from './report-data.js';
import { renderReportHtml } from './render-report-html.js';
import { EVIL_NAME, FAKE_CHART, chartCount, sampleReport, worstLayers } from './test-report.js';

function count(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

describe('renderReportHtml', () => {
  const report = sampleReport();
  const html = renderReportHtml(report, { chartScript: FAKE_CHART });

  it('embeds the report so it parses back unchanged, Infinity SQNR included', () => {
    const parsed = parseReportHtml(html);
    expect(parsed).toEqual(report);
    expect(parsed.layers[4]!.sqnr).toBe(Number.POSITIVE_INFINITY);
    expect(parsed.outputs[1]!.sqnr).toBe(Number.POSITIVE_INFINITY);
  });

  it('round-trips any names and any numbers, including non-finite ones and names that look like the encoding', () => {
    const name = fc.oneof(
      fc.string(),
      fc.constantFrom('Infinity', 'NaN', '{"$number":"Infinity"}', '</script>', '<!--'),
    );
    const number = fc.double().map((value) => (Object.is(value, -0) ? 0 : value));
    fc.assert(
      fc.property(name, number, number, (node, sqnr, cosine) => {
        const base = sampleReport(2, 1);
        const layers = [{ ...base.layers[0]!, node, sqnr, cosine }, base.layers[1]!];
        const custom = { ...base, layers };
        const page = renderReportHtml(custom, { chartScript: FAKE_CHART });
        expect(parseReportHtml(page)).toEqual(custom);
        // Whatever the name, it opens and closes no script element.
        expect(count(page.toLowerCase(), '<script')).toBe(3);
        expect(count(page.toLowerCase(), '</script')).toBe(3);
      }),
      { numRuns: 60 },
    );
  });

  it('escapes node names in the HTML', () => {
    expect(html).toContain('&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;');
    expect(html).not.toContain('<img');
    expect(html).not.toContain(EVIL_NAME);
    expect(count(html, '</script>')).toBe(3);
    expect(html).toContain('<p class="model">models/tiny &lt;cnn&gt;.onnx</p>');
  });

  it('writes ∞ for infinite SQNR and sorts the layer table worst first', () => {
    expect(html).toContain('<td class="num">∞</td>');
    const tableNames = [
      ...html.matchAll(/<tr(?: class="flagged")?[^>]*><td class="name"><a href="#layer-(\d+)">/g),
    ];
    const rows = tableNames.map((match) => Number(match[1]));
    expect(rows).toEqual(worstLayers(report));
    expect(html).toMatch(/<tr class="flagged"[^>]*><td class="name"><a href="#layer-9">/);
  });

  it('opens the 12 worst layers and leaves the others closed', () => {
    const open = [...html.matchAll(/<details class="layer[^"]*" id="layer-(\d+)" open>/g)].map((m) =>
      Number(m[1]),
    );
    expect(open).toEqual(worstLayers(report).slice(0, 12));
    expect(count(html, '<details class="layer')).toBe(20);
    const few = renderReportHtml(report, { chartScript: FAKE_CHART, expandedLayers: 3 });
    expect(count(few, '" open>')).toBe(3);
    expect(few).toContain(
      `data-charts-total="${
        1 +
        chartCount(
          report,
          report.layers.map((_, i) => i),
        )
      }"`,
    );
  });

  it('loads nothing from the network', async () => {
    const chartScript = await loadChartScript();
    const page = renderReportHtml(report, { chartScript, title: 'tiny' });
    const ownMarkup = page.split(chartScript).join('');
    const tags = [...ownMarkup.matchAll(/<[a-z][^>]*>/gi)].map((match) => match[0]);
    // Attributes are read whole, name and value: a row's data-name holds the escaped model text, which may read
    // "src=x" inside the value without being an attribute.
    const references = tags.flatMap((tag) =>
      [...tag.matchAll(/\s([^\s=>]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+)))?/g)]
        .filter((match) => /^(?:src|href|srcset|poster|data|action)$/i.test(match[1]!))
        .map((match) => match[2] ?? match[3] ?? match[4] ?? ''),
    );
    expect(references).toEqual(['data:,', ...worstLayers(report).map((index) => `#layer-${index}`)]);
    expect(ownMarkup).not.toMatch(/@import|url\(/i);
    // The inlined library names its home page in a comment; nothing else may mention a URL.
    expect(ownMarkup).not.toMatch(/https?:\/\//i);
  });

  it('rejects a chart script that would end the inline script, and values that are not reports', () => {
    const codeOf = (run: () => unknown) => {
      try {
        run();
      } catch (error) {
        return QuantError.is(error) ? error.code : 'other';
      }
      return 'none';
    };
    expect(codeOf(() => renderReportHtml(report, { chartScript: 'var a = "</SCRIPT>";' }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(codeOf(() => renderReportHtml(report, { chartScript: '' }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => renderReportHtml(report, { chartScript: FAKE_CHART, expandedLayers: -1 }))).toBe(
      'INVALID_ARGUMENT',
    );
    const notReport = { ...report, kind: 'something-else' } as unknown as ReportData;
    expect(codeOf(() => renderReportHtml(notReport, { chartScript: FAKE_CHART }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => parseReportHtml('<html><body>hello</body></html>'))).toBe('INVALID_ARGUMENT');
  });
});
