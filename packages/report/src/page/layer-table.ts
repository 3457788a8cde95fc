// Wires the layer table's headers and filter controls: a header click sorts by its column, the text box and the
// status control hide rows. The rows are moved and hidden, never rebuilt, so their links and markup stay as
// written in Node.
import {
  type ColumnKind,
  type SortDirection,
  type StatusFilter,
  type TableRow,
  nextDirection,
  rowMatches,
  sortRows,
} from '../layer-table-order.js';

/** The element ids the markup (page-sections.ts, layerTableHtml) gives the table and its controls. */
export const LAYER_TABLE_IDS = {
  table: 'layer-table',
  filter: 'layer-filter',
  status: 'layer-status',
  count: 'layer-count',
} as const;

function readRow(row: HTMLTableRowElement, kinds: readonly ColumnKind[]): TableRow {
  const keys = Array.from(row.cells, (cell, column) =>
    kinds[column] === 'number' ? cell.dataset['value'] : (cell.textContent ?? '').trim() || undefined,
  );
  return {
    keys,
    name: row.dataset['name'] ?? '',
    opType: row.dataset['op'] ?? '',
    quantized: row.dataset['status'] === 'quantized',
  };
}

function isStatus(value: string): value is StatusFilter {
  return value === 'all' || value === 'quantized' || value === 'float';
}

/** Makes the layer table sortable and filterable; does nothing when the page has no such table. */
export function setUpLayerTable(): void {
  const table = document.getElementById(LAYER_TABLE_IDS.table);
  if (!(table instanceof HTMLTableElement)) return;
  const body = table.tBodies[0];
  const headers = Array.from(table.tHead?.rows[0]?.cells ?? []);
  if (body === undefined) return;
  const kinds: ColumnKind[] = headers.map((header) =>
    header.dataset['kind'] === 'number' ? 'number' : 'text',
  );
  const filterBox = document.getElementById(LAYER_TABLE_IDS.filter);
  const statusControl = document.getElementById(LAYER_TABLE_IDS.status);
  const count = document.getElementById(LAYER_TABLE_IDS.count);
  // The markup comes sorted (worst first) and says by which column with aria-sort.
  const initial = headers.findIndex((header) => header.hasAttribute('aria-sort'));
  const initialDirection = headers[initial]?.getAttribute('aria-sort');
  let sorted: { column: number; direction: SortDirection } | undefined =
    initialDirection === 'ascending' || initialDirection === 'descending'
      ? { column: initial, direction: initialDirection }
      : undefined;

  const applyFilter = () => {
    const text = filterBox instanceof HTMLInputElement ? filterBox.value : '';
    const chosen = statusControl instanceof HTMLSelectElement ? statusControl.value : 'all';
    const filter = { text, status: isStatus(chosen) ? chosen : 'all' } as const;
    let shown = 0;
    for (const row of body.rows) {
      row.hidden = !rowMatches(readRow(row, kinds), filter);
      if (!row.hidden) shown++;
    }
    if (count !== null) count.textContent = `${shown} of ${body.rows.length} rows shown`;
  };

  const sortBy = (column: number) => {
    const direction = nextDirection(sorted, column);
    const rows = Array.from(body.rows);
    const order = sortRows(
      rows.map((row) => readRow(row, kinds)),
      column,
      kinds[column] ?? 'text',
      direction,
    );
    body.append(...order.map((index) => rows[index]!));
    sorted = { column, direction };
    for (const [index, header] of headers.entries()) {
      if (index === column) header.setAttribute('aria-sort', direction);
      else header.removeAttribute('aria-sort');
    }
  };

  for (const [column, header] of headers.entries()) {
    const button = header.querySelector('button');
    button?.addEventListener('click', () => sortBy(column));
  }
  filterBox?.addEventListener('input', applyFilter);
  statusControl?.addEventListener('change', applyFilter);
  applyFilter();
}
