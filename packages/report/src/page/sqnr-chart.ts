import type { Chart, ChartDataset } from 'chart.js';
import { fixed } from '../html-format.js';
import type { LayerReport } from '../report-data.js';
import { CHART_COLORS } from './chart-colors.js';
import type { ChartLibrary } from './chart-library.js';

/** Longer layer names are shortened on the axis (the tooltip shows them whole). */
const MAX_TICK_NAME = 28;

function tickName(name: string): string {
  return name.length > MAX_TICK_NAME ? `${name.slice(0, 12)}…${name.slice(-15)}` : name;
}

/**
 * The per-layer SQNR bar chart in graph order: ordinary layers blue, flagged ones red, exact ones (+∞ dB) green
 * and drawn a little above the best finite bar (−∞ a little below the worst). NaN layers get no bar.
 */
export function sqnrChart(
  library: ChartLibrary,
  canvas: HTMLCanvasElement,
  layers: readonly LayerReport[],
): Chart<'bar', (number | null)[], string> {
  const finite = layers.map((layer) => layer.sqnr).filter((value) => Number.isFinite(value));
  const top = finite.reduce((high, value) => Math.max(high, value), 0);
  const bottom = finite.reduce((low, value) => Math.min(low, value), 0);
  const margin = Math.max(5, (top - bottom) * 0.1);
  const shown = (value: number) =>
    value === Number.POSITIVE_INFINITY
      ? top + margin
      : value === Number.NEGATIVE_INFINITY
        ? bottom - margin
        : value;
  const series = (test: (layer: LayerReport) => boolean) =>
    layers.map((layer) => (test(layer) && !Number.isNaN(layer.sqnr) ? shown(layer.sqnr) : null));
  const datasets: ChartDataset<'bar', (number | null)[]>[] = [
    {
      label: 'SQNR (dB)',
      data: series((layer) => !layer.flagged && Number.isFinite(layer.sqnr)),
      backgroundColor: CHART_COLORS.ok,
    },
    {
      label: 'flagged: suggested override',
      data: series((layer) => layer.flagged),
      backgroundColor: CHART_COLORS.flagged,
    },
    {
      label: 'exact (∞ dB)',
      data: series((layer) => !layer.flagged && !Number.isFinite(layer.sqnr)),
      backgroundColor: CHART_COLORS.exact,
    },
  ];
  return new library<'bar', (number | null)[], string>(canvas, {
    type: 'bar',
    data: {
      labels: layers.map((layer) => layer.node),
      datasets: datasets.filter((dataset) => dataset.data.some((value) => value !== null)),
    },
    options: {
      scales: {
        x: {
          stacked: true,
          title: { display: true, text: 'layer (graph order)' },
          ticks: {
            autoSkip: true,
            maxRotation: 60,
            // On a category axis the tick value is the label's index.
            callback: (value) => tickName(layers[Number(value)]?.node ?? ''),
          },
        },
        y: { stacked: true, title: { display: true, text: 'SQNR (dB), higher is better' } },
      },
      plugins: {
        tooltip: {
          callbacks: {
            title: (items) => (items.length > 0 ? (layers[items[0]!.dataIndex]?.node ?? '') : ''),
            label: (item) => {
              const layer = layers[item.dataIndex];
              if (layer === undefined) return '';
              return `SQNR ${fixed(layer.sqnr, 2)} dB (${layer.opType})${layer.flagged ? ', flagged' : ''}`;
            },
          },
        },
      },
    },
  });
}
