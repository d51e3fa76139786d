/** Plain-text tables: a header row, a rule, right-aligned numbers, left-aligned text. */

export type Cell = string | number;

export interface Column {
  readonly header: string;
  /** Default: right for numbers, left otherwise (decided per column from the first row). */
  readonly align?: 'left' | 'right';
}

export const table = (columns: readonly (Column | string)[], rows: readonly (readonly Cell[])[]): string => {
  const cols = columns.map((c) => (typeof c === 'string' ? { header: c } : c));
  const text = rows.map((r) => r.map((c) => String(c)));
  const widths = cols.map((c, i) => Math.max(c.header.length, ...text.map((r) => (r[i] ?? '').length)));
  const aligns = cols.map((c, i) => c.align ?? (typeof rows[0]?.[i] === 'number' || /^[\d.,−+-]+( ?[%a-zµ/]*)?$/.test(text[0]?.[i] ?? '') ? 'right' : 'left'));
  const pad = (s: string, i: number) => (aligns[i] === 'right' ? s.padStart(widths[i]!) : s.padEnd(widths[i]!));
  const line = (cells: readonly string[]) =>
    cells
      .map((s, i) => pad(s, i))
      .join('  ')
      .trimEnd();
  return [line(cols.map((c) => c.header)), widths.map((w) => '-'.repeat(w)).join('  '), ...text.map(line)].join('\n');
};

/** 12345.6 → "12,346"; small numbers keep `digits` decimals. */
export const fmt = (n: number | undefined, digits = 0): string => {
  if (n === undefined || !Number.isFinite(n)) return '—';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
};

/** µs → ms text with 2 decimals (3 below 1 ms). */
export const ms = (us: number | undefined): string => {
  if (us === undefined || !Number.isFinite(us)) return '—';
  return (us / 1000).toFixed(us < 1000 ? 3 : 2);
};

export const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

export const duration = (seconds: number): string => {
  if (seconds < 90) return `${seconds.toFixed(1)} s`;
  const m = Math.floor(seconds / 60);
  return `${m} min ${Math.round(seconds - m * 60)} s`;
};
