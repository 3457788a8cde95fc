import { QuantError } from '@quantkit/core';
import { type Histogram, type LayerReport, type QuantizeReport, formatSuggestion } from './report.js';

export interface RenderReportHtmlOptions {
  /**
   * The Chart.js 4 UMD build (`chart.js/dist/chart.umd.min.js`) as text; it is inlined so the page opens offline.
   * In Node, `loadChartScript()` from `@quantkit/quantize/node` reads it.
   */
  readonly chartScript: string;
  /** Page heading (default "quantkit report"); the browser tab shows it, or "quantkit report: <model>" by default. */
  readonly title?: string;
  /**
   * How many layers, worst first, get their histograms drawn when the page opens (default 12). The others sit in
   * closed `<details>` elements and are drawn when opened, so a model with thousands of layers stays responsive.
   */
  readonly expandedLayers?: number;
}

/** The id of the `<script type="application/json">` element holding the report. */
const DATA_ELEMENT_ID = 'quantkit-report-data';
const DEFAULT_EXPANDED_LAYERS = 12;

/**
 * JSON has no Infinity or NaN (JSON.stringify writes null), and SQNR is Infinity for an exact layer. Non-finite
 * numbers are stored as `{"$number": "Infinity"}`: an object can never be confused with a node name that happens
 * to read "Infinity", which a plain string encoding would allow.
 */
function encodeNonFinite(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? { $number: String(value) } : value;
}

function decodeNonFinite(_key: string, value: unknown): unknown {
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
function embedReportJson(report: QuantizeReport): string {
  return JSON.stringify(report, encodeNonFinite).replace(/</g, '\\u003c');
}

/**
 * Reads the report back out of a page written by renderReportHtml.
 *
 * @example
 * const report = parseReportHtml(await readFile('report.html', 'utf8'));
 * @throws QuantError INVALID_ARGUMENT when the page holds no quantkit report data.
 */
export function parseReportHtml(html: string): QuantizeReport {
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

function checkReport(data: unknown, label: string): asserts data is QuantizeReport {
  const report = data as Partial<QuantizeReport> | null;
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

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for HTML element content and quoted attribute values. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char]!);
}

function nonFinite(value: number): string | undefined {
  if (Number.isNaN(value)) return 'n/a';
  if (value === Number.POSITIVE_INFINITY) return '∞';
  if (value === Number.NEGATIVE_INFINITY) return '−∞';
  return undefined;
}

function fixed(value: number, digits: number): string {
  return nonFinite(value) ?? value.toFixed(digits);
}

/** Errors span many decades (1e-7 for an int8 weight, 3 for a clipped activation). */
function magnitude(value: number): string {
  const special = nonFinite(value);
  if (special !== undefined) return special;
  if (value === 0) return '0';
  const size = Math.abs(value);
  return size < 1e-3 || size >= 1e5 ? value.toExponential(2) : value.toPrecision(3);
}

function percent(share: number | undefined): string {
  if (share === undefined) return '–';
  const special = nonFinite(share);
  if (special !== undefined) return special;
  if (share === 0) return '0%';
  const value = share * 100;
  return `${value < 0.01 ? value.toExponential(1) : value.toPrecision(3)}%`;
}

function bytes(count: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = count;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const text = unit === 0 ? `${value} B` : `${value.toFixed(2)} ${units[unit]}`;
  return `<span title="${count} bytes">${text}</span>`;
}

function ratio(before: number, after: number): string {
  return after > 0 && before > 0 ? `${(before / after).toFixed(2)}× smaller` : 'n/a';
}

/** Recipe fields are listed generically so settings added to the recipe later show up without a change here. */
function recipeValue(value: unknown): string {
  if (value === undefined || value === null) return '–';
  if (Array.isArray(value)) return value.length === 0 ? 'none' : value.map(String).join(', ');
  if (typeof value === 'object') return JSON.stringify(value, encodeNonFinite);
  return String(value);
}

/** Worst first: lowest SQNR, NaN (no comparison possible) last, graph order between ties. */
function worstFirst(layers: readonly LayerReport[]): number[] {
  const key = (layer: LayerReport) => (Number.isNaN(layer.sqnr) ? Number.POSITIVE_INFINITY : layer.sqnr);
  return layers
    .map((_, index) => index)
    .sort((a, b) => {
      const left = layers[a]!;
      const right = layers[b]!;
      const byKey = key(left) - key(right);
      if (byKey !== 0 && !Number.isNaN(byKey)) return byKey;
      const byNaN = Number(Number.isNaN(left.sqnr)) - Number(Number.isNaN(right.sqnr));
      return byNaN !== 0 ? byNaN : a - b;
    });
}

