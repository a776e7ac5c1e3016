/**
 * Product-analytics benchmarks (issue 14): funnel, retention, lifecycle and stickiness on
 * 1,000,000 users, on the memory backend and on a throwaway redis-server.
 * `pnpm --filter @porpoise/bench analytics` (add `--quick` for small sizes). Prints a table.
 */
import { parseArgs } from 'node:util';
import { cohort, Events, funnel, lifecycle, retention, stickiness } from '@porpoise/events';
import { type Backend, MemoryBackend, RedisBackend } from '@porpoise/storage';
import { dayrange, monthrange, weekrange } from '@porpoise/timerange';
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
  await grids(label, backend);
}

/**
 * Sixteen weeks: each user signs up on one random day and is active in a week with
 * probability 0.3, on 1-7 days of it; retention 12 × 12, lifecycle over 12 weeks, stickiness over 3 months.
 */
async function grids(label: string, backend: Backend): Promise<void> {
  seed = 7;
  const first = Date.UTC(2026, 7, 3); // a Monday, 16 weeks before NOW
  const events = new Events(backend, {
    now: () => NOW,
    resolutions: ['day', 'week', 'month'],
    prefix: 'grid',
  });
  function* weekly() {
    for (let id = 0; id < USERS; id++) {
      yield { name: 'signup', id, at: first + Math.floor(random() * 16 * 7) * DAY + 3_600_000 };
      for (let week = 0; week < 16; week++) {
        if (random() >= 0.3) continue;
        const days = 1 + Math.floor(random() * 7);
        for (let d = 0; d < days; d++)
          yield { name: 'active', id, at: first + (week * 7 + d) * DAY + 3_600_000 };
      }
    }
  }
  await events.eventMany(weekly());
  const active = events.get('active');
  const signup = events.get('signup');
  const weeks = weekrange(new Date(first + 2 * 7 * DAY), new Date(first + 14 * 7 * DAY));
  const cases: Array<[string, () => Promise<unknown>, number]> = [
    // Calibration: the existing cohort() grid, whose figure bench/RESULTS.md records on a quiet machine.
    [
      'cohort() 12 × 12 weekly (calibration)',
      () => cohort({ cohort: signup, activity: active, range: weeks, periods: 11 }, events),
      5,
    ],
    [
      'retention 12 × 12 weekly, exact',
      () => retention({ start: signup, returning: active, range: weeks, periods: 12 }, events),
      10,
    ],
    [
      'retention 12 × 12 weekly, on-or-after',
      () =>
        retention(
          { start: signup, returning: active, range: weeks, periods: 12, kind: 'on-or-after' },
          events,
        ),
      10,
    ],
    ['lifecycle over 12 weeks', () => lifecycle({ query: active, range: weeks }, events), 50],
    [
      'stickiness over 3 months',
      () =>
        stickiness(
          {
            query: active,
            range: monthrange(new Date(Date.UTC(2026, 7, 1)), new Date(Date.UTC(2026, 10, 1))),
          },
          events,
        ),
      50,
    ],
  ];
  for (const [name, run, goal] of cases) {
    await run();
    const ms = await median(7, run);
    rows.push({
      scenario: `${name}, ${USERS.toLocaleString('en-US')} users (${label})`,
      ours: millis(ms),
      baseline: '—',
      ratio: '—',
      goal: `≤ ${goal} ms`,
      met: ms <= goal,
    });
    console.log(rows.at(-1));
  }
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
