/** One markdown table of results, printed and written to bench/RESULTS.md. */
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

export interface Row {
  scenario: string;
  ours: string;
  baseline: string;
  ratio: string;
  goal: string;
  met: boolean | null;
}

/** Keep `row` for the table and print it as it is measured. */
export function logRow(rows: Row[], row: Row): void {
  rows.push(row);
  console.log(
    `${row.scenario}: ${row.ours} vs ${row.baseline} (${row.ratio})${row.met === false ? '  << goal missed' : ''}`,
  );
}

export function markdown(
  rows: readonly Row[],
  context: { redis: string; quick: boolean; seconds: number },
): string {
  const date = new Date().toISOString().slice(0, 10);
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const header = [
    '# Porpoise benchmark results',
    '',
    `Measured ${date} on ${cpus().length} cores (${cpu}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${context.redis}, loopback.`,
    `Mode: ${context.quick ? 'quick (small sizes, proves the benchmarks run)' : 'full'}; took ${context.seconds.toFixed(0)} s. Baselines are measured in the same run.`,
    'How each figure is taken, and what bounds the goals not met: [README.md](README.md).',
    '',
    '| scenario | Porpoise | baseline | ratio | goal | met |',
    '|---|---|---|---|---|---|',
  ];
  const body = rows.map(
    (r) =>
      `| ${r.scenario} | ${r.ours} | ${r.baseline} | ${r.ratio} | ${r.goal} | ${r.met === null ? '—' : r.met ? 'yes' : '**no**'} |`,
  );
  return [...header, ...body, ''].join('\n');
}

export function write(path: string, text: string): void {
  writeFileSync(path, text);
}

export const rate = (n: number, ms: number) => `${(((n / ms) * 1000) / 1e6).toFixed(2)} M/s`;
export const millis = (ms: number) => `${ms.toFixed(ms < 10 ? 2 : 0)} ms`;
export const bytes = (n: number) =>
  n >= 2 ** 20 ? `${(n / 2 ** 20).toFixed(2)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`;

/**
 * Medians of `ours` and `baseline`, run alternately: drift on a shared machine (caches,
 * allocator state, a neighbour's load) then hits both sides alike instead of one.
 */
export async function compare(
  times: number,
  ours: () => Promise<unknown>,
  baseline: () => Promise<unknown>,
): Promise<[number, number]> {
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < times; i++) {
    let started = performance.now();
    await ours();
    a.push(performance.now() - started);
    started = performance.now();
    await baseline();
    b.push(performance.now() - started);
  }
  const mid = (samples: number[]) => samples.sort((x, y) => x - y)[Math.floor(samples.length / 2)]!;
  return [mid(a), mid(b)];
}

export async function median(times: number, fn: () => Promise<unknown>): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < times; i++) {
    const started = performance.now();
    await fn();
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)]!;
}
