// The page's sections as markup, written in Node: header, outputs, fidelity and latency, the layer table (quantized
// layers and the nodes kept float) and the layers' chart sections. Every name from the model goes through escapeHtml.
import { bytes, escapeHtml, fixed, magnitude, percent, ratio, recipeValue } from './html-format.js';
import type { ColumnKind } from './layer-table-order.js';
import {
  type Histogram,
  type LayerReport,
  type ReportData,
  type ReportNode,
  formatSuggestion,
} from './report-data.js';

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

/** A column of the layer table: its header and how its cells sort. */
interface LayerColumn {
  readonly label: string;
  readonly kind: ColumnKind;
  readonly title?: string;
}

const LAYER_COLUMNS: readonly LayerColumn[] = [
  { label: 'node', kind: 'text' },
  { label: 'op', kind: 'text' },
  { label: 'status', kind: 'text' },
  { label: 'SQNR (dB)', kind: 'number', title: "this node's output, quantized graph against float graph" },
  {
    label: 'sensitivity (dB)',
    kind: 'number',
    title: "the model output's SQNR with only this node's region quantized (fidelity floor)",
  },
  { label: 'cosine', kind: 'number' },
  { label: 'max abs error', kind: 'number' },
  { label: 'weight SQNR (dB)', kind: 'number' },
  { label: 'weight scale', kind: 'number', title: 'per channel or block: the smallest and largest' },
  { label: 'weight zero point', kind: 'number', title: 'per channel or block: the smallest and largest' },
  { label: 'activation scale', kind: 'number' },
  { label: 'activation zero point', kind: 'number' },
  { label: 'clipped', kind: 'number' },
  { label: 'suggestion or reason', kind: 'text' },
];

/** The column the markup comes sorted by (worst first). */
const SORTED_COLUMN = 3;

/** A numeric cell: its value in data-value for sorting, written as `text`; – when there is no value. */
function numberCell(value: number | undefined, text: string, title?: string): string {
  if (value === undefined) return '<td class="num">–</td>';
  const tooltip = title === undefined ? '' : ` title="${escapeHtml(title)}"`;
  return `<td class="num" data-value="${String(value)}"${tooltip}>${text}</td>`;
}

/** A range of values as one cell, sorted by its largest (for a scale, the coarsest step). */
function rangeCell(
  min: number | undefined,
  max: number | undefined,
  count: number,
  format: (v: number) => string,
): string {
  if (min === undefined || max === undefined) return numberCell(undefined, '');
  const text = min === max ? format(min) : `${format(min)} – ${format(max)}`;
  return numberCell(max, text, count > 1 ? `${count} values` : undefined);
}

/** Per node kept float by the fidelity floor or the latency guard: which, and the floor's measure of its region. */
function keptFloatBy(report: ReportData): Map<string, { by: string; sensitivity?: number }> {
  const kept = new Map<string, { by: string; sensitivity?: number }>();
  const { fidelity, latencyGuard } = report.summary;
  for (const region of fidelity?.kept ?? []) {
    for (const node of region.nodes) kept.set(node, { by: 'fidelity floor', sensitivity: region.sqnr });
  }
  if (latencyGuard?.ran === true) {
    for (const region of latencyGuard.reverted) {
      for (const node of region.nodes) if (!kept.has(node)) kept.set(node, { by: 'latency guard' });
    }
  }
  return kept;
}

function rowOpen(name: string, opType: string, quantized: boolean, flagged: boolean): string {
  const status = quantized ? 'quantized' : 'float';
  return `<tr${flagged ? ' class="flagged"' : ''} data-name="${escapeHtml(name)}" data-op="${escapeHtml(opType)}" data-status="${status}">`;
}

