import type { Chart } from 'chart.js';
import type { Histogram } from '../report-data.js';
import { CHART_COLORS } from './chart-colors.js';
import type { ChartLibrary } from './chart-library.js';
import { type ClipRange, clipRangePlugin } from './clip-range-plugin.js';
import { tickLabel } from './tick-label.js';

/** A bin at its centre; empty bins have a null count. */
interface BinPoint {
  readonly x: number;
  readonly y: number | null;
}

/**
 * A histogram as bars on a linear value axis and a logarithmic count axis. With a clip range (activations), the
 * bins outside it are orange and the range is marked with dashed lines; the axis spans both the bins and the range.
 */
export function histogramChart(
  library: ChartLibrary,
  canvas: HTMLCanvasElement,
  histogram: Histogram,
  range: ClipRange | undefined,
  color: string,
): Chart<'bar', BinPoint[]> {
  const width = (histogram.max - histogram.min) / histogram.counts.length;
  // Empty bins have no height on a log axis; null leaves them out instead of drawing a sliver at 1.
  const points: BinPoint[] = histogram.counts.map((count, bin) => ({
    x: histogram.min + (bin + 0.5) * width,
    y: count > 0 ? count : null,
  }));
  let low = range === undefined ? histogram.min : Math.min(histogram.min, range.min);
  let high = range === undefined ? histogram.max : Math.max(histogram.max, range.max);
  if (!(high > low)) {
    low -= 0.5;
    high += 0.5;
  }
  const pad = (high - low) * 0.02;
  const colors = points.map((point) =>
    range !== undefined && (point.x < range.min || point.x > range.max) ? CHART_COLORS.clipped : color,
  );
  return new library<'bar', BinPoint[]>(canvas, {
    type: 'bar',
    data: {
      datasets: [
        {
          label: 'count',
          data: points,
          backgroundColor: colors,
          barPercentage: 1,
          categoryPercentage: 1,
          grouped: false,
        },
      ],
    },
    options: {
      parsing: false,
      scales: {
        x: {
          type: 'linear',
          min: low - pad,
          max: high + pad,
          ticks: { callback: (value) => tickLabel(Number(value)), includeBounds: false },
        },
        y: { type: 'logarithmic', title: { display: true, text: 'count (log)' } },
      },
      plugins: {
        legend: { display: false },
        tooltip: {
          callbacks: {
            title: (items) => {
              const from = histogram.min + (items[0]?.dataIndex ?? 0) * width;
              return `[${tickLabel(from)}, ${tickLabel(from + width)})`;
            },
            label: (item) => `count ${(item.raw as BinPoint).y}`,
          },
        },
      },
    },
    plugins: range === undefined ? [] : [clipRangePlugin(range)],
  });
}
