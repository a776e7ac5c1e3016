/**
 * Fixed costs at every size (issue 16's table, re-measured in one run): one awaited
 * `event()`, `counts(dayrange(-30))` at 10^3 … 10^7 ids per day, an AND NOT and a union at
 * the same sizes, `countMany` of all-distinct ids, concurrent `track()` calls. Every row is a
 * ratio against the same work done the plain way (raw ioredis pipelines on plain strings and
 * hashes) against the same server in the same run, queries alternating ours and the baseline.
 *
 *   pnpm --filter @porpoise/bench fixed-costs [--quick]
 */
import { parseArgs } from 'node:util';
import { ActivityTracker } from '@porpoise/activity';
import { Counters } from '@porpoise/counters';
import { Events } from '@porpoise/events';
import { RedisBackend, type WriteOp } from '@porpoise/storage';
import { BucketKeyer, dayrange } from '@porpoise/timerange';
import { Redis } from 'ioredis';
import { startRedis } from './redis-server.js';
import { compare, logRow, markdown, millis, type Row, rate } from './report.js';

const { values: args } = parseArgs({
  options: { quick: { type: 'boolean', default: false } },
  allowPositionals: true,
});
const quick = args.quick;
const NOW = new Date('2026-11-24T12:00:00Z');
const now = () => NOW;
const rows: Row[] = [];

const log = (row: Row): void => logRow(rows, row);

// xorshift32: a float LCG loses its low bits to rounding and cycles short.
let seed = 42;
function random(): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 2 ** 32;
}

/** `count` distinct ids below `universe`, sorted. */
function ids(count: number, universe: number): number[] {
  const set = new Set<number>();
  while (set.size < count) set.add(Math.floor(random() * universe));
  return [...set].sort((a, b) => a - b);
}

function rawBitmap(offsets: readonly number[], universe: number): Buffer {
  const raw = Buffer.alloc(Math.ceil(universe / 8));
  for (const id of offsets) raw[id >>> 3]! |= 0x80 >>> (id & 7);
  return raw;
}

