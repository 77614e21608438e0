/**
 * Tables as markdown pipes, padded so they also read well in a terminal (and paste into an issue
 * unchanged). Cells are strings: each suite decides how a figure is rounded and what unit it shows.
 */

export interface Column {
  header: string;
  align?: 'left' | 'right';
}

export interface Table {
  title: string;
  columns: Column[];
  rows: string[][];
  /** Printed under the table: how the figures were taken, aims, skipped parts. */
  notes?: string[];
}

export function renderTable(table: Table): string {
  const widths = table.columns.map((column, index) => Math.max(column.header.length, ...table.rows.map((row) => (row[index] ?? '').length)));
  const line = (cells: string[]) =>
    `| ${table.columns.map((column, index) => pad(cells[index] ?? '', widths[index]!, column.align ?? 'left')).join(' | ')} |`;
  const rule = `|${table.columns.map((column, index) => (column.align === 'right' ? `${'-'.repeat(widths[index]! + 1)}:` : '-'.repeat(widths[index]! + 2))).join('|')}|`;
  const notes = (table.notes ?? []).map((note) => `- ${note}`);
  return [`### ${table.title}`, '', line(table.columns.map((c) => c.header)), rule, ...table.rows.map(line), ...(notes.length ? ['', ...notes] : [])].join('\n');
}

function pad(text: string, width: number, align: 'left' | 'right'): string {
  return align === 'right' ? text.padStart(width) : text.padEnd(width);
}

/** `12.3` for figures under 100, `123` above: enough digits to compare rows, no false precision. */
export function formatMs(value: number): string {
  if (!Number.isFinite(value)) return '—';
  return value < 100 ? value.toFixed(value < 10 ? 2 : 1) : value.toFixed(0);
}

export function formatKiB(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

export function formatCount(value: number): string {
  return Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '—';
}