function hasBins(histogram: Histogram | undefined): boolean {
  return histogram !== undefined && histogram.counts.length > 0;
}

const STYLE = `
:root { color-scheme: light; --accent: #1f5fa8; --flag: #c0392b; --muted: #5f6b7a; --line: #d9dee5; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1200px; padding: 24px; font: 14px/1.45 system-ui, -apple-system, "Segoe UI",
  Roboto, sans-serif; color: #1c2733; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; overflow-wrap: anywhere; }
h2 { font-size: 17px; margin: 32px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
.model { color: var(--muted); margin: 0 0 16px; overflow-wrap: anywhere; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0; }
.facts dt { color: var(--muted); }
.facts dd { margin: 0; }
.recipe { display: flex; flex-wrap: wrap; gap: 4px 12px; }
.recipe span { white-space: nowrap; }
.recipe b { font-weight: 600; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #f3f5f8; font-weight: 600; position: sticky; top: 0; }
td.num, th.num { text-align: right; white-space: nowrap; }
td.name { overflow-wrap: anywhere; max-width: 360px; }
tr.flagged td { background: #fdecea; }
tr.flagged td.name::before, .layer.flagged summary .name::before { content: "⚑ "; color: var(--flag); }
.scroll { max-height: 560px; overflow: auto; border: 1px solid var(--line); }
.note { color: var(--muted); margin: 4px 0 12px; }
.chart { position: relative; height: 240px; min-width: 0; }
.chart.wide { height: 320px; }
.layer { border: 1px solid var(--line); border-radius: 6px; margin: 8px 0; padding: 4px 12px; }
.layer.flagged { border-color: var(--flag); }
.layer summary { cursor: pointer; padding: 4px 0; }
.layer summary .name { font-weight: 600; overflow-wrap: anywhere; }
.layer summary .meta { color: var(--muted); }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 12px; margin: 8px 0; }
.charts figure { margin: 0; min-width: 0; }
.charts figcaption { color: var(--muted); font-size: 13px; margin-bottom: 4px; overflow-wrap: anywhere; }
.suggestion { color: var(--flag); }
a { color: var(--accent); }
`;

/**
 * Draws the charts. Kept as plain browser JavaScript (no template substitutions, no `<` followed by `/` or `!`)
 * so it can be inlined verbatim. It reads the embedded JSON, draws the charts of open layer sections, draws the
 * others when their `<details>` opens, and counts what it drew in `document.body.dataset.chartsDrawn`.
 */
