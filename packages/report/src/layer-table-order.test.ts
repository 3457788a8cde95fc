import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type TableRow, nextDirection, numericKey, rowMatches, sortRows } from './layer-table-order.js';
import { renderReportHtml } from './render-report-html.js';
import { FAKE_CHART, measuredReport, readLayerTable, sampleReport, worstLayers } from './test-report.js';

function row(keys: (string | undefined)[], name = 'n', opType = 'Conv', quantized = true): TableRow {
  return { keys, name, opType, quantized };
}

describe('sortRows', () => {
  it('sorts numbers as numbers, infinities included, with blanks and NaN last in both directions', () => {
    const rows = ['10', '9', undefined, 'Infinity', '-3.5', 'NaN', '1e-7', '-Infinity'].map((key) =>
      row([key]),
    );
    expect(sortRows(rows, 0, 'number', 'ascending')).toEqual([7, 4, 6, 1, 0, 3, 2, 5]);
    expect(sortRows(rows, 0, 'number', 'descending')).toEqual([3, 0, 1, 6, 4, 7, 2, 5]);
  });

  it('sorts text ignoring case, digits by value, and keeps ties in their current order', () => {
    const rows = ['conv10', 'Conv2', 'add', undefined, 'conv2'].map((key) => row([key]));
    expect(sortRows(rows, 0, 'text', 'ascending')).toEqual([2, 1, 4, 0, 3]);
    expect(sortRows(rows, 0, 'text', 'descending')).toEqual([0, 1, 4, 2, 3]);
  });

  it('gives a permutation that orders every pair of values present', () => {
    const key = fc.option(
      fc.oneof(fc.double().map(String), fc.constantFrom('Infinity', '-Infinity', 'NaN', '')),
      { nil: undefined },
    );
    fc.assert(
      fc.property(fc.array(key, { maxLength: 30 }), fc.boolean(), (keys, ascending) => {
        const rows = keys.map((value) => row([value]));
        const order = sortRows(rows, 0, 'number', ascending ? 'ascending' : 'descending');
        expect([...order].sort((a, b) => a - b)).toEqual(keys.map((_, index) => index));
        const values = order.map((index) => numericKey(keys[index]));
        const firstBlank = values.indexOf(undefined);
        const present = (firstBlank === -1 ? values : values.slice(0, firstBlank)) as number[];
        if (firstBlank !== -1)
          expect(values.slice(firstBlank).every((value) => value === undefined)).toBe(true);
        for (let i = 1; i < present.length; i++) {
          if (ascending) expect(present[i - 1]! <= present[i]!).toBe(true);
          else expect(present[i - 1]! >= present[i]!).toBe(true);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('flips the direction on a second click of the same header only', () => {
    expect(nextDirection(undefined, 3)).toBe('ascending');
    expect(nextDirection({ column: 3, direction: 'ascending' }, 3)).toBe('descending');
    expect(nextDirection({ column: 3, direction: 'descending' }, 3)).toBe('ascending');
    expect(nextDirection({ column: 3, direction: 'ascending' }, 4)).toBe('ascending');
  });
});

describe('rowMatches', () => {
  const conv = row([], '/block0/conv_0', 'Conv');
  const kept = row([], 'dense_kept', 'Gemm', false);

  it('matches every word against the name or op type, case ignored, and filters by status', () => {
    expect(rowMatches(conv, { text: '', status: 'all' })).toBe(true);
    expect(rowMatches(conv, { text: '  BLOCK0 ', status: 'all' })).toBe(true);
    expect(rowMatches(conv, { text: 'block0 conv', status: 'quantized' })).toBe(true);
    expect(rowMatches(conv, { text: 'block0 gemm', status: 'all' })).toBe(false);
    expect(rowMatches(kept, { text: 'gemm', status: 'all' })).toBe(true);
    expect(rowMatches(conv, { text: '', status: 'float' })).toBe(false);
    expect(rowMatches(kept, { text: '', status: 'float' })).toBe(true);
    expect(rowMatches(kept, { text: '', status: 'quantized' })).toBe(false);
  });
});

describe('the layer table as rendered', () => {
  const report = measuredReport();
  const html = renderReportHtml(report, { chartScript: FAKE_CHART });
  const { kinds, labels, rows } = readLayerTable(html);
  const column = (label: string) => labels.indexOf(label);

  it('lists the quantized layers worst first, then the nodes kept float, sorted as SQNR ascending says', () => {
    const layerNames = worstLayers(report).map((index) => report.layers[index]!.node);
    expect(rows.map((r) => r.name)).toEqual([...layerNames, 'softmax', 'dense_kept', 'dense_slow']);
    expect(html).toContain('data-kind="number" title="this node&#39;s output');
    expect(html).toMatch(
      /<th class="num" data-kind="number"[^>]*aria-sort="ascending"><button type="button">SQNR \(dB\)/,
    );
    const sqnr = column('SQNR (dB)');
    expect(sortRows(rows, sqnr, 'number', 'ascending')).toEqual(rows.map((_, index) => index));
  });

  it('sorts numeric columns by their values and text columns by their text', () => {
    const sensitivity = column('sensitivity (dB)');
    expect(kinds[sensitivity]).toBe('number');
    const bySensitivity = sortRows(rows, sensitivity, 'number', 'ascending').map((index) => rows[index]!);
    // The kept region (12.25 dB alone) first, then the two measured layers (31.5 dB), then every row without one.
    expect(bySensitivity.slice(0, 3).map((r) => r.keys[sensitivity])).toEqual(['12.25', '31.5', '31.5']);
    expect(bySensitivity[0]!.name).toBe('dense_kept');
    expect(bySensitivity.slice(3).every((r) => r.keys[sensitivity] === undefined)).toBe(true);

    const weightScale = column('weight scale');
    const clipped = column('clipped');
    const byClipped = sortRows(rows, clipped, 'number', 'descending').map((index) => rows[index]!);
    const shares = byClipped.map((r) => numericKey(r.keys[clipped])).filter((v) => v !== undefined);
    expect(shares).toEqual([...shares].sort((a, b) => b - a));
    expect(shares).toHaveLength(report.layers.length);
    expect(kinds[weightScale]).toBe('number');

    const byOp = sortRows(rows, column('op'), 'text', 'ascending').map((index) => rows[index]!.opType);
    expect(byOp).toEqual([...byOp].sort((a, b) => a.localeCompare(b, undefined, { sensitivity: 'base' })));
  });

  it('filters by name, op type and status', () => {
    const shown = (text: string, status: 'all' | 'quantized' | 'float') =>
      rows.filter((r) => rowMatches(r, { text, status })).map((r) => r.name);
    expect(shown('', 'float')).toEqual(['softmax', 'dense_kept', 'dense_slow']);
    expect(shown('', 'quantized')).toHaveLength(report.layers.length);
    expect(shown('gemm', 'all')).toEqual([
      ...rows.filter((r) => r.quantized && r.opType === 'Gemm').map((r) => r.name),
      'dense_kept',
    ]);
    expect(shown('block1', 'float')).toEqual([]);
    expect(html).toContain('<input type="search" id="layer-filter"');
    expect(html).toContain('<select id="layer-status">');
  });

  it("marks the nodes kept float by the floor and by the guard, with their reasons and the floor's sensitivity", () => {
    const status = column('status');
    const reason = column('suggestion or reason');
    const kept = rows.find((r) => r.name === 'dense_kept')!;
    expect(kept.keys[status]).toBe('float (fidelity floor)');
    expect(kept.keys[column('sensitivity (dB)')]).toBe('12.25');
    expect(kept.keys[reason]).toMatch(/^kept float for the 20 dB output SQNR floor/);
    const slow = rows.find((r) => r.name === 'dense_slow')!;
    expect(slow.keys[status]).toBe('float (latency guard)');
    expect(slow.keys[reason]).toMatch(/^kept float by the latency guard/);
    expect(rows.find((r) => r.name === 'softmax')!.keys[status]).toBe('float');
  });

  it('shows the latency, the guard and the floor, and nothing of them for a run without', () => {
    const section = html.slice(
      html.indexOf('<h2>Fidelity and latency</h2>'),
      html.indexOf('<h2>Per-layer SQNR'),
    );
    expect(section).toContain(
      'float <b>1.500 ms</b>, quantized\n<b>1.200 ms</b>, ratio <b>0.80×</b> (faster)',
    );
    expect(section).toContain('Latency guard (at most 1.00× the float latency): 1 region kept float');
    expect(section).toContain('0 kept float: 1.30×; 1 kept float: 0.80×');
    expect(section).toContain('as planned <b>11.50 dB</b>, written <b>24.75 dB</b>');
    expect(section).toMatch(
      /<td class="num">12\.25<\/td><td>kept float<\/td><td class="name">dense_kept<\/td>/,
    );
    expect(section).toMatch(/<td class="num">31\.50<\/td><td>quantized<\/td>/);
    const plain = renderReportHtml(sampleReport(), { chartScript: FAKE_CHART });
    expect(plain).not.toContain('Fidelity and latency');
  });

  it('writes scales and zero points, per channel as their extremes', () => {
    const withParams = {
      ...report,
      layers: report.layers.map((layer, index) =>
        index !== 0 || layer.weight === undefined || layer.activation === undefined
          ? layer
          : {
              ...layer,
              weight: {
                ...layer.weight,
                quantParams: {
                  count: 16,
                  minScale: 0.001,
                  maxScale: 0.004,
                  minZeroPoint: 0,
                  maxZeroPoint: 0,
                },
              },
              activation: { ...layer.activation, scale: 0.0125, zeroPoint: 128 },
            },
      ),
    };
    const page = renderReportHtml(withParams, { chartScript: FAKE_CHART });
    const table = readLayerTable(page);
    const first = table.rows.find((r) => r.name === report.layers[0]!.node)!;
    const at = (label: string) => first.keys[table.labels.indexOf(label)];
    expect([at('weight scale'), at('weight zero point')]).toEqual(['0.004', '0']);
    expect([at('activation scale'), at('activation zero point')]).toEqual(['0.0125', '128']);
    expect(page).toContain('<td class="num" data-value="0.004" title="16 values">0.00100 – 0.00400</td>');
  });
});
