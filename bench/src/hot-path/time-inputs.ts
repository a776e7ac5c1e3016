/**
 * What the time argument of a recorded event costs: the same 200,000 `eventMany` records on
 * the memory backend with `at` as epoch milliseconds, as a `Date`, as a luxon `DateTime` the
 * caller already has, and as a luxon `DateTime` made per event (`DateTime.fromISO` of the
 * request's timestamp, or `DateTime.now().setZone(...)`). Median of 5 runs each, interleaved.
 *
 *   pnpm --filter @porpoise/bench exec tsx --conditions=@porpoise/source src/hot-path/time-inputs.ts
 */
import { Events } from '@porpoise/events';
import { MemoryBackend } from '@porpoise/storage';
import { DateTime } from 'luxon';

const N = 200_000;
const start = Date.UTC(2026, 10, 24);
const times = Array.from({ length: N }, (_, i) => start + i * 400);
const isoTimes = times.map((ms) => new Date(ms).toISOString());
const dateTimes = times.map((ms) => DateTime.fromMillis(ms));

type Variant = { name: string; at: (i: number) => number | Date | DateTime };
const variants: Variant[] = [
  { name: 'epoch ms', at: (i) => times[i]! },
  { name: 'Date', at: (i) => new Date(times[i]!) },
  { name: 'DateTime already made', at: (i) => dateTimes[i]! },
  { name: 'DateTime.fromMillis per event', at: (i) => DateTime.fromMillis(times[i]!) },
  { name: 'DateTime.fromISO per event', at: (i) => DateTime.fromISO(isoTimes[i]!, { zone: 'Europe/Paris' }) },
];

async function once(variant: Variant): Promise<number> {
  const events = new Events(new MemoryBackend(), { resolutions: ['hour', 'day'] });
  const started = performance.now();
  const records = new Array(N);
  for (let i = 0; i < N; i++) records[i] = { name: 'active', id: i % 50_000, at: variant.at(i) };
  await events.eventMany(records);
  return ((performance.now() - started) * 1000) / N;
}

const samples = new Map<string, number[]>(variants.map((v) => [v.name, []]));
for (const variant of variants) await once(variant); // warm-up
for (let run = 0; run < 5; run++)
  for (const variant of variants) samples.get(variant.name)!.push(await once(variant));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const base = median(samples.get('epoch ms')!);
for (const [name, xs] of samples) {
  const m = median(xs);
  console.log(
    `${name.padEnd(32)} ${m.toFixed(2)} µs per event (${m >= base ? '+' : ''}${(m - base).toFixed(2)} µs)`,
  );
}