const PAGE_SCRIPT = String.raw`(function () {
  'use strict';
  var report = JSON.parse(document.getElementById('quantkit-report-data').textContent, function (key, value) {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      var keys = Object.keys(value);
      if (keys.length === 1 && typeof value.$number === 'string') return Number(value.$number);
    }
    return value;
  });
  window.quantkitReport = report;
  var body = document.body;
  var drawn = 0;
  body.dataset.chartsDrawn = '0';

  function openTarget() {
    var target = location.hash.length > 1 ? document.getElementById(location.hash.slice(1)) : null;
    if (target && target.tagName === 'DETAILS') target.open = true;
  }
  window.addEventListener('hashchange', openTarget);

  if (typeof Chart !== 'function') {
    document.getElementById('chart-status').textContent = 'Charts unavailable: the charting library did not load.';
    return;
  }
  Chart.defaults.animation = false;
  Chart.defaults.responsive = true;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';

  var COLORS = { ok: '#3b78c2', flagged: '#c0392b', exact: '#2e9e5b', inRange: '#4e79a7', clipped: '#f28e2b',
    limit: '#c0392b', weight: '#59a14f' };

  function format(value, digits) {
    if (value !== value) return 'n/a';
    if (value === Infinity) return '\u221e';
    if (value === -Infinity) return '\u2212\u221e';
    return value.toFixed(digits);
  }
  function short(value) {
    if (value === 0) return '0';
    var size = Math.abs(value);
    return size < 1e-3 || size >= 1e5 ? value.toExponential(2) : String(Number(value.toPrecision(3)));
  }

  function sqnrChart(canvas) {
    var layers = report.layers;
    var finite = layers.map(function (l) { return l.sqnr; }).filter(function (v) { return isFinite(v); });
    var top = finite.length ? Math.max(0, Math.max.apply(null, finite)) : 0;
    var bottom = finite.length ? Math.min(0, Math.min.apply(null, finite)) : 0;
    // Exact layers (SQNR +inf) are drawn a little above the best finite bar, -inf a little below the worst.
    var margin = Math.max(5, (top - bottom) * 0.1);
    function shown(v) { return v === Infinity ? top + margin : v === -Infinity ? bottom - margin : v; }
    function series(test) {
      return layers.map(function (l) { return test(l) && l.sqnr === l.sqnr ? shown(l.sqnr) : null; });
    }
    var datasets = [
      { label: 'SQNR (dB)', data: series(function (l) { return !l.flagged && isFinite(l.sqnr); }),
        backgroundColor: COLORS.ok },
      { label: 'flagged: suggested override', data: series(function (l) { return l.flagged; }),
        backgroundColor: COLORS.flagged },
      { label: 'exact (\u221e dB)', data: series(function (l) { return !l.flagged && !isFinite(l.sqnr); }),
        backgroundColor: COLORS.exact }
    ].filter(function (d) { return d.data.some(function (v) { return v !== null; }); });
    return new Chart(canvas, {
      type: 'bar',
      data: { labels: layers.map(function (l) { return l.node; }), datasets: datasets },
      options: {
        scales: {
          x: { stacked: true, title: { display: true, text: 'layer (graph order)' },
            ticks: { autoSkip: true, maxRotation: 60, callback: function (value) {
              var name = layers[value].node;
              return name.length > 28 ? name.slice(0, 12) + '…' + name.slice(-15) : name;
            } } },
          y: { stacked: true, title: { display: true, text: 'SQNR (dB), higher is better' } }
        },
        plugins: {
          tooltip: { callbacks: {
            title: function (items) { return items.length ? layers[items[0].dataIndex].node : ''; },
            label: function (item) {
              var layer = layers[item.dataIndex];
              return 'SQNR ' + format(layer.sqnr, 2) + ' dB (' + layer.opType + ')' +
                (layer.flagged ? ', flagged' : '');
            }
          } }
        }
      }
    });
  }

  // Marks a clip range with dashed vertical lines; used for activation histograms.
  function clipLines(range) {
    return {
      id: 'quantkitClipRange',
      afterDatasetsDraw: function (chart) {
        var x = chart.scales.x;
        var area = chart.chartArea;
        var ctx = chart.ctx;
        ctx.save();
        ctx.strokeStyle = COLORS.limit;
        ctx.fillStyle = COLORS.limit;
        ctx.lineWidth = 1.5;
        ctx.setLineDash([5, 4]);
        ctx.font = '11px system-ui, sans-serif';
        [['min', range.min], ['max', range.max]].forEach(function (entry) {
          var px = x.getPixelForValue(entry[1]);
          if (!isFinite(px)) return;
          ctx.beginPath();
          ctx.moveTo(px, area.top);
          ctx.lineTo(px, area.bottom);
          ctx.stroke();
          ctx.textAlign = entry[0] === 'min' ? 'left' : 'right';
          ctx.fillText(entry[0] + ' ' + short(entry[1]), px + (entry[0] === 'min' ? 3 : -3), area.top + 10);
        });
        ctx.restore();
      }
    };
  }

  function histogramChart(canvas, histogram, range, color) {
    var bins = histogram.counts.length;
    var width = (histogram.max - histogram.min) / bins;
    var points = histogram.counts.map(function (count, i) {
      // Empty bins have no height on a log axis; null leaves them out instead of drawing a sliver at 1.
      return { x: histogram.min + (i + 0.5) * width, y: count > 0 ? count : null };
    });
    var low = range ? Math.min(histogram.min, range.min) : histogram.min;
    var high = range ? Math.max(histogram.max, range.max) : histogram.max;
    if (!(high > low)) { low -= 0.5; high += 0.5; }
    var pad = (high - low) * 0.02;
    var colors = points.map(function (p) {
      return range && (p.x < range.min || p.x > range.max) ? COLORS.clipped : color;
    });
    return new Chart(canvas, {
      type: 'bar',
      data: { datasets: [{ label: 'count', data: points, backgroundColor: colors, barPercentage: 1,
        categoryPercentage: 1, grouped: false }] },
      options: {
        parsing: false,
        scales: {
          x: { type: 'linear', min: low - pad, max: high + pad, ticks: { callback: short, includeBounds: false } },
          y: { type: 'logarithmic', title: { display: true, text: 'count (log)' } }
        },
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: {
            title: function (items) {
              var i = items.length ? items[0].dataIndex : 0;
              var from = histogram.min + i * width;
              return '[' + short(from) + ', ' + short(from + width) + ')';
            },
            label: function (item) { return 'count ' + item.raw.y; }
          } }
        }
      },
      plugins: range ? [clipLines(range)] : []
    });
  }

  function draw(canvas) {
    if (canvas.dataset.drawn) return;
    var kind = canvas.dataset.chart;
    var layer = report.layers[Number(canvas.dataset.layer)];
    try {
      if (kind === 'sqnr') sqnrChart(canvas);
      else if (kind === 'activation') histogramChart(canvas, layer.activation.histogram, layer.activation, COLORS.inRange);
      else if (kind === 'weight') histogramChart(canvas, layer.weight.histogram, null, COLORS.weight);
      else throw new Error('unknown chart kind ' + kind);
      canvas.dataset.drawn = 'true';
      drawn++;
    } catch (error) {
      canvas.dataset.drawn = 'error';
      console.error('quantkit report: cannot draw chart', kind, error);
    }
    body.dataset.chartsDrawn = String(drawn);
  }

  function drawVisible(root) {
    root.querySelectorAll('canvas[data-chart]').forEach(function (canvas) {
      if (!canvas.closest('details:not([open])')) draw(canvas);
    });
  }

  document.querySelectorAll('details').forEach(function (details) {
    details.addEventListener('toggle', function () { if (details.open) drawVisible(details); });
  });
  openTarget();
  drawVisible(document);
  body.dataset.chartsDrawn = String(drawn);
})();`;

