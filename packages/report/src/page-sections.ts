// The page's sections as markup, written in Node: header, outputs, the layer table, the layers' chart sections and
// the nodes kept in float. Every name from the model goes through escapeHtml.
import { bytes, escapeHtml, fixed, magnitude, percent, ratio, recipeValue } from './html-format.js';
import { type Histogram, type LayerReport, type ReportData, formatSuggestion } from './report-data.js';

/** Worst first: lowest SQNR, NaN (no comparison possible) last, graph order between ties. */
export function worstFirst(layers: readonly LayerReport[]): number[] {
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

/** Whether a histogram is there and has bins to draw. */
export function hasBins(histogram: Histogram | undefined): boolean {
  return histogram !== undefined && histogram.counts.length > 0;
}

/** The title, the model and the run's facts: mode, recipe, sizes, node and sample counts. */
export function headerHtml(report: ReportData, title: string): string {
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

/** The table of model outputs compared. */
export function outputsHtml(report: ReportData): string {
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

/** The table of quantized layers in `order` (worst first), flagged rows marked, with their suggestions. */
export function layerTableHtml(report: ReportData, order: readonly number[]): string {
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

/**
 * A `<details>` section per layer that has histograms, in `order`; the first `expanded` are open and drawn when the
 * page loads, the others when opened.
 */
export function histogramsHtml(report: ReportData, order: readonly number[], expanded: number): string {
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

/** The nodes the run kept in float and why, in a closed `<details>`; empty when every node was quantized. */
export function floatNodesHtml(report: ReportData): string {
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
