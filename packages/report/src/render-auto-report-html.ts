// The `quantkit auto` page: the sensitivity table (layer x candidate), the chosen assignment, and the size-vs-SQNR
// scatter of every measured assignment with the Pareto front drawn as a line and the chosen point marked.
import { QuantError } from '@quantkit/core';
import type { AutoReportData, AutoReportPoint } from './auto-report-data.js';
import { bytes, escapeHtml } from './html-format.js';
import { PAGE_STYLE } from './page-style.js';

/** The id of the `<script type="application/json">` element holding the auto report. */
export const AUTO_DATA_ELEMENT_ID = 'quantkit-auto-data';

/**
 * The page's script: reads the embedded data and draws the scatter with Chart.js. Exact outputs (SQNR null) sit
 * just above the best finite value, so they stay on the chart. Sets body.dataset.chartsDrawn when done.
 */
export const AUTO_PAGE_SCRIPT = `(() => {
  const data = JSON.parse(document.getElementById('${AUTO_DATA_ELEMENT_ID}').textContent);
  const finite = data.points.filter((p) => p.sqnr !== null).map((p) => p.sqnr);
  const top = finite.length === 0 ? 100 : Math.max(...finite) + 5;
  const xy = (p) => ({ x: p.size / 1024, y: p.sqnr === null ? top : p.sqnr, label: p.label });
  const front = data.points.filter((p) => p.front).sort((a, b) => a.size - b.size).map(xy);
  const others = data.points.filter((p) => !p.front && !p.chosen).map(xy);
  const chosen = data.points.filter((p) => p.chosen).map(xy);
  const canvas = document.querySelector('canvas[data-chart="pareto"]');
  new Chart(canvas, {
    type: 'scatter',
    data: { datasets: [
      { label: 'chosen', data: chosen, pointStyle: 'star', pointRadius: 12, borderColor: '#c0392b', backgroundColor: '#c0392b' },
      { label: 'Pareto front', data: front, showLine: true, borderColor: '#1f5fa8', backgroundColor: '#1f5fa8' },
      { label: 'other measured assignments', data: others, borderColor: '#9aa5b1', backgroundColor: '#9aa5b1' },
    ] },
    options: {
      animation: false,
      scales: {
        x: { title: { display: true, text: 'file size (KiB)' } },
        y: { title: { display: true, text: 'worst output SQNR (dB; exact drawn at the top)' } },
      },
      plugins: { tooltip: { callbacks: { label: (item) => item.raw.label + ': ' + item.raw.x.toFixed(1) + ' KiB, ' + (item.raw.y === top ? 'exact' : item.raw.y.toFixed(2) + ' dB') } } },
    },
  });
  document.body.dataset.chartsDrawn = '1';
})();`;

const decibels = (sqnr: number | null) => (sqnr === null ? '∞' : sqnr.toFixed(2));

function budgetsHtml(data: AutoReportData): string {
  const { budgets } = data;
  const items = [
    budgets.maxSize !== undefined && `size at most ${bytes(budgets.maxSize)}`,
    budgets.bitsPerWeight !== undefined && `at most ${budgets.bitsPerWeight} bits per weight`,
    budgets.minSqnr !== undefined && `output SQNR at least ${budgets.minSqnr} dB`,
    budgets.maxDrop !== undefined && `metric drop at most ${budgets.maxDrop}`,
    budgets.maxLatencyRatio !== undefined && `latency at most ${budgets.maxLatencyRatio}x the float model's`,
  ].filter((item): item is string => item !== false);
  return `<ul>${items.map((item) => `<li>${item}</li>`).join('')}</ul>`;
}

function chosenHtml(data: AutoReportData): string {
  const { chosen } = data;
  const lines = [
    `<p>${escapeHtml(chosen.label)}: ${bytes(chosen.size)} (float ${bytes(data.floatSize)}), ` +
      `${chosen.bitsPerWeight.toFixed(2)} bits per weight, worst output SQNR ${decibels(chosen.sqnr)} dB.</p>`,
  ];
  if (chosen.metric !== undefined) {
    lines.push(
      `<p>Metric: float ${chosen.metric.float}, chosen ${chosen.metric.quantized}, drop ${chosen.metric.drop}.</p>`,
    );
  }
  if (chosen.latency !== undefined) {
    const reverted = chosen.latency.reverted.map(escapeHtml).join(', ') || 'none';
    lines.push(
      `<p>Latency: ${chosen.latency.quantizedMs.toFixed(3)} ms against ${chosen.latency.floatMs.toFixed(3)} ms float ` +
        `(${chosen.latency.ratio.toFixed(2)}x); layers put back to float for it: ${reverted}.</p>`,
    );
  }
  return lines.join('\n');
}

