/** Plain-text tables and bars for the terminal. */

const BLOCKS = ' ▁▂▃▄▅▆▇█';

export function sparkline(values: readonly number[]): string {
  const max = Math.max(1, ...values);
  return values.map((v) => BLOCKS[Math.round((v / max) * (BLOCKS.length - 1))]).join('');
}

export function bar(value: number, max: number, width = 30): string {
  const n = max === 0 ? 0 : Math.round((value / max) * width);
  return '█'.repeat(n) + '░'.repeat(width - n);
}

export function table(header: readonly string[], rows: ReadonlyArray<readonly (string | number)[]>): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(cells[0]!), widths.map((w) => '─'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join(
    '\n',
  );
}

export function heading(text: string): string {
  return `\n${text}\n${'═'.repeat(text.length)}`;
}

export const fmt = (n: number) => n.toLocaleString('en-US');
export const pct = (r: number) => `${(r * 100).toFixed(1)}%`;
