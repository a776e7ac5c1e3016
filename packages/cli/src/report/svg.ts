/** Small helpers for the report's hand-made SVG: scales, ticks, colours, number labels. */

/** Ticks from 0 to a round maximum at or above `max`, about `count` of them. */
export function niceTicks(max: number, count = 5): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? 10 * magnitude;
  // Integer steps only: these are counts of people.
  const whole = Math.max(1, Math.round(step));
  const ticks: number[] = [];
  for (let t = 0; t < max + whole; t += whole) {
    ticks.push(t);
    if (t >= max) break;
  }
  return ticks;
}

/** 950 → "950", 12,400 → "12.4k", 3,200,000 → "3.2M": axis labels stay narrow. */
export function compact(n: number): string {
  const abs = Math.abs(n);
  if (abs >= 1e6) return `${trim(n / 1e6)}M`;
  if (abs >= 1e4) return `${trim(n / 1e3)}k`;
  return n.toLocaleString('en-US');
}

function trim(n: number): string {
  return n.toFixed(1).replace(/\.0$/, '');
}

/** Rounded to 2 decimals: coordinates with 15 digits only make the file larger. */
export function px(n: number): string {
  return String(Math.round(n * 100) / 100);
}

/** Categorical colours with enough contrast on white and on the dark theme. */
export const SERIES_COLOURS = [
  '#2563eb',
  '#16a34a',
  '#ea580c',
  '#9333ea',
  '#0891b2',
  '#db2777',
  '#65a30d',
  '#b45309',
];

const LOW = [239, 246, 255];
const HIGH = [30, 64, 175];

/** The heat-map colour of `t` in [0, 1], from pale to deep blue; and whether text on it should be light. */
export function heat(t: number): { fill: string; light: boolean } {
  const k = Math.min(1, Math.max(0, t));
  const [r, g, b] = LOW.map((low, i) => Math.round(low + (HIGH[i]! - low) * k));
  const hex = [r, g, b].map((c) => c!.toString(16).padStart(2, '0')).join('');
  return { fill: `#${hex}`, light: k > 0.5 };
}