function layerRowHtml(layer: LayerReport, index: number): string {
  const hasCharts = hasBins(layer.activation?.histogram) || hasBins(layer.weight?.histogram);
  const name = escapeHtml(layer.node);
  const { weight, activation } = layer;
  const params = weight?.quantParams;
  return `${rowOpen(layer.node, layer.opType, true, layer.flagged)}<td class="name">${hasCharts ? `<a href="#layer-${index}">${name}</a>` : name}</td>
<td>${escapeHtml(layer.opType)}</td><td>quantized</td>${numberCell(layer.sqnr, fixed(layer.sqnr, 2))}
${numberCell(layer.sensitivity, layer.sensitivity === undefined ? '' : fixed(layer.sensitivity, 2))}
${numberCell(layer.cosine, fixed(layer.cosine, 6))}${numberCell(layer.maxAbsError, magnitude(layer.maxAbsError))}
${numberCell(weight?.sqnr, weight === undefined ? '' : fixed(weight.sqnr, 2))}
${rangeCell(params?.minScale, params?.maxScale, params?.count ?? 0, magnitude)}
${rangeCell(params?.minZeroPoint, params?.maxZeroPoint, params?.count ?? 0, String)}
${numberCell(activation?.scale, activation?.scale === undefined ? '' : magnitude(activation.scale))}
${numberCell(activation?.zeroPoint, String(activation?.zeroPoint))}
${numberCell(activation?.clippedShare, percent(activation?.clippedShare))}
<td class="suggestion">${escapeHtml(layer.suggestion === undefined ? '' : formatSuggestion(layer.suggestion))}</td></tr>`;
}

function floatRowHtml(node: ReportNode, kept: { by: string; sensitivity?: number } | undefined): string {
  const status = kept === undefined ? 'float' : `float (${kept.by})`;
  const sensitivity = kept?.sensitivity;
  const empty = numberCell(undefined, '');
  return `${rowOpen(node.name, node.opType, false, false)}<td class="name">${escapeHtml(node.name)}</td>
<td>${escapeHtml(node.opType)}</td><td>${status}</td>${empty}
${numberCell(sensitivity, sensitivity === undefined ? '' : fixed(sensitivity, 2))}
${empty.repeat(LAYER_COLUMNS.length - 6)}<td class="reason">${escapeHtml(node.reason)}</td></tr>`;
}

/**
 * The layer table: the quantized layers in `order` (worst first), flagged rows marked, with their suggestions, then
 * the nodes kept float with the reason for each. The page's script sorts it by a header click and filters it by the
 * controls above it.
 */
