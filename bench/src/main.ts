/**
 * Porpoise benchmarks. `pnpm bench` (full sizes) or `pnpm bench --quick` (small sizes, run
 * in CI only to prove the benchmarks still work). Starts its own redis-server, prints one
 * markdown table and writes bench/RESULTS.md (full runs only).
 */
import { parseArgs } from 'node:util';
import { ActivityTracker } from '@porpoise/activity';
import { Counters } from '@porpoise/counters';
import { cohort, Events } from '@porpoise/events';
import { type Backend, MemoryBackend, RedisBackend, type WriteOp } from '@porpoise/storage';
import { BucketKeyer, dayrange, hourrange, weekrange } from '@porpoise/timerange';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { startRedis } from './redis-server.js';
import { bytes, compare, logRow, markdown, median, millis, type Row, rate, write } from './report.js';

// allowPositionals: `pnpm bench -- --quick` passes a literal '--' through.
const { values: args } = parseArgs({
  options: { quick: { type: 'boolean', default: false } },
  allowPositionals: true,
});
const quick = args.quick;
const NOW = new Date('2026-11-24T12:00:00Z');
const DAY = 86_400_000;
const rows: Row[] = [];

let seed = 12345;
const random = () => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed / 2 ** 31;
};

const log = (row: Row): void => logRow(rows, row);

async function flush(client: Redis): Promise<void> {
  await client.flushall();
}

/** Offsets of a random bitmap with `density` of `users` bits set. */
function randomIds(users: number, density: number): number[] {
  const out: number[] = [];
  for (let id = 0; id < users; id++) if (random() < density) out.push(id);
  return out;
}