async function main(): Promise<void> {
  const started = performance.now();
  const server = await startRedis();
  const client = new Redis(server.url);
  const backend = new RedisBackend(client, { prefix: 'fc' });
  const flush = async () => {
    await client.flushall();
  };
  const keyer = new BucketKeyer();
  try {
    // One awaited event() at 3 resolutions against a pipeline of the same 3 SETBITs.
    {
      const events = new Events(backend, { resolutions: ['hour', 'day', 'month'], now });
      const units = ['hour', 'day', 'month'] as const;
      const n = quick ? 500 : 5_000;
      for (let i = 0; i < 200; i++) await events.event('warm', i);
      let id = 0;
      const [ours, baseline] = await compare(
        n,
        () => events.event('login', id++ * 13),
        () => {
          const p = client.pipeline();
          for (const unit of units)
            p.setbit(`raw:login:${unit}:${keyer.key(NOW.getTime(), unit)}`, id * 13, 1);
          return p.exec();
        },
      );
      log({
        scenario: 'one awaited event(), 3 resolutions',
        ours: `${(ours * 1000).toFixed(0)} µs`,
        baseline: `${(baseline * 1000).toFixed(0)} µs (pipeline of 3 SETBIT)`,
        ratio: `${(ours / baseline).toFixed(2)}×`,
        goal: '≤ 1.3×',
        met: ours / baseline <= 1.3,
      });
      await flush();
    }

    // counts, AND NOT and union over 30 days at several densities of a 10M-id universe.
    const sizes = quick ? [1_000, 100_000] : [1_000, 10_000, 100_000, 1_000_000, 10_000_000];
    for (const size of sizes) {
      // Ten million ids a day are written as offsets: a week of them, not a month.
      const span = size >= 10_000_000 ? 7 : 30;
      const days = [...dayrange(-span, 0, { now: NOW })];
      const universe = Math.max(size, 10_000_000);
      const ops: WriteOp[] = [];
      let pipeline = client.pipeline();
      for (const [d, day] of days.entries()) {
        // Every id of the universe on the 10M day; a random subset otherwise.
        const a = size === universe ? Array.from({ length: size }, (_, i) => i) : ids(size, universe);
        const b = d % 3 === 0 ? a.filter((_, i) => i % 2 === 0) : ids(Math.max(1, size >> 1), universe);
        ops.push({ op: 'setBits', key: `events:e:a:day:${day.key}`, offsets: a });
        ops.push({ op: 'setBits', key: `events:e:b:day:${day.key}`, offsets: b });
        pipeline.set(`raw:a:${day.key}`, rawBitmap(a, universe));
        pipeline.set(`raw:b:${day.key}`, rawBitmap(b, universe));
        if (ops.length >= 8) {
          await backend.write(ops.splice(0));
          await pipeline.exec();
          pipeline = client.pipeline();
        }
      }
      await backend.write(ops);
      await pipeline.exec();
      const events = new Events(backend, { resolutions: ['day'], now });
      const range = dayrange(-span, 0, { now: NOW });
      const times = quick ? 5 : size >= 1_000_000 ? 9 : 15;
      const label = `${size.toLocaleString('en-US')} ids per day`;
      {
        const [ours, baseline] = await compare(
          times,
          () => events.get('a').counts(range),
          () => {
            const p = client.pipeline();
            for (const day of days) p.bitcount(`raw:a:${day.key}`);
            return p.exec();
          },
        );
        log(queryRow(`counts over ${span} days, ${label}`, ours, baseline, `pipeline of ${span} BITCOUNT`));
      }
      {
        const [ours, baseline] = await compare(
          times,
          () => events.get('a').andNot(events.get('b')).counts(range),
          async () => {
            const p = client.pipeline();
            for (const day of days) {
              p.call('BITOP', 'NOT', `tmp:nb:${day.key}`, `raw:b:${day.key}`);
              p.call('BITOP', 'AND', `tmp:r:${day.key}`, `raw:a:${day.key}`, `tmp:nb:${day.key}`);
              p.bitcount(`tmp:r:${day.key}`);
              p.del(`tmp:nb:${day.key}`, `tmp:r:${day.key}`);
            }
            return p.exec();
          },
        );
        log(
          queryRow(
            `a AND NOT b over ${span} days, ${label}`,
            ours,
            baseline,
            'BITOP NOT + AND + BITCOUNT pipeline',
          ),
        );
      }
      {
        const [ours, baseline] = await compare(
          times,
          async () => (await events.get('a').union(range)).size,
          async () => {
            await client.call('BITOP', 'OR', 'tmp:u', ...days.map((day) => `raw:a:${day.key}`));
            const buffer = await client.getBuffer('tmp:u');
            await client.del('tmp:u');
            return buffer;
          },
        );
        log(queryRow(`union of ${span} days (ids fetched), ${label}`, ours, baseline, 'BITOP OR + GET'));
      }
      await flush();
    }

    // countMany of all-distinct ids at 4 resolutions against pipelined HINCRBY.
    {
      const n = quick ? 10_000 : 50_000;
      const units = ['hour', 'day', 'week', 'month'] as const;
      const records = Array.from({ length: n }, (_, i) => ({
        key: 'clicks',
        id: `user-${i}`,
        by: 1,
        at: NOW,
      }));
      const counters = new Counters(backend, { now });
      await counters.countMany(records.slice(0, 1_000));
      await flush();
      const [ours, baseline] = await compare(
        3,
        async () => {
          await counters.countMany(records);
          await flush();
        },
        async () => {
          for (let i = 0; i < n; i += 10_000) {
            const p = client.pipeline();
            for (const r of records.slice(i, i + 10_000)) {
              for (const unit of units)
                p.hincrby(`raw:clicks:${unit}:${keyer.key(NOW.getTime(), unit)}`, r.id, 1);
            }
            await p.exec();
          }
          await flush();
        },
      );
      log({
        scenario: `countMany of ${n.toLocaleString('en-US')} distinct ids, 4 resolutions`,
        ours: rate(n, ours),
        baseline: `${rate(n, baseline)} (pipelined HINCRBY)`,
        ratio: `${(baseline / ours).toFixed(2)}× the speed`,
        goal: '≥ 1.0×',
        met: baseline / ours >= 1,
      });
    }

    // Concurrent track() calls (coalesced) against one trackMany of the same records.
    {
      const n = quick ? 5_000 : 20_000;
      const tracker = new ActivityTracker(backend, { now });
      const records = Array.from({ length: n }, (_, i) => ({ id: `u${i}`, bucket: i % 2 ? 'ios' : 'web' }));
      await tracker.trackMany(records.slice(0, 500));
      const [ours, baseline] = await compare(
        3,
        async () => {
          await Promise.all(records.map((r) => tracker.track(r)));
          await flush();
        },
        async () => {
          await tracker.trackMany(records);
          await flush();
        },
      );
      log({
        scenario: `${n.toLocaleString('en-US')} concurrent track() calls`,
        ours: rate(n, ours),
        baseline: `${rate(n, baseline)} (one trackMany)`,
        ratio: `${(baseline / ours).toFixed(2)}× the speed`,
        goal: 'coalesced like event()',
        met: null,
      });
    }
  } finally {
    await client.quit();
    server.stop();
  }
  console.log(
    `\n${markdown(rows, {
      redis: server.version.split(' ').slice(0, 3).join(' '),
      quick,
      seconds: (performance.now() - started) / 1000,
    })}`,
  );
}

function queryRow(scenario: string, ours: number, baseline: number, what: string): Row {
  return {
    scenario,
    ours: millis(ours),
    baseline: `${millis(baseline)} (${what})`,
    ratio: `${(ours / baseline).toFixed(2)}×`,
    goal: '≤ 1.2×',
    met: ours / baseline <= 1.2,
  };
}

await main().catch((error) => {
  console.error(error);
  process.exit(1);
});