function headerHtml(report: QuantizeReport, title: string): string {
  const { summary } = report;
  const quantized = summary.nodes.filter((node) => node.quantized).length;
  const recipe = Object.entries(report.recipe)
    .map(([key, value]) => `<span><b>${escapeHtml(key)}</b> ${escapeHtml(recipeValue(value))}</span>`)
    .join('');
  const facts: [string, string][] = [
    ['Mode', escapeHtml(summary.mode)],
    ['Recipe', `<div class="recipe">${recipe}</div>`],
    [
      'Model size',
      `${bytes(summary.sizeBefore)} → ${bytes(summary.sizeAfter)} (${ratio(summary.sizeBefore, summary.sizeAfter)})`,
    ],
    [
      'Weights',
      `${bytes(summary.weightBytesBefore)} → ${bytes(summary.weightBytesAfter)} (${ratio(summary.weightBytesBefore, summary.weightBytesAfter)})`,
    ],
    ['Nodes quantized', `${quantized} of ${summary.nodes.length}`],
    ['Calibration samples', String(summary.calibrationSamples)],
    ['Samples compared', String(report.samples)],
    ['quantkit', escapeHtml(report.quantkitVersion)],
  ];
  return `<header>
<h1>${escapeHtml(title)}</h1>
<p class="model">${escapeHtml(report.model)}</p>
<dl class="facts">${facts.map(([term, value]) => `<dt>${term}</dt><dd>${value}</dd>`).join('\n')}</dl>
</header>`;
}

function outputsHtml(report: QuantizeReport): string {
  if (report.outputs.length === 0)
    return `<h2>Outputs</h2><p class="note">No output comparison in this report.</p>`;
  const rows = report.outputs
    .map(
      (
        output,
      ) => `<tr><td class="name">${escapeHtml(output.name)}</td><td class="num">${fixed(output.sqnr, 2)}</td>
<td class="num">${fixed(output.cosine, 6)}</td><td class="num">${magnitude(output.maxAbsError)}</td>
<td class="num">${percent(output.top1Agreement)}</td></tr>`,
    )
    .join('\n');
  return `<h2>Outputs</h2>
<p class="note">The quantized model's outputs against the float model's over ${report.samples} samples.</p>
<table><thead><tr><th>output</th><th class="num">SQNR (dB)</th><th class="num">cosine</th>
<th class="num">max abs error</th><th class="num">top-1 agreement</th></tr></thead>
<tbody>${rows}</tbody></table>`;
}