async function main(): Promise<void> {
  const started = performance.now();
  const server = await startRedis();
  const client = new Redis(server.url);
  const backend = new RedisBackend(client, { prefix: 'bench' });
  // The same server and prefix through node-redis: rows 1b and 4b compare the two clients.
  const nodeClient = createClient({ url: server.url });
  await nodeClient.connect();
  const nodeBackend = new RedisBackend(nodeClient, { prefix: 'bench' });
  const now = () => NOW;
  try {
    // 1-3. Ingest.
    const n = quick ? 50_000 : 1_000_000;
    const names = ['active', 'login', 'song:played', 'signup'];
    const records = Array.from({ length: n }, () => ({
      name: names[Math.floor(random() * names.length)]!,
      id: Math.floor(random() * 10_000_000),
      at: NOW.getTime() - Math.floor(random() * DAY),
    }));
    {
      // Steady state, as in a long-running ingest process: a warm-up batch first, then the
      // median of 3 runs, each into an empty server.
      const steady = async (events: Events): Promise<number> => {
        await events.eventMany(records.slice(0, 100_000));
        const runs: number[] = [];
        for (let run = 0; run < 3; run++) {
          await flush(client);
          runs.push(await median(1, () => events.eventMany(records)));
        }
        await flush(client);
        return runs.sort((a, b) => a - b)[1]!;
      };
      const ours = await steady(new Events(backend, { now }));
      const keyer = new BucketKeyer();
      const units = ['hour', 'day', 'week', 'month'] as const;
      const baseline = await median(1, async () => {
        for (let i = 0; i < records.length; i += 10_000) {
          const pipeline = client.pipeline();
          for (const r of records.slice(i, i + 10_000)) {
            for (const unit of units)
              pipeline.setbit(`raw:${r.name}:${unit}:${keyer.key(r.at, unit)}`, r.id, 1);
          }
          await pipeline.exec();
        }
      });
      await flush(client);
      log({
        scenario: `1. Redis ingest: eventMany of ${n.toLocaleString('en-US')} events (ids < 10M, 4 resolutions)`,
        ours: rate(n, ours),
        baseline: `${rate(n, baseline)} (pipelined SETBIT)`,
        ratio: `${(baseline / ours).toFixed(1)}×`,
        goal: '≥ 2 M/s and ≥ 10×',
        met: (n / ours) * 1000 >= 2e6 && baseline / ours >= 10,
      });
      const viaNode = await steady(new Events(nodeBackend, { now }));
      log(clients(`1b. the same ingest through node-redis`, rate(n, viaNode), rate(n, ours), viaNode / ours));
    }
    {
      const events = new Events(backend, { now });
      const total = quick ? 20_000 : 100_000;
      const ours = await median(1, async () => {
        for (let i = 0; i < total; i += 10_000) {
          await Promise.all(records.slice(i, i + 10_000).map((r) => events.event(r.name, r.id, r.at)));
        }
      });
      await flush(client);
      log({
        scenario: `2. Redis ingest: ${total.toLocaleString('en-US')} single event() calls, 10k in flight`,
        ours: rate(total, ours),
        baseline: '—',
        ratio: '—',
        goal: '≥ 0.2 M/s',
        met: (total / ours) * 1000 >= 2e5,
      });
    }
    {
      // Median of 3 runs into fresh backends (the first run also warms the JIT, as the
      // baseline's first run does).
      const ours = await median(3, () => new Events(new MemoryBackend(), { now }).eventMany(records));
      const keyer = new BucketKeyer();
      const baseline = await median(3, async () => {
        const maps = new Map<string, Uint8Array>();
        for (const r of records) {
          for (const unit of ['hour', 'day', 'week', 'month'] as const) {
            const key = `${r.name}:${unit}:${keyer.key(r.at, unit)}`;
            let map = maps.get(key);
            if (!map) maps.set(key, (map = new Uint8Array(10_000_000 / 8)));
            map[r.id >>> 3]! |= 0x80 >>> (r.id & 7);
          }
        }
      });
      log({
        scenario: `3. Memory ingest: eventMany of ${n.toLocaleString('en-US')} events (4 resolutions)`,
        ours: rate(n, ours),
        baseline: `${rate(n, baseline)} (plain Uint8Array bit sets + key formatting)`,
        ratio: `${(ours / baseline).toFixed(1)}× the time`,
        goal: '≥ 5 M/s',
        met: (n / ours) * 1000 >= 5e6,
      });
    }

    // 4. counts over 30 days on dense bitmaps.
    const users = quick ? 1_000_000 : 10_000_000;
    {
      const days = [...dayrange(-30, 0, { now: NOW })];
      const pipeline = client.pipeline();
      const ops: WriteOp[] = [];
      for (const day of days) {
        const ids = randomIds(users, 0.1);
        ops.push({ op: 'setBits', key: `events:e:active:day:${day.key}`, offsets: ids });
        const raw = Buffer.alloc(users / 8);
        for (const id of ids) raw[id >>> 3]! |= 0x80 >>> (id & 7);
        pipeline.set(`raw:active:${day.key}`, raw);
      }
      await backend.write(ops);
      await pipeline.exec();
      const events = new Events(backend, { resolutions: ['day'], now });
      const reads: number[] = [];
      const counting = countingReads(backend, reads);
      const countingEvents = new Events(counting, { resolutions: ['day'], now });
      await countingEvents.get('active').counts(dayrange(-30, 0, { now: NOW }));
      const [ours, baseline] = await compare(
        15,
        () => events.get('active').counts(dayrange(-30, 0, { now: NOW })),
        async () => {
          const p = client.pipeline();
          for (const day of days) p.bitcount(`raw:active:${day.key}`);
          await p.exec();
        },
      );
      log({
        scenario: `4. counts(dayrange(-30)) on ${users.toLocaleString('en-US')} users (${reads.length} round trip)`,
        ours: millis(ours),
        baseline: `${millis(baseline)} (pipeline of 30 BITCOUNT)`,
        ratio: `${(ours / baseline).toFixed(2)}×`,
        goal: '≤ 1.2×, 1 round trip',
        met: ours / baseline <= 1.2 && reads.length === 1,
      });
      const nodeEvents = new Events(nodeBackend, { resolutions: ['day'], now });
      const [viaNode, viaIoredis] = await compare(
        15,
        () => nodeEvents.get('active').counts(dayrange(-30, 0, { now: NOW })),
        () => events.get('active').counts(dayrange(-30, 0, { now: NOW })),
      );
      log(
        clients(
          '4b. the same counts through node-redis',
          millis(viaNode),
          millis(viaIoredis),
          viaNode / viaIoredis,
        ),
      );
      await flush(client);
    }

    // 5. A 3-operand expression over 24 hours.
    {
      const hours = [...hourrange(-24, 0, { now: NOW })];
      const size = quick ? 1_000_000 : 10_000_000;
      const ops: WriteOp[] = [];
      const pipeline = client.pipeline();
      for (const hour of hours) {
        for (const name of ['a', 'b', 'c']) {
          const ids = randomIds(size, 0.05);
          ops.push({ op: 'setBits', key: `events:e:${name}:hour:${hour.key}`, offsets: ids });
          const raw = Buffer.alloc(size / 8);
          for (const id of ids) raw[id >>> 3]! |= 0x80 >>> (id & 7);
          pipeline.set(`raw:${name}:${hour.key}`, raw);
        }
      }
      await backend.write(ops);
      await pipeline.exec();
      const events = new Events(backend, { resolutions: ['hour'], now });
      const query = events.get('a').and(events.get('b')).or(events.get('c'));
      const range = hourrange(-24, 0, { now: NOW });
      const [ours, baseline] = await compare(
        11,
        () => query.counts(range),
        async () => {
          const p = client.pipeline();
          for (const hour of hours) {
            p.bitop('AND', 'raw:t', `raw:a:${hour.key}`, `raw:b:${hour.key}`);
            p.bitop('OR', 'raw:t', 'raw:t', `raw:c:${hour.key}`);
            p.bitcount('raw:t');
          }
          p.del('raw:t');
          await p.exec();
        },
      );
      log({
        scenario: `5a. (a AND b) OR c over 24 hours of ${size.toLocaleString('en-US')}-bit maps, counts`,
        ours: millis(ours),
        baseline: `${millis(baseline)} (BITOP + BITCOUNT pipeline)`,
        ratio: `${(ours / baseline).toFixed(2)}×`,
        goal: '≤ 1.3×',
        met: ours / baseline <= 1.3,
      });
      let ids = 0;
      let sent = 0;
      const materialised = await median(3, async () => {
        ids = 0;
        const before = await netOutput(client);
        for await (const set of query.over(range)) ids += set.toArray().length;
        // The server's own byte counter: what the query cost on the wire (a few bytes of it
        // are the INFO replies themselves).
        sent = (await netOutput(client)) - before;
      });
      log({
        scenario: '5b. the same with ids materialised (over())',
        ours: `${millis(materialised / 24)} per bucket; ${bytes(sent / 24)} sent per bucket`,
        baseline: `${(ids / 24).toLocaleString('en-US', { maximumFractionDigits: 0 })} ids per bucket`,
        ratio: '—',
        goal: 'report',
        met: null,
      });
      await flush(client);
    }

    // 6. Weekly cohort 12 × 12 on 1M users.
    {
      const cohortUsers = quick ? 100_000 : 1_000_000;
      const weeks = [...weekrange(-24, 1, { now: NOW })];
      const ops: WriteOp[] = [];
      weeks.forEach((week, i) => {
        const signups: number[] = [];
        const per = Math.floor(cohortUsers / weeks.length);
        for (let id = i * per; id < (i + 1) * per; id++) signups.push(id);
        ops.push({ op: 'setBits', key: `events:e:signup:week:${week.key}`, offsets: signups });
        ops.push({
          op: 'setBits',
          key: `events:e:active:week:${week.key}`,
          offsets: randomIds(cohortUsers, 0.3),
        });
      });
      const memory = new MemoryBackend();
      await backend.write(ops);
      await memory.write(ops);
      const run = (b: Backend) => {
        const events = new Events(b, { resolutions: ['week'], now });
        return () =>
          cohort({
            cohort: events.get('signup'),
            activity: events.get('active'),
            range: weekrange(-13, -1, { now: NOW }),
            periods: 12,
          });
      };
      const onRedis = await median(7, run(backend));
      const onMemory = await median(7, run(memory));
      log({
        scenario: `6. weekly cohort 12 × 12 on ${cohortUsers.toLocaleString('en-US')} users`,
        ours: `${millis(onRedis)} Redis, ${millis(onMemory)} memory`,
        baseline: 'bitmapist ~18 ms (issue figure)',
        ratio: `${(18 / onRedis).toFixed(1)}× faster than bitmapist`,
        goal: '≤ 5 ms on both',
        met: onRedis <= 5 && onMemory <= 5,
      });
      await flush(client);
    }

    // 7. Counters.
    {
      const m = quick ? 100_000 : 1_000_000;
      const increments = Array.from({ length: m }, () => ({
        key: 'song:played',
        id: `song-${Math.floor(random() * 10_000)}`,
        at: NOW.getTime() - Math.floor(random() * DAY),
      }));
      const counters = new Counters(backend, { now });
      const ours = await median(1, () => counters.countMany(increments));
      await flush(client);
      const keyer = new BucketKeyer();
      const baseline = await median(1, async () => {
        for (let i = 0; i < increments.length; i += 10_000) {
          const p = client.pipeline();
          for (const inc of increments.slice(i, i + 10_000)) {
            for (const unit of ['hour', 'day', 'week', 'month'] as const)
              p.hincrby(`raw:${unit}:${keyer.key(inc.at, unit)}`, inc.id, 1);
          }
          await p.exec();
        }
      });
      await flush(client);
      log({
        scenario: `7. countMany of ${m.toLocaleString('en-US')} increments over 10k ids (4 resolutions)`,
        ours: rate(m, ours),
        baseline: `${rate(m, baseline)} (pipelined HINCRBY)`,
        ratio: `${(baseline / ours).toFixed(1)}×`,
        goal: '≥ 0.8×',
        met: baseline / ours >= 0.8,
      });
    }

    // 8. Activity.
    {
      const ids = quick ? 100_000 : 1_000_000;
      const platforms = ['web', 'ios', 'android'];
      const yesterday = new Date(NOW.getTime() - DAY);
      for (const mode of ['exact', 'approximate'] as const) {
        const tracker = new ActivityTracker(backend, { mode, prefix: `act-${mode}`, now });
        const track = await median(1, async () => {
          for (let i = 0; i < ids; i += 100_000) {
            await tracker.trackMany(
              Array.from({ length: Math.min(100_000, ids - i) }, (_, j) => ({
                id: i + j,
                bucket: platforms[(i + j) % 3]!,
                date: yesterday,
              })),
            );
          }
        });
        const memoryUsage = await usage(client, `bench:act-${mode}:raw:*`);
        const collapse = await median(1, () =>
          tracker.collapse({
            buckets: platforms,
            aggregateBuckets: {
              total: platforms,
              mobile: ['ios', 'android'],
              webAndroid: ['web', 'android'],
            },
          }),
        );
        log({
          scenario: `8. activity (${mode}): track ${ids.toLocaleString('en-US')} ids; collapse a day with 3 aggregates`,
          ours: `${rate(ids, track)} track; ${millis(collapse)} collapse`,
          baseline: `raw ids use ${bytes(memoryUsage)}`,
          ratio: '—',
          goal: 'report',
          met: null,
        });
      }
      const reads: number[] = [];
      const counting = countingReads(backend, reads);
      const lookupTracker = new ActivityTracker(counting, { prefix: 'act-exact', now });
      const lookup = await median(5, () => lookupTracker.lookupDaily({ buckets: platforms }));
      log({
        scenario: '8. activity: lookupDaily of 365 days',
        ours: `${millis(lookup)}, ${reads.length / 5} round trip per lookup`,
        baseline: '—',
        ratio: '—',
        goal: 'one round trip',
        met: reads.length / 5 === 1,
      });
      await flush(client);
    }

    // Scaling: ingest and query time as the number of users grows.
    for (const scale of quick ? [10_000, 100_000] : [100_000, 1_000_000, 10_000_000]) {
      const events = new Events(backend, { prefix: `scale${scale}`, now });
      const day = NOW.getTime() - DAY;
      const ingest = await median(1, async () => {
        // Batches of 1 M keep the records' memory bounded at 10^7.
        for (let first = 0; first < scale; first += 1_000_000) {
          const size = Math.min(1_000_000, scale - first);
          await events.eventMany(
            Array.from({ length: size }, (_, i) => ({
              name: 'active',
              id: first + i,
              at: day + ((first + i) % DAY),
            })),
          );
        }
      });
      const hours = hourrange(-24, 0, { now: NOW });
      const counts = await median(5, () => events.get('active').counts(hours));
      const weekly = await median(5, () => events.get('active').union(weekrange(-1, 1, { now: NOW })));
      log({
        scenario: `scaling: ${scale.toLocaleString('en-US')} users, one event each (4 resolutions)`,
        ours: `ingest ${millis(ingest)} (${rate(scale, ingest)}); counts over 24 h ${millis(counts)}; weekly union ${millis(weekly)}`,
        baseline: '—',
        ratio: '—',
        goal: 'report',
        met: null,
      });
      await flush(client);
    }

    // 9. Memory per 1M active users per day.
    {
      const events = new Events(backend, { resolutions: ['day'], now });
      await events.eventMany(Array.from({ length: 1_000_000 }, (_, id) => ({ name: 'dense', id })));
      const dense = await usage(client, 'bench:events:e:dense:*');
      const sparseIds = Array.from({ length: 1000 }, () => Math.floor(random() * 2 ** 32));
      await events.eventMany(sparseIds.map((id) => ({ name: 'sparse', id })));
      const sparse = await usage(client, 'bench:events:e:sparse:*');
      log({
        scenario: '9. memory: events, 1M dense users in one day bucket',
        ours: bytes(dense),
        baseline: '128 KiB (plain 1M-bit string)',
        ratio: `${(dense / (128 * 1024)).toFixed(2)}×`,
        goal: 'report',
        met: null,
      });
      const millionIds = Array.from({ length: 1_000_000 }, () => Math.floor(random() * 2 ** 32));
      await events.eventMany(millionIds.map((id) => ({ name: 'scattered', id })));
      const scattered = await usage(client, 'bench:events:e:scattered:*');
      log({
        scenario: '9. memory: events, 1M ids spread up to 2^32 in one day bucket',
        ours: bytes(scattered),
        baseline: '512 MiB (plain bitmap up to 2^32)',
        ratio: `${(scattered / 2 ** 29).toFixed(3)}×`,
        goal: 'report',
        met: null,
      });
      log({
        scenario: '9. memory: events, 1k ids spread up to 2^32 in one bucket',
        ours: bytes(sparse),
        baseline: '512 MiB (plain bitmap up to 2^32)',
        ratio: '—',
        goal: '< 1 MiB',
        met: sparse < 2 ** 20,
      });
      await flush(client);
    }
  } finally {
    await client.quit();
    await nodeClient.quit();
    server.stop();
  }
  const text = markdown(rows, {
    redis: server.version.split(' ').slice(0, 3).join(' '),
    quick,
    seconds: (performance.now() - started) / 1000,
  });
  console.log(`\n${text}`);
  if (!quick) write(new URL('../RESULTS.md', import.meta.url).pathname, text);
}

