import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import type { AutoReportData } from './auto-report-data.js';
import { AUTO_DATA_ELEMENT_ID, AUTO_PAGE_SCRIPT, renderAutoReportHtml } from './render-auto-report-html.js';

const point = (label: string, size: number, sqnr: number | null, front: boolean, chosen = false) => ({
  label,
  kind: 'search' as const,
  size,
  sqnr,
  bitsPerWeight: size / 1000,
  front,
  chosen,
  assignment: { '</script><b>x': 'int8' },
});

const data: AutoReportData = {
  kind: 'quantkit-auto',
  model: 'm<odel>.onnx',
  samples: { origin: 'random', count: 4 },
  candidates: [
    { name: 'float', description: 'fp32' },
    { name: 'int8', description: 'int8' },
    { name: 'int4-block', description: 'blocks' },
  ],
  notMixed: 'fp16 is not mixed',
  weightOnlyForm: 'dequantize',
  budgets: { maxSize: 20_000, minSqnr: 30 },
  floatSize: 40_000,
  layers: [
    {
      name: '</script><b>x',
      opType: 'MatMul',
      weightElements: 9000,
      floatBytes: 36_000,
      candidates: {
        float: { size: 36_000, sqnr: null },
        int8: { error: 'ORT <refused>' },
        'int4-block': { skipped: 'MatMulNBits covers MatMul' },
      },
    },
  ],
  points: [
    point('float', 40_000, null, true),
    point('a', 12_000, 35, true, true),
    point('b', 15_000, 33, false),
    point('c', 9_000, 20, true),
  ],
  chosen: {
    label: 'a',
    assignment: { '</script><b>x': 'int8' },
    size: 12_000,
    sqnr: 35,
    bitsPerWeight: 12,
  },
};

describe('renderAutoReportHtml', () => {
  const html = renderAutoReportHtml(data, { chartScript: 'window.Chart = window.Chart;' });

  it('escapes model names in the markup and the embedded data, which reads back whole', () => {
    expect(html).not.toContain('<b>x');
    expect(html).toContain('&lt;/script&gt;&lt;b&gt;x');
    expect(html).toContain('title="ORT &lt;refused&gt;"');
    expect(html).toContain('<td title="MatMulNBits covers MatMul">n/a</td>');
    const embedded = html.match(new RegExp(`id="${AUTO_DATA_ELEMENT_ID}">(.*?)</script>`, 's'))![1]!;
    expect(JSON.parse(embedded)).toEqual(data);
  });

  it('draws the front as a line sorted by size, the others apart, and the chosen point as a star', () => {
    const embedded = html.match(new RegExp(`id="${AUTO_DATA_ELEMENT_ID}">(.*?)</script>`, 's'))![1]!;
    const charts: {
      type: string;
      data: { datasets: { label: string; data: { x: number; y: number }[] }[] };
    }[] = [];
    const body = { dataset: {} as Record<string, string> };
    runInNewContext(AUTO_PAGE_SCRIPT, {
      document: {
        getElementById: (id: string) => (id === AUTO_DATA_ELEMENT_ID ? { textContent: embedded } : null),
        querySelector: () => ({}),
        body,
      },
      Chart: function Chart(_canvas: unknown, config: (typeof charts)[number]) {
        charts.push(config);
      },
    });
    expect(charts).toHaveLength(1);
    const [chosen, front, others] = charts[0]!.data.datasets;
    expect(chosen!.data.map((p) => p.x * 1024)).toEqual([12_000]);
    expect(front!.data.map((p) => p.x * 1024)).toEqual([9_000, 12_000, 40_000]);
    // The exact float model sits above the best finite SQNR.
    expect(front!.data[2]!.y).toBeGreaterThan(35);
    expect(others!.data.map((p) => p.x * 1024)).toEqual([15_000]);
    expect(body.dataset.chartsDrawn).toBe('1');
  });

  it('refuses data that is not an auto report', () => {
    expect(() => renderAutoReportHtml({} as AutoReportData, { chartScript: 'x' })).toThrow(/auto report/);
  });
});
