/** One-line charts for the terminal: a sparkline of a series and a bar per value. */

const BLOCKS = ' ▁▂▃▄▅▆▇█';

/** The largest value, at least `floor` (a loop: long series exceed Math.max's argument limit). */
export function peakOf(values: Iterable<number>, floor = 0): number {
  let peak = floor;
  for (const v of values) if (v > peak) peak = v;
  return peak;
}

export function sparkline(values: readonly number[]): string {
  const max = peakOf(values, 1);
  return values
    .map((v) => BLOCKS[Math.min(BLOCKS.length - 1, Math.max(0, Math.round((v / max) * (BLOCKS.length - 1))))])
    .join('');
}

/** A bar of `width` cells, `value / max` of them filled; negative counters draw empty. */
export function bar(value: number, max: number, width = 30): string {
  const n = max <= 0 ? 0 : Math.min(width, Math.max(0, Math.round((value / max) * width)));
  return '█'.repeat(n) + '░'.repeat(width - n);
}
