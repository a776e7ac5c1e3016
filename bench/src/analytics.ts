/**
 * Product-analytics benchmarks (issue 14): funnel, retention, lifecycle and stickiness on
 * 1,000,000 users, on the memory backend and on a throwaway redis-server.
 * `pnpm --filter @porpoise/bench analytics` (add `--quick` for small sizes). Prints a table.
 */
import { parseArgs } from 'node:util';
import { Events, funnel } from '@porpoise/events';
import { type Backend, MemoryBackend, RedisBackend } from '@porpoise/storage';
import { dayrange } from '@porpoise/timerange';
import { Redis } from 'ioredis';
import { startRedis } from './redis-server.js';
import { markdown, median, millis, type Row } from './report.js';

const { values: args } = parseArgs({
  options: { quick: { type: 'boolean', default: false } },
  allowPositionals: true,
});
const quick = args.quick;
const USERS = quick ? 50_000 : 1_000_000;
const DAYS = 30;
const DAY = 86_400_000;
const NOW = new Date('2026-11-24T12:00:00Z');
const FIRST = Date.UTC(2026, 9, 19); // 36 days before NOW: 30 start days and a 7-day window
const rows: Row[] = [];

let seed = 2026;
/** mulberry32: a full-period 32-bit generator (a float LCG loses bits and correlates draws). */
const random = () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
};

/**
 * A month of daily data: every user visits on 3 random days (about 10% of users a day), half
 * of them play on 2 random days, a quarter make a playlist once, a tenth subscribe once.
 */
function* records() {
  const plan: Array<[string, number, number]> = [
    ['visit', 1, 3],
    ['play', 0.5, 2],
    ['playlist', 0.25, 1],
    ['subscribe', 0.1, 1],
  ];
  for (let id = 0; id < USERS; id++) {
    for (const [name, share, times] of plan) {
      if (random() >= share) continue;
      for (let i = 0; i < times; i++) {
        yield { name, id, at: FIRST + Math.floor(random() * (DAYS + 6)) * DAY + 3_600_000 };
      }
    }
  }
}

async function scenario(label: string, backend: Backend): Promise<void> {
  seed = 2026;
  const events = new Events(backend, { now: () => NOW, resolutions: ['day', 'week', 'month'] });
  await events.eventMany(records());
  const steps = ['visit', 'play', 'playlist', 'subscribe'].map((name) => events.get(name));
  const range = dayrange(new Date(FIRST), new Date(FIRST + DAYS * DAY));
  const run = () => funnel({ steps, range, window: 7 }, events);
  const result = await run();
  const ms = await median(7, run);
  rows.push({
    scenario: `funnel: 4 steps, 7-day window, 30 days, ${USERS.toLocaleString('en-US')} users (${label})`,
    ours: `${millis(ms)}; counts ${result.steps.map((s) => s.count).join(' → ')}`,
    baseline: '—',
    ratio: '—',
    goal: '≤ 50 ms',
    met: ms <= 50,
  });
  console.log(rows.at(-1));
}

async function main(): Promise<void> {
  const started = performance.now();
  await scenario('memory', new MemoryBackend());
  const server = await startRedis();
  const client = new Redis(server.url);
  try {
    await scenario('Redis', new RedisBackend(client, { prefix: 'bench' }));
    console.log(
      markdown(rows, { redis: server.version, quick, seconds: (performance.now() - started) / 1000 }),
    );
  } finally {
    client.disconnect();
    server.stop();
  }
}

await main();
