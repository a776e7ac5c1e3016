/**
 * Memory-backend timings on dense data, the bench's scenarios 3 (ingest) and 6 (weekly
 * cohort) without Redis: `pnpm --filter @porpoise/bench exec tsx --conditions=@porpoise/source src/memory-timing.ts`.
 * Prints medians; compare runs taken alternately on one machine.
 */
import { cohort, Events } from '@porpoise/events';
import { MemoryBackend, type WriteOp } from '@porpoise/storage';
import { weekrange } from '@porpoise/timerange';
import { millis, rate } from './report.js';

const NOW = new Date('2026-11-24T12:00:00Z');
const DAY = 86_400_000;
const now = () => NOW;
let seed = 12345;
const random = () => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed / 2 ** 31;
};

/** Medians of wall time and of this process's CPU time (less disturbed by other load on a shared machine). */
async function timed(runs: number, fn: () => unknown): Promise<{ wall: number; cpu: number }> {
  const walls: number[] = [];
  const cpus: number[] = [];
  for (let i = 0; i < runs; i++) {
    const cpu = process.cpuUsage();
    const start = performance.now();
    await fn();
    walls.push(performance.now() - start);
    const used = process.cpuUsage(cpu);
    cpus.push((used.user + used.system) / 1000);
  }
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(runs / 2)]!;
  return { wall: median(walls), cpu: median(cpus) };
}

const n = 1_000_000;
const names = ['active', 'login', 'song:played', 'signup'];
const records = Array.from({ length: n }, () => ({
  name: names[Math.floor(random() * names.length)]!,
  id: Math.floor(random() * 10_000_000),
  at: NOW.getTime() - Math.floor(random() * DAY),
}));
const ingest = await timed(5, () => new Events(new MemoryBackend(), { now }).eventMany(records));
console.log(
  `3. memory ingest of ${n} events: ${millis(ingest.wall)} (${rate(n, ingest.wall)}), CPU ${millis(ingest.cpu)}`,
);

const users = 1_000_000;
const weeks = [...weekrange(-24, 1, { now: NOW })];
const ops: WriteOp[] = [];
weeks.forEach((week, i) => {
  const signups: number[] = [];
  const per = Math.floor(users / weeks.length);
  for (let id = i * per; id < (i + 1) * per; id++) signups.push(id);
  ops.push({ op: 'setBits', key: `events:e:signup:week:${week.key}`, offsets: signups });
  const active: number[] = [];
  for (let id = 0; id < users; id++) if (random() < 0.3) active.push(id);
  ops.push({ op: 'setBits', key: `events:e:active:week:${week.key}`, offsets: active });
});
const memory = new MemoryBackend();
await memory.write(ops);
const events = new Events(memory, { resolutions: ['week'], now });
const run = () =>
  cohort({
    cohort: events.get('signup'),
    activity: events.get('active'),
    range: weekrange(-13, -1, { now: NOW }),
    periods: 12,
  });
await timed(3, run);
const onMemory = await timed(21, run);
console.log(
  `6. weekly cohort 12 x 12 on ${users} users, memory: ${millis(onMemory.wall)}, CPU ${millis(onMemory.cpu)}`,
);
