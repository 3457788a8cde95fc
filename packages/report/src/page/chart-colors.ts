/** Fill and line colours of the charts. The Chromium test looks for the bar colours in the drawn pixels. */
export const CHART_COLORS = {
  ok: '#3b78c2',
  flagged: '#c0392b',
  exact: '#2e9e5b',
  inRange: '#4e79a7',
  clipped: '#f28e2b',
  limit: '#c0392b',
  weight: '#59a14f',
} as const;