function sensitivityTableHtml(data: AutoReportData): string {
  const names = data.candidates.map((candidate) => candidate.name);
  const head = `<tr><th>layer</th><th>op</th><th>weights</th>${names
    .map((name) => `<th>${escapeHtml(name)}</th>`)
    .join('')}<th>chosen</th></tr>`;
  const rows = data.layers.map((layer) => {
    const cells = names.map((name) => {
      const cell = layer.candidates[name];
      if (cell === undefined) return '<td>–</td>';
      if ('error' in cell) return `<td class="flag" title="${escapeHtml(cell.error)}">failed</td>`;
      if ('skipped' in cell) return `<td title="${escapeHtml(cell.skipped)}">n/a</td>`;
      return `<td>${decibels(cell.sqnr)} dB<br>${bytes(cell.size)}</td>`;
    });
    const choice = data.chosen.assignment[layer.name] ?? 'float';
    return `<tr><td>${escapeHtml(layer.name)}</td><td>${escapeHtml(layer.opType)}</td><td>${layer.weightElements}</td>${cells.join('')}<td><strong>${escapeHtml(choice)}</strong></td></tr>`;
  });
  return `<table class="layers"><thead>${head}</thead><tbody>${rows.join('\n')}</tbody></table>`;
}

function pointsTableHtml(points: readonly AutoReportPoint[]): string {
  const rows = [...points]
    .sort((a, b) => a.size - b.size)
    .map(
      (point) =>
        `<tr${point.chosen ? ' class="chosen"' : ''}><td>${escapeHtml(point.label)}</td><td>${point.kind}</td><td>${bytes(point.size)}</td><td>${point.bitsPerWeight.toFixed(2)}</td><td>${decibels(point.sqnr)}</td><td>${point.front ? 'yes' : ''}</td></tr>`,
    );
  return `<table><thead><tr><th>assignment</th><th>kind</th><th>size</th><th>bits/weight</th><th>SQNR dB</th><th>front</th></tr></thead><tbody>${rows.join('\n')}</tbody></table>`;
}

/**
 * Renders a `quantkit auto` report as one self-contained page: Chart.js inlined from `chartScript`, the data
 * embedded as JSON (every `<` escaped), every model name escaped.
 *
 * @example const html = renderAutoReportHtml(result.report, { chartScript: await loadChartScript() });
 * @throws QuantError INVALID_ARGUMENT when the data is not an auto report or chartScript is empty or would break
 *   the inline script.
 */
export function renderAutoReportHtml(
  data: AutoReportData,
  options: { readonly chartScript: string },
): string {
  if (data?.kind !== 'quantkit-auto') {
    throw new QuantError('INVALID_ARGUMENT', 'expected a quantkit auto report (kind "quantkit-auto")');
  }
  if (options.chartScript.trim() === '' || /<\/script|<!--/i.test(options.chartScript)) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      'chartScript must be the Chart.js UMD build (chart.js/dist/chart.umd.min.js) as text',
    );
  }
  const json = JSON.stringify(data).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>quantkit auto: ${escapeHtml(data.model)}</title>
<link rel="icon" href="data:,">
<style>${PAGE_STYLE}
tr.chosen td { font-weight: 600; background: #fdf1ef; }</style>
</head>
<body data-charts-total="1">
<h1>quantkit auto</h1>
<p class="model">${escapeHtml(data.model)}; samples: ${data.samples.count} (${data.samples.origin}); int8 weights
${data.weightOnlyForm === 'fold' ? 'folded into fp32 at load' : 'dequantized on every run'}</p>
<main>
<h2>Budgets</h2>
${budgetsHtml(data)}
<h2>Chosen</h2>
${chosenHtml(data)}
<h2>Size vs SQNR</h2>
<p class="note">Every assignment written and measured: the float model, each candidate on every layer, each step
of the search and each single-layer change tried around its best point. The Pareto front (no other point both smaller and closer) is the line; the star is the choice.</p>
<div class="chart wide"><canvas data-chart="pareto" role="img" aria-label="size versus SQNR scatter plot"></canvas></div>
<h2>Sensitivity</h2>
<p class="note">Each cell: the output SQNR with only that layer stored that way (the rest float), and the bytes the
layer then takes in the file. ${escapeHtml(data.notMixed)}.</p>
${sensitivityTableHtml(data)}
<h2>Measured assignments</h2>
${pointsTableHtml(data.points)}
</main>
<script type="application/json" id="${AUTO_DATA_ELEMENT_ID}">${json}</script>
<script>${options.chartScript}</script>
<script>${AUTO_PAGE_SCRIPT}</script>
</body>
</html>
`;
}