/** The backend, with every read() call (one round trip on Redis) recorded in `reads`. */
/** A node-redis row: its time against the same work through ioredis, in the same run. */
function clients(scenario: string, ours: string, ioredis: string, ratio: number): Row {
  return {
    scenario,
    ours,
    baseline: `${ioredis} (ioredis)`,
    ratio: `${ratio.toFixed(2)}× the time`,
    goal: 'within 20 % of ioredis',
    met: ratio <= 1.2 && ratio >= 1 / 1.2,
  };
}

function countingReads(backend: Backend, reads: number[]): Backend {
  return {
    name: backend.name,
    read: (ops) => {
      reads.push(1);
      return backend.read(ops);
    },
    write: (ops, options) => backend.write(ops, options),
    supports: (feature) => backend.supports(feature),
    keys: () => backend.keys(),
    close: () => backend.close(),
  };
}

/** Bytes the server has sent to clients so far (INFO stats). */
async function netOutput(client: Redis): Promise<number> {
  const info = await client.info('stats');
  return Number(/total_net_output_bytes:(\d+)/.exec(info)?.[1] ?? 0);
}

async function usage(client: Redis, pattern: string): Promise<number> {
  let total = 0;
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) total += (await client.memory('USAGE', key)) ?? 0;
  } while (cursor !== '0');
  return total;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
