// How the page sorts and filters the layer table. DOM-free, so the page's script and the tests run the same code:
// the script reads each row's keys from the markup and only moves and hides rows.

/** How a column's cells compare: as numbers (from each cell's data-value) or as text. */
export type ColumnKind = 'number' | 'text';

export type SortDirection = 'ascending' | 'descending';

/** Which rows the status control shows. */
export type StatusFilter = 'all' | 'quantized' | 'float';

/** One row of the table as the page reads it. */
export interface TableRow {
  /** Per column, the cell's sort key: a number's text for numeric columns, the cell's text otherwise; undefined when the cell is empty. */
  readonly keys: readonly (string | undefined)[];
  readonly name: string;
  readonly opType: string;
  readonly quantized: boolean;
}

export interface RowFilter {
  /** Words that must each appear in the node name or op type (case ignored); blank shows every row. */
  readonly text: string;
  readonly status: StatusFilter;
}

/**
 * A numeric cell's key as a number; undefined for an empty cell or NaN (no comparison was possible), which sort
 * after every value in both directions so a reversed column does not open with blanks.
 */
export function numericKey(key: string | undefined): number | undefined {
  if (key === undefined || key.trim() === '') return undefined;
  const value = Number(key);
  return Number.isNaN(value) ? undefined : value;
}

function compareKeys(left: string | undefined, right: string | undefined, kind: ColumnKind): number {
  if (kind === 'number') {
    const a = numericKey(left);
    const b = numericKey(right);
    if (a === undefined || b === undefined) return a === b ? 0 : a === undefined ? 1 : -1;
    // Subtracting would give NaN for two equal infinities.
    return a < b ? -1 : a > b ? 1 : 0;
  }
  if (left === undefined || right === undefined) return left === right ? 0 : left === undefined ? 1 : -1;
  return left.localeCompare(right, undefined, { numeric: true, sensitivity: 'base' });
}

/**
 * The order of `rows` sorted by one column: row indices, ties in their current order, empty keys last whichever
 * the direction.
 *
 * @example sortRows(rows, 3, 'number', 'ascending') // lowest SQNR first
 */
export function sortRows(
  rows: readonly TableRow[],
  column: number,
  kind: ColumnKind,
  direction: SortDirection,
): number[] {
  const sign = direction === 'ascending' ? 1 : -1;
  return rows
    .map((_, index) => index)
    .sort((a, b) => {
      const left = rows[a]!.keys[column];
      const right = rows[b]!.keys[column];
      const missing =
        Number(numericOrText(left, kind) === undefined) - Number(numericOrText(right, kind) === undefined);
      if (missing !== 0) return missing;
      return sign * compareKeys(left, right, kind) || a - b;
    });
}

function numericOrText(key: string | undefined, kind: ColumnKind): number | string | undefined {
  return kind === 'number' ? numericKey(key) : key;
}

/** Whether a row passes the filter. */
export function rowMatches(row: TableRow, filter: RowFilter): boolean {
  if (filter.status === 'quantized' && !row.quantized) return false;
  if (filter.status === 'float' && row.quantized) return false;
  const haystack = `${row.name}\n${row.opType}`.toLowerCase();
  return filter.text
    .toLowerCase()
    .split(/\s+/)
    .every((word) => word === '' || haystack.includes(word));
}

/** The direction a click on a column's header sorts by: the other one when it is already sorted by it. */
export function nextDirection(
  current: { readonly column: number; readonly direction: SortDirection } | undefined,
  column: number,
): SortDirection {
  return current?.column === column && current.direction === 'ascending' ? 'descending' : 'ascending';
}