function layerTableHtml(report: QuantizeReport, order: readonly number[]): string {
  const rows = order
    .map((index) => {
      const layer = report.layers[index]!;
      const hasCharts = hasBins(layer.activation?.histogram) || hasBins(layer.weight?.histogram);
      const name = escapeHtml(layer.node);
      return `<tr${layer.flagged ? ' class="flagged"' : ''}><td class="name">${hasCharts ? `<a href="#layer-${index}">${name}</a>` : name}</td>
<td>${escapeHtml(layer.opType)}</td><td class="num">${fixed(layer.sqnr, 2)}</td>
<td class="num">${fixed(layer.cosine, 6)}</td><td class="num">${magnitude(layer.maxAbsError)}</td>
<td class="num">${layer.weight === undefined ? '–' : fixed(layer.weight.sqnr, 2)}</td>
<td class="num">${percent(layer.activation?.clippedShare)}</td>
<td class="suggestion">${escapeHtml(layer.suggestion === undefined ? '' : formatSuggestion(layer.suggestion))}</td></tr>`;
    })
    .join('\n');
  const flagged = report.layers.filter((layer) => layer.flagged).length;
  return `<h2>Layers, worst first</h2>
<p class="note">${report.layers.length} quantized layers; ${flagged} flagged. SQNR and cosine compare each node's
output in the quantized graph with the float graph; weight SQNR compares the stored weight with its float values.</p>
<div class="scroll"><table><thead><tr><th>node</th><th>op</th><th class="num">SQNR (dB)</th><th class="num">cosine</th>
<th class="num">max abs error</th><th class="num">weight SQNR (dB)</th><th class="num">clipped</th><th>suggestion</th></tr>
</thead><tbody>${rows}</tbody></table></div>`;
}

function histogramCaption(label: string, histogram: Histogram): string {
  return `${label}, ${histogram.counts.length} bins over [${magnitude(histogram.min)}, ${magnitude(histogram.max)}]`;
}

function layerSectionHtml(layer: LayerReport, index: number, open: boolean): string {
  const figures: string[] = [];
  const { activation, weight } = layer;
  if (activation !== undefined && hasBins(activation.histogram)) {
    figures.push(`<figure><figcaption>Activation ${escapeHtml(activation.tensor)} (${escapeHtml(activation.observer)}):
clip range [${magnitude(activation.min)}, ${magnitude(activation.max)}], ${percent(activation.clippedShare)} clipped;
${histogramCaption('observed values', activation.histogram)}</figcaption>
<div class="chart"><canvas data-chart="activation" data-layer="${index}" role="img"
aria-label="activation histogram with clip range"></canvas></div></figure>`);
  }
  if (weight !== undefined && hasBins(weight.histogram)) {
    figures.push(`<figure><figcaption>Weight ${escapeHtml(weight.tensor)}: ${weight.bits} bits,
${escapeHtml(weight.granularity)}, SQNR ${fixed(weight.sqnr, 2)} dB, max abs error ${magnitude(weight.maxAbsError)};
${histogramCaption('float values', weight.histogram)}</figcaption>
<div class="chart"><canvas data-chart="weight" data-layer="${index}" role="img" aria-label="weight histogram"></canvas></div>
</figure>`);
  }
  const suggestion =
    layer.suggestion === undefined
      ? ''
      : `<p class="suggestion">Suggestion: ${escapeHtml(layer.suggestion.why)}; pass this as overrides: <code>${escapeHtml(JSON.stringify(layer.suggestion.override))}</code></p>`;
  return `<details class="layer${layer.flagged ? ' flagged' : ''}" id="layer-${index}"${open ? ' open' : ''}>
<summary><span class="name">${escapeHtml(layer.node)}</span> <span class="meta">${escapeHtml(layer.opType)},
SQNR ${fixed(layer.sqnr, 2)} dB</span></summary>
${suggestion}<div class="charts">${figures.join('\n')}</div>
</details>`;
}

