/**
 * Text output: aligned tables and key/value blocks that respect the display width of Chinese
 * names, split trees drawn with box characters, short times, and `clean` for any text that came
 * from the ledger or a file (names, memos, refusal details), so that control characters and bidi
 * overrides cannot move the cursor, recolour the terminal or disguise what is printed.
 */

/** Control characters (C0, DEL, C1) and bidi overrides/isolates (the "Trojan source" ones). */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;

/** Text from outside, made safe to print on one line: unsafe characters become `\u{…}`. */
export const clean = (text: string): string => text.replace(UNSAFE, (c) => `\\u{${c.codePointAt(0)!.toString(16).padStart(4, '0')}}`);

/** [start, end] code point ranges that take two columns (East Asian Wide and Fullwidth). */
const WIDE: readonly (readonly [number, number])[] = [
  [0x1100, 0x115f],
  [0x2e80, 0x303e],
  [0x3041, 0x33ff],
  [0x3400, 0x4dbf],
  [0x4e00, 0x9fff],
  [0xa000, 0xa4cf],
  [0xac00, 0xd7a3],
  [0xf900, 0xfaff],
  [0xfe30, 0xfe4f],
  [0xff00, 0xff60],
  [0xffe0, 0xffe6],
  [0x1f300, 0x1f64f],
  [0x1f900, 0x1f9ff],
  [0x20000, 0x3fffd],
];

/** Columns a string takes in a terminal (wide characters 2, combining marks 0, others 1). */
export const displayWidth = (s: string): number => {
  let width = 0;
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (/\p{Mn}|\p{Me}/u.test(ch)) continue;
    width += WIDE.some(([lo, hi]) => cp >= lo && cp <= hi) ? 2 : 1;
  }
  return width;
};

const pad = (s: string, width: number, align: 'left' | 'right'): string => {
  const fill = ' '.repeat(Math.max(0, width - displayWidth(s)));
  return align === 'right' ? fill + s : s + fill;
};

export interface Column {
  readonly header: string;
  readonly align?: 'left' | 'right';
}

/** An aligned table: a header, a rule, and the rows; trailing spaces trimmed. */
export const table = (columns: readonly Column[], rows: readonly (readonly string[])[], indent = ''): string => {
  const widths = columns.map((c, i) => Math.max(displayWidth(c.header), ...rows.map((r) => displayWidth(r[i] ?? ''))));
  const line = (cells: readonly string[]): string =>
    indent +
    columns
      .map((c, i) => pad(cells[i] ?? '', widths[i] ?? 0, c.align ?? 'left'))
      .join('  ')
      .trimEnd();
  const rule = indent + widths.map((w) => '─'.repeat(w)).join('  ');
  return [line(columns.map((c) => c.header)), rule, ...rows.map(line)].join('\n') + '\n';
};

/** Label/value lines with the values aligned. */
export const keyValues = (pairs: readonly (readonly [string, string])[], indent = ''): string => {
  const width = Math.max(0, ...pairs.map(([k]) => displayWidth(k)));
  return pairs.map(([k, v]) => `${indent}${pad(k, width, 'left')}  ${v}`.trimEnd()).join('\n') + '\n';
};

/** A node of a tree to draw: its label cells (aligned across the tree) and children. */
export interface DrawNode {
  readonly cells: readonly string[];
  readonly children: readonly DrawNode[];
}

/**
 * Draws a tree with ├─ └─ │, the first cell after the branch lines and the other cells aligned in
 * columns; `align` gives each cell's alignment (default left).
 */
export const drawTree = (root: DrawNode, align: readonly ('left' | 'right')[] = []): string => {
  const lines: { prefix: string; cells: readonly string[] }[] = [];
  const walk = (node: DrawNode, prefix: string, childPrefix: string): void => {
    lines.push({ prefix, cells: node.cells });
    node.children.forEach((child, i) => {
      const last = i === node.children.length - 1;
      walk(child, `${childPrefix}${last ? '└─ ' : '├─ '}`, `${childPrefix}${last ? '   ' : '│  '}`);
    });
  };
  walk(root, '', '');
  const count = Math.max(0, ...lines.map((l) => l.cells.length));
  const widths = Array.from({ length: count }, (_, i) =>
    Math.max(0, ...lines.map((l) => displayWidth(i === 0 ? l.prefix + (l.cells[0] ?? '') : (l.cells[i] ?? '')))),
  );
  return (
    lines
      .map((l) =>
        l.cells
          .map((cell, i) => (i === 0 ? pad(l.prefix + cell, widths[0] ?? 0, 'left') : pad(cell, widths[i] ?? 0, align[i] ?? 'left')))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
};

/** `2026-11-28T09:30:00.000Z` → `2026-11-28 09:30:00Z` (ledger times are UTC). */
export const shortTime = (iso: string): string => {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.\d+)?Z$/.exec(iso);
  return m ? `${m[1]} ${m[2]}Z` : clean(iso);
};

/** A count with thousands separators. */
export const count = (n: number): string => Math.round(n).toLocaleString('en-US');

/** `1 entry` / `3 entries`. */
export const plural = (n: number, one: string, many = `${one}s`): string => `${count(n)} ${n === 1 ? one : many}`;

/** Seconds as `0.4 s`, `12 s`, `3 min 5 s`. */
export const duration = (seconds: number): string => {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const m = Math.floor(seconds / 60);
  return `${m} min ${Math.round(seconds - m * 60)} s`;
};

/** A long hex value, shortened for tables: `3f9a0c12…`. */
export const short = (hex: string, keep = 12): string => (hex.length > keep + 1 ? `${hex.slice(0, keep)}…` : hex);

/** How a voucher id reads under its root: `:0-60000000`, or `root` for the root itself. */
export const underRoot = (id: string, rootId: string): string => (id === rootId ? 'root' : id.startsWith(`${rootId}:`) ? id.slice(rootId.length) : id);

export interface Marks {
  readonly ok: string;
  readonly bad: string;
}

/** ✓ and ✗, green and red on a colour terminal (unless NO_COLOR is set). */
export const marks = (colour: boolean): Marks => (colour ? { ok: '\u001b[32m✓\u001b[0m', bad: '\u001b[31m✗\u001b[0m' } : { ok: '✓', bad: '✗' });
