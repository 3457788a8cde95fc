import type { Chart } from 'chart.js';

/**
 * The Chart class the inlined UMD build sets on `window`. The page script is compiled against chart.js's types
 * only (an import of its code would bundle a second copy into the page), so the class is passed to each chart.
 */
export type ChartLibrary = typeof Chart;

/** `window.Chart`, or undefined when the library did not load. */
export function chartLibrary(): ChartLibrary | undefined {
  const candidate = (window as Window & { Chart?: unknown }).Chart;
  return typeof candidate === 'function' ? (candidate as ChartLibrary) : undefined;
}

/** Settings every chart on the page shares: drawn at once (no animation), sized by its container. */
export function configureCharts(library: ChartLibrary): void {
  library.defaults.animation = false;
  library.defaults.responsive = true;
  library.defaults.maintainAspectRatio = false;
  library.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
}