function histogramsHtml(report: QuantizeReport, order: readonly number[], expanded: number): string {
  const withCharts = order.filter((index) => {
    const layer = report.layers[index]!;
    return hasBins(layer.activation?.histogram) || hasBins(layer.weight?.histogram);
  });
  if (withCharts.length === 0) return '';
  const rest = withCharts.length - Math.min(expanded, withCharts.length);
  const note =
    rest > 0
      ? `The ${Math.min(expanded, withCharts.length)} worst layers are open; open any other layer to draw its charts.`
      : 'Worst first.';
  return `<h2>Histograms</h2>
<p class="note">${note} Activation histograms show the observed values; dashed lines mark the chosen clip range
and orange bins fall outside it.</p>
${withCharts.map((index, rank) => layerSectionHtml(report.layers[index]!, index, rank < expanded)).join('\n')}`;
}

function floatNodesHtml(report: QuantizeReport): string {
  const kept = report.summary.nodes.filter((node) => !node.quantized);
  if (kept.length === 0) return '';
  const rows = kept
    .map(
      (node) =>
        `<tr><td class="name">${escapeHtml(node.name)}</td><td>${escapeHtml(node.opType)}</td><td>${escapeHtml(node.reason)}</td></tr>`,
    )
    .join('\n');
  return `<details><summary>${kept.length} nodes kept in float</summary>
<div class="scroll"><table><thead><tr><th>node</th><th>op</th><th>reason</th></tr></thead><tbody>${rows}</tbody></table></div>
</details>`;
}

/**
 * Renders a quantization report as one self-contained HTML page that opens offline: inline CSS, Chart.js inlined
 * from `options.chartScript`, the report embedded as JSON (readable again with parseReportHtml), and a small
 * script that draws a per-layer SQNR chart and activation (with the clip range marked) and weight histograms.
 * All model text (node and tensor names) is escaped. Pure and browser-safe.
 *
 * The page sets `document.body.dataset.chartsDrawn` to the number of charts drawn so far (and
 * `data-charts-total` to the number of chart canvases), which lets tests and tools wait for the drawing.
 *
 * @example
 * import chartScript from 'chart.js/dist/chart.umd.min.js?raw'; // in a Vite app
 * const html = renderReportHtml(report, { chartScript });
 * @throws QuantError INVALID_ARGUMENT when the report is not a quantkit report, when `chartScript` is empty or
 *   contains `</script` or `<!--` (which would end or corrupt the inline script), or when `expandedLayers` is
 *   not a non-negative integer.
 */
export function renderReportHtml(report: QuantizeReport, options: RenderReportHtmlOptions): string {
  checkReport(report, 'report');
  const { chartScript } = options;
  if (typeof chartScript !== 'string' || chartScript.trim() === '') {
    throw new QuantError(
      'INVALID_ARGUMENT',
      'chartScript must be the Chart.js UMD build as text, got an empty value',
    );
  }
  if (/<\/script|<!--/i.test(chartScript)) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      'chartScript contains "</script" or "<!--", which would break the inline <script>; pass chart.js/dist/chart.umd.min.js',
    );
  }
  const expanded = options.expandedLayers ?? DEFAULT_EXPANDED_LAYERS;
  if (!Number.isInteger(expanded) || expanded < 0) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      `expandedLayers must be a non-negative integer, got ${expanded}`,
    );
  }
  const title = options.title ?? 'quantkit report';
  const order = worstFirst(report.layers);
  const chartCount =
    (report.layers.length > 0 ? 1 : 0) +
    report.layers.filter((layer) => hasBins(layer.activation?.histogram)).length +
    report.layers.filter((layer) => hasBins(layer.weight?.histogram)).length;
  const sqnr =
    report.layers.length === 0
      ? '<p class="note">No per-layer comparison in this report.</p>'
      : `<p class="note">Graph order. Red bars are flagged layers (among the worst, with a suggested override);
green bars are exact (∞ dB) and drawn just above the best finite value.</p>
<div class="chart wide"><canvas data-chart="sqnr" role="img" aria-label="per-layer SQNR bar chart"></canvas></div>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="quantkit ${escapeHtml(report.quantkitVersion)}">
<title>${escapeHtml(options.title ?? `${title}: ${report.model}`)}</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body data-charts-total="${chartCount}">
${headerHtml(report, title)}
<main>
${outputsHtml(report)}
<h2>Per-layer SQNR</h2>
<p id="chart-status" class="note"></p>
${sqnr}
${layerTableHtml(report, order)}
${histogramsHtml(report, order, expanded)}
${floatNodesHtml(report)}
</main>
<script type="application/json" id="${DATA_ELEMENT_ID}">${embedReportJson(report)}</script>
<script>${chartScript}</script>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}
