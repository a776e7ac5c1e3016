/** Plain-text tables, headings and numbers for the terminal. */

export interface TableOptions {
  /** How many leading columns are left-aligned (labels); the rest are right-aligned (numbers). Default 1. */
  left?: number;
  /** Drop trailing spaces of each line (the quick start's tables keep them, byte for byte). */
  trim?: boolean;
}

/** Columns separated by two spaces, with a rule under the header. */
export function table(
  header: readonly string[],
  rows: ReadonlyArray<readonly (string | number)[]>,
  options: TableOptions = {},
): string {
  const left = options.left ?? 1;
  const cells = [header, ...rows.map((r) => r.map(String))];
  // A loop, not Math.max(...): a long range has more rows than a call may take arguments.
  const widths = header.map((_, i) => {
    let width = 0;
    for (const r of cells) width = Math.max(width, (r[i] ?? '').length);
    return width;
  });
  const line = (r: readonly string[]) => {
    const text = r.map((c, i) => (i < left ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
    return options.trim ? text.trimEnd() : text;
  };
  return [line(cells[0]!), line(widths.map((w) => '─'.repeat(w))), ...cells.slice(1).map(line)].join('\n');
}

export function heading(text: string): string {
  return `\n${text}\n${'═'.repeat(text.length)}`;
}

export const fmt = (n: number) => n.toLocaleString('en-US');
export const pct = (r: number) => `${(r * 100).toFixed(1)}%`;
