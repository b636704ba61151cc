/**
 * The CLI's tables: a header row and columns aligned by display width (wide CJK characters count
 * two), cells of at most MAX_CELL columns. Hand-rolled: a few lines, where a table package would be
 * a dependency of every install.
 *
 * Cells often hold what a provider (or an attacker) sent: control characters are written as
 * escapes (`\n`, `\u001b`), so a cell can neither break the layout nor drive the terminal.
 */

/** The widest a cell gets (columns): longer text is cut with `…`; `--json` has it whole. */
export const MAX_CELL = 80;
const GAP = '  ';

export interface Column<T> {
  header: string;
  value: (row: T) => unknown;
  /** Numbers read better right-aligned. */
  align?: 'left' | 'right';
}

// C0 and C1 controls, DEL, and the bidi overrides that can reorder what a terminal shows
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** Text safe to print on a terminal: control characters as JSON-style escapes. */
export function printable(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const escaped = JSON.stringify(c).slice(1, -1); // \n, \t, \u001b…; JSON leaves C1 and bidi characters as they are
    return escaped.length > 1 ? escaped : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

/** A cell's text: `-` for nothing, JSON for objects, the rest as strings. */
export function cellText(value: unknown): string {
  if (value === null || value === undefined || value === '') return '-';
  if (typeof value === 'string') return printable(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return printable(JSON.stringify(value));
}

/** Columns a code point takes on a terminal: 2 for East Asian wide and full-width forms, else 1. */
function charWidth(cp: number): number {
  const wide =
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf && cp !== 0x303f) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1faff) ||
    (cp >= 0x20000 && cp <= 0x3fffd);
  return wide ? 2 : 1;
}

export function displayWidth(text: string): number {
  let w = 0;
  for (const ch of text) w += charWidth(ch.codePointAt(0)!);
  return w;
}

/** At most `max` columns, with `…` where it was cut. */
export function fit(text: string, max = MAX_CELL): string {
  if (displayWidth(text) <= max) return text;
  let w = 0;
  let cut = '';
  for (const ch of text) {
    const cw = charWidth(ch.codePointAt(0)!);
    if (w + cw > max - 1) break;
    cut += ch;
    w += cw;
  }
  return `${cut}…`;
}

function pad(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  const fill = ' '.repeat(Math.max(0, width - displayWidth(text)));
  return align === 'right' ? fill + text : text + fill;
}

/** Rows as lines: the header row, then a row each; no trailing spaces. */
export function formatTable<T>(rows: readonly T[], columns: readonly Column<T>[]): string[] {
  const cells = rows.map((row) => columns.map((c) => fit(cellText(c.value(row)))));
  const widths = columns.map((c, i) => Math.max(displayWidth(c.header), ...cells.map((r) => displayWidth(r[i]))));
  const line = (values: string[]) =>
    values
      .map((v, i) => pad(v, widths[i], columns[i].align))
      .join(GAP)
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)];
}

/** A record as aligned `key  value` lines (one message, one subscription). */
export function formatFields(fields: readonly [string, unknown][]): string[] {
  const width = Math.max(...fields.map(([k]) => displayWidth(k)));
  return fields.map(([k, v]) => `${pad(k, width)}${GAP}${cellText(v)}`.trimEnd());
}