export function layerTableHtml(report: ReportData, order: readonly number[]): string {
  const kept = keptFloatBy(report);
  const floatNodes = report.summary.nodes.filter((node) => !node.quantized);
  const rows = [
    ...order.map((index) => layerRowHtml(report.layers[index]!, index)),
    ...floatNodes.map((node) => floatRowHtml(node, kept.get(node.name))),
  ].join('\n');
  const flagged = report.layers.filter((layer) => layer.flagged).length;
  const headers = LAYER_COLUMNS.map((column, index) => {
    const classes = column.kind === 'number' ? ' class="num"' : '';
    const title = column.title === undefined ? '' : ` title="${escapeHtml(column.title)}"`;
    const sorted = index === SORTED_COLUMN ? ' aria-sort="ascending"' : '';
    return `<th${classes} data-kind="${column.kind}"${title}${sorted}><button type="button">${column.label}</button></th>`;
  }).join('');
  const sensitivity = report.layers.some((layer) => layer.sensitivity !== undefined)
    ? " Sensitivity is the model output's SQNR with only the node's region quantized, the rest float."
    : '';
  return `<h2>Layers, worst first</h2>
<p class="note">${report.layers.length} quantized layers; ${flagged} flagged; ${floatNodes.length} nodes kept float.
SQNR and cosine compare each node's output in the quantized graph with the float graph; weight SQNR compares the
stored weight with its float values.${sensitivity} Click a column's header to sort by it.</p>
<div class="table-controls"><label>Filter <input type="search" id="layer-filter" placeholder="node name or op type"></label>
<label>Show <select id="layer-status"><option value="all">all nodes</option><option value="quantized">quantized</option>
<option value="float">float</option></select></label> <span id="layer-count" class="note"></span></div>
<div class="scroll"><table id="layer-table"><thead><tr>${headers}</tr></thead><tbody>${rows}</tbody></table></div>`;
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

function regionText(nodes: readonly string[]): string {
  return nodes.map(escapeHtml).join(', ');
}

function latencyHtml(report: ReportData): string {
  const { verification } = report.summary;
  if (verification === undefined) return '';
  if (!verification.verified) {
    return `<p>Latency: not measured; the written model was not run: ${escapeHtml(verification.reason)}</p>`;
  }
  const latency = verification.latency;
  if (latency === undefined) return '';
  return `<p>Latency in ${escapeHtml(verification.runtime)} (median of ${latency.rounds} rounds, ${latency.threads}
thread${latency.threads === 1 ? '' : 's'}): float <b>${fixed(latency.floatMs, 3)} ms</b>, quantized
<b>${fixed(latency.quantizedMs, 3)} ms</b>, ratio <b>${fixed(latency.ratio, 2)}×</b>${latency.ratio < 1 ? ' (faster)' : latency.ratio > 1 ? ' (slower)' : ''}.</p>`;
}

function latencyGuardHtml(report: ReportData): string {
  const guard = report.summary.latencyGuard;
  if (guard === undefined) return '';
  if (!guard.ran) return `<p>Latency guard: did not run; ${escapeHtml(guard.reason)}.</p>`;
  const trials = guard.trials
    .map((trial) => `${trial.reverted} kept float: ${fixed(trial.ratio, 2)}×`)
    .join('; ');
  const reverted =
    guard.reverted.length === 0
      ? 'no region kept float'
      : `${guard.reverted.length} region${guard.reverted.length === 1 ? '' : 's'} kept float`;
  const regions = guard.reverted.map((region) => `<li>${regionText(region.nodes)}</li>`).join('');
  return `<p>Latency guard (at most ${fixed(guard.maxRatio, 2)}× the float latency): ${reverted}, written model at
<b>${fixed(guard.ratio, 2)}×</b>. Timed: ${trials}.</p>${regions === '' ? '' : `<ul class="regions">${regions}</ul>`}`;
}

function fidelityHtml(report: ReportData): string {
  const fidelity = report.summary.fidelity;
  if (fidelity === undefined) return '';
  const trials = fidelity.trials
    .map((trial) => `${trial.reverted} kept float: ${fixed(trial.sqnr, 2)} dB`)
    .join('; ');
  const intro = `<p>Fidelity floor ${fixed(fidelity.minSqnr, 2)} dB output SQNR (${escapeHtml(fidelity.samples)}
samples): as planned <b>${fixed(fidelity.sqnr, 2)} dB</b>, written <b>${fixed(fidelity.finalSqnr, 2)} dB</b>,
${fidelity.kept.length} region${fidelity.kept.length === 1 ? '' : 's'} kept float. Measured: ${trials}.</p>`;
  if (fidelity.sensitivity.length === 0) return intro;
  // Parsed back from JSON, kept and sensitivity no longer share objects: regions match by their nodes.
  const kept = new Set(fidelity.kept.map((region) => region.nodes.join('\n')));
  const rows = fidelity.sensitivity
    .map(
      (region) =>
        `<tr><td class="num">${fixed(region.sqnr, 2)}</td><td>${kept.has(region.nodes.join('\n')) ? 'kept float' : 'quantized'}</td><td class="name">${regionText(region.nodes)}</td></tr>`,
    )
    .join('\n');
  return `${intro}
<p class="note">Each region quantized alone, the rest float, most sensitive first.</p>
<div class="scroll"><table><thead><tr><th class="num">output SQNR alone (dB)</th><th>written</th><th>nodes</th></tr></thead>
<tbody>${rows}</tbody></table></div>`;
}

/** The fidelity floor's and the latency guard's outcome and the latency measured; empty when the run had none. */
export function measuredRunsHtml(report: ReportData): string {
  const parts = [latencyHtml(report), latencyGuardHtml(report), fidelityHtml(report)].filter(
    (part) => part !== '',
  );
  if (parts.length === 0) return '';
  return `<h2>Fidelity and latency</h2>
${parts.join('\n')}`;
}
