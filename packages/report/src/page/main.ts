// The report page's script, compiled into src/generated/page-script.ts (scripts/build-page-script.mjs) and inlined
// by renderReportHtml after the Chart.js UMD build. It reads the embedded report, draws the charts of open layer
// sections, draws the others when their <details> opens, and counts what it drew in
// `document.body.dataset.chartsDrawn` so tests and tools can wait for the drawing. It also makes the layer table
// sortable and filterable (layer-table.ts).
import type { ReportData } from '../report-data.js';
import { DATA_ELEMENT_ID, decodeNonFinite } from '../report-embedding.js';
import { CHART_COLORS } from './chart-colors.js';
import { type ChartLibrary, chartLibrary, configureCharts } from './chart-library.js';
import { histogramChart } from './histogram-chart.js';
import { setUpLayerTable } from './layer-table.js';
import { sqnrChart } from './sqnr-chart.js';

declare global {
  interface Window {
    /** The decoded report, for a reader's console and for tests. */
    quantkitReport?: ReportData;
  }
}

function readReport(): ReportData {
  const element = document.getElementById(DATA_ELEMENT_ID);
  if (element === null) throw new Error(`quantkit report: no #${DATA_ELEMENT_ID} element`);
  // renderReportHtml checked the data before embedding it.
  return JSON.parse(element.textContent ?? '', decodeNonFinite) as ReportData;
}

/** A link to `#layer-<n>` opens that layer's section (and so draws its charts). */
function openLinkedSection(): void {
  const target = location.hash.length > 1 ? document.getElementById(location.hash.slice(1)) : null;
  if (target instanceof HTMLDetailsElement) target.open = true;
}

function drawChart(library: ChartLibrary, report: ReportData, canvas: HTMLCanvasElement): void {
  const kind = canvas.dataset['chart'];
  const layer = report.layers[Number(canvas.dataset['layer'])];
  if (kind === 'sqnr') sqnrChart(library, canvas, report.layers);
  else if (kind === 'activation' && layer?.activation !== undefined)
    histogramChart(library, canvas, layer.activation.histogram, layer.activation, CHART_COLORS.inRange);
  else if (kind === 'weight' && layer?.weight !== undefined)
    histogramChart(library, canvas, layer.weight.histogram, undefined, CHART_COLORS.weight);
  else throw new Error(`unknown chart kind ${kind} for layer ${canvas.dataset['layer']}`);
}

function start(): void {
  const report = readReport();
  window.quantkitReport = report;
  const body = document.body;
  let drawn = 0;
  body.dataset['chartsDrawn'] = '0';
  window.addEventListener('hashchange', openLinkedSection);
  // The table needs no charts: it sorts and filters even when the charting library did not load.
  setUpLayerTable();

  const library = chartLibrary();
  if (library === undefined) {
    const status = document.getElementById('chart-status');
    if (status !== null) status.textContent = 'Charts unavailable: the charting library did not load.';
    return;
  }
  configureCharts(library);

  const draw = (canvas: HTMLCanvasElement) => {
    if (canvas.dataset['drawn'] !== undefined) return;
    try {
      drawChart(library, report, canvas);
      canvas.dataset['drawn'] = 'true';
      drawn++;
    } catch (error) {
      canvas.dataset['drawn'] = 'error';
      console.error('quantkit report: cannot draw chart', canvas.dataset['chart'], error);
    }
    body.dataset['chartsDrawn'] = String(drawn);
  };
  /** Charts inside a closed section wait until it opens: a model can have thousands of layers. */
  const drawVisible = (root: ParentNode) => {
    for (const canvas of root.querySelectorAll<HTMLCanvasElement>('canvas[data-chart]')) {
      if (canvas.closest('details:not([open])') === null) draw(canvas);
    }
  };

  for (const details of document.querySelectorAll('details')) {
    details.addEventListener('toggle', () => {
      if (details.open) drawVisible(details);
    });
  }
  openLinkedSection();
  drawVisible(document);
  body.dataset['chartsDrawn'] = String(drawn);
}

start();
