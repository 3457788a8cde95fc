import type { Plugin } from 'chart.js';
import { CHART_COLORS } from './chart-colors.js';
import { tickLabel } from './tick-label.js';

/** The ends of a clip range, each drawn as a labelled dashed line. */
export interface ClipRange {
  readonly min: number;
  readonly max: number;
}

/** A chart plugin that marks a clip range with dashed vertical lines over the bars; used for activations. */
export function clipRangePlugin(range: ClipRange): Plugin<'bar'> {
  return {
    id: 'quantkitClipRange',
    afterDatasetsDraw(chart) {
      const x = chart.scales['x'];
      if (x === undefined) return;
      const area = chart.chartArea;
      const context = chart.ctx;
      context.save();
      context.strokeStyle = CHART_COLORS.limit;
      context.fillStyle = CHART_COLORS.limit;
      context.lineWidth = 1.5;
      context.setLineDash([5, 4]);
      context.font = '11px system-ui, sans-serif';
      for (const [label, value] of [
        ['min', range.min],
        ['max', range.max],
      ] as const) {
        const pixel = x.getPixelForValue(value);
        if (!Number.isFinite(pixel)) continue;
        context.beginPath();
        context.moveTo(pixel, area.top);
        context.lineTo(pixel, area.bottom);
        context.stroke();
        // Labels sit inside the range, next to their line.
        context.textAlign = label === 'min' ? 'left' : 'right';
        context.fillText(`${label} ${tickLabel(value)}`, pixel + (label === 'min' ? 3 : -3), area.top + 10);
      }
      context.restore();
    },
  };
}
