/**
 * Human-readable byte count with binary prefixes: `formatBytes(316022)` is "308.6 KiB".
 */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} ${units[0]}` : `${value.toFixed(1)} ${units[unit]}`;
}

/** `[1, 'batch', 96]` -> "[1, batch, 96]"; unknown shapes print as "?". */
export function formatShape(
  shape: readonly (number | string | null | undefined)[] | null | undefined,
): string {
  if (shape === undefined || shape === null) return '?';
  return `[${shape.map((dim) => (dim === undefined || dim === null || dim === '' ? '?' : String(dim))).join(', ')}]`;
}

/**
 * Lays rows out in aligned columns, two spaces apart, left-aligned except for columns listed in `rightAlign`.
 * @example formatTable([['op', 'count'], ['Conv', '3']]).join('\n')
 */
export function formatTable(
  rows: readonly (readonly string[])[],
  rightAlign: readonly number[] = [],
): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, column) => {
      widths[column] = Math.max(widths[column] ?? 0, cell.length);
    });
  }
  return rows.map((row) =>
    row
      .map((cell, column) => {
        const width = widths[column] ?? 0;
        if (column === row.length - 1 && !rightAlign.includes(column)) return cell;
        return rightAlign.includes(column) ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd(),
  );
}

/** A metric for a table cell: fixed digits, and "inf" / "n/a" where a number would mislead. */
export function formatMetric(value: number | undefined, digits: number): string {
  if (value === undefined || Number.isNaN(value)) return 'n/a';
  if (value === Infinity) return 'inf';
  if (value === -Infinity) return '-inf';
  return value.toFixed(digits);
}
