/**
 * Identity benchmarks: `pnpm --filter @porpoise/bench identity` (1 M ids) or `… identity
 * --quick` (50 k). Starts its own redis-server and prints one markdown table; every ratio is
 * against a baseline measured in the same run: raw ioredis pipelines writing or reading the
 * same data (HSETNX into the forward bucket plus HSET into the reverse bucket per id, or
 * HGET per id), without atomic assignment, sharding or a cache.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { ActivityTracker } from '@porpoise/activity';
import { Events } from '@porpoise/events';
import { Identities } from '@porpoise/identity';
import { RedisBackend } from '@porpoise/storage';
import { Redis } from 'ioredis';
import { startRedis } from './redis-server.js';
import { bytes, logRow, markdown, type Row, rate } from './report.js';

const { values: args } = parseArgs({
  options: { quick: { type: 'boolean', default: false } },
  allowPositionals: true,
});
const quick = args.quick;
const N = quick ? 50_000 : 1_000_000;
const BATCH = 10_000;
const NOW = new Date('2026-11-24T12:00:00Z');
const rows: Row[] = [];

const log = (row: Row): void => logRow(rows, row);

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

async function usedMemory(client: Redis): Promise<number> {
  const info = await client.info('memory');
  return Number(/^used_memory:(\d+)/m.exec(info)![1]);
}

/** The baseline's writes: the same forward and reverse data, by raw pipelines. */
async function rawAssign(client: Redis, ids: readonly string[], bucketed: boolean): Promise<void> {
  for (let start = 0; start < ids.length; start += BATCH) {
    const pipeline = client.pipeline();
    for (let i = start; i < Math.min(ids.length, start + BATCH); i++) {
      const id = ids[i]!;
      if (bucketed) {
        pipeline.hsetnx(`raw:f:${i % 32_768}`, id, i);
        pipeline.hset(`raw:r:${Math.floor(i / 64)}`, i % 64, id);
      } else {
        pipeline.hsetnx('raw:f', id, i);
        pipeline.hset('raw:r', i, id);
      }
    }
    await pipeline.exec();
  }
}

async function rawGet(client: Redis, ids: readonly string[]): Promise<void> {
  for (let start = 0; start < ids.length; start += BATCH) {
    const pipeline = client.pipeline();
    for (let i = start; i < Math.min(ids.length, start + BATCH); i++)
      pipeline.hget(`raw:f:${i % 32_768}`, ids[i]!);
    await pipeline.exec();
  }
}

async function inBatches<T>(items: readonly T[], fn: (batch: T[]) => Promise<unknown>): Promise<void> {
  for (let start = 0; start < items.length; start += BATCH) await fn(items.slice(start, start + BATCH));
}

async function main(): Promise<void> {
  const started = performance.now();
  const server = await startRedis();
  const client = new Redis(server.url);
  const ids = Array.from({ length: N }, () => randomUUID());
  try {
    // Memory and new ids: one run each (a second run would meet known ids).
    await client.flushall();
    const before = await usedMemory(client);
    const backend = new RedisBackend(client, { prefix: 'bench' });
    const cold = new Identities(backend, { cacheSize: N });
    const assignMs = await timed(() => inBatches(ids, (batch) => cold.resolve(batch)));
    const ours = (await usedMemory(client)) - before;
    const encodings = new Set<string>();
    for (const key of [
      'bench:dict:ids:f:0:{ids.0}',
      'bench:dict:ids:f:17:{ids.5}',
      'bench:dict:ids:r:0:{ids.3}',
      'bench:dict:ids:r:1:{ids.31}',
    ]) {
      encodings.add(String(await client.object('ENCODING', key)));
    }
    await client.flushall();
    const rawBefore = await usedMemory(client);
    const rawMs = await timed(() => rawAssign(client, ids, true));
    await client.del('raw:unused');
    const rawBytes = (await usedMemory(client)) - rawBefore;
    await client.flushall();
    const plainBefore = await usedMemory(client);
    await rawAssign(client, ids, false);
    const plainBytes = (await usedMemory(client)) - plainBefore;

    log({
      scenario: `resolve ${N.toLocaleString('en')} new UUIDs (batches of ${BATCH.toLocaleString('en')})`,
      ours: rate(N, assignMs),
      baseline: `${rate(N, rawMs)} (raw HSETNX + HSET pipelines)`,
      ratio: `${(rawMs / assignMs).toFixed(2)}x`,
      goal: '>= 0.30 M/s',
      met: N / (assignMs / 1000) >= 300_000,
    });
    log({
      scenario: `memory per id, ${N.toLocaleString('en')} UUIDs, forward + reverse (used_memory delta; buckets ${[...encodings].join(', ')})`,
      ours: `${(ours / N).toFixed(1)} B`,
      baseline: `${(plainBytes / N).toFixed(1)} B (two plain hashes); ${(rawBytes / N).toFixed(1)} B (raw bucketed)`,
      ratio: `${(plainBytes / ours).toFixed(2)}x smaller`,
      goal: '<= 128 B',
      met: ours / N <= 128,
    });

    // Known ids. The raw bucketed data is back for the HGET baseline.
    await client.flushall();
    await rawAssign(client, ids, true);
    // Trusted until evicted: a long run on a loaded machine would otherwise outlast the TTL.
    const warm = new Identities(backend, { cacheSize: N, cacheTtl: 0 });
    await inBatches(ids, (batch) => warm.resolve(batch));
    const uncached = new Identities(backend, { cacheSize: 0 });
    // The cache's floor: a JavaScript Map of the same ids, read the same way (random UUIDs
    // are memory-bound: each lookup is a cache miss).
    const map = new Map(ids.map((id, i) => [id, i]));
    const mapRead = async () => {
      let sum = 0;
      for (let start = 0; start < N; start += BATCH) {
        const out = new Array<number>(Math.min(BATCH, N - start));
        for (let i = 0; i < out.length; i++) sum += out[i] = map.get(ids[start + i]!)!;
      }
      return sum;
    };
    await mapRead();
    const [hitMs, mapMs, rawGetMs, missMs] = [
      await timed(() => inBatches(ids, (batch) => warm.resolve(batch))),
      await timed(mapRead),
      await timed(() => rawGet(client, ids)),
      await timed(() => inBatches(ids, (batch) => uncached.resolve(batch))),
    ];
    log({
      scenario: `resolve ${N.toLocaleString('en')} known ids, cache warm`,
      ours: rate(N, hitMs),
      baseline: `${rate(N, mapMs)} (a JS Map of the same ids); ${rate(N, rawGetMs)} (raw HGET pipelines)`,
      ratio: `${(mapMs / hitMs).toFixed(2)}x of the Map; ${(rawGetMs / hitMs).toFixed(1)}x the HGETs`,
      goal: '>= 2 M/s',
      met: N / (hitMs / 1000) >= 2_000_000,
    });
    log({
      scenario: `resolve ${N.toLocaleString('en')} known ids, no cache`,
      ours: rate(N, missMs),
      baseline: `${rate(N, rawGetMs)} (raw HGET pipelines)`,
      ratio: `${(rawGetMs / missMs).toFixed(2)}x`,
      goal: '—',
      met: null,
    });
    const ints = await warm.resolve(ids.slice(0, BATCH));
    const all = await new Identities(backend, { cacheSize: 0 }).resolve(ids.slice(0, N));
    const lookupMs = await timed(() =>
      inBatches(all, (batch) => new Identities(backend, { cacheSize: 0 }).lookup(batch)),
    );
    log({
      scenario: `lookup ${N.toLocaleString('en')} integers, no cache`,
      ours: rate(N, lookupMs),
      baseline: `${rate(N, rawGetMs)} (raw HGET pipelines)`,
      ratio: `${(rawGetMs / lookupMs).toFixed(2)}x`,
      goal: '—',
      met: null,
    });
    void ints;

    // Events with UUID ids, once known: the ids resolve from the cache.
    const events = new Events(backend, { identities: warm, now: () => NOW });
    const names = ['login', 'play', 'signup', 'search'];
    const records = ids.map((id, i) => ({
      name: names[i % 4]!,
      id,
      at: NOW.getTime() - (i % 86_400) * 1000,
    }));
    const plain = new Events(backend, { now: () => NOW, prefix: 'plain' });
    const numbered = all.map((n, i) => ({ name: names[i % 4]!, id: n, at: records[i]!.at }));
    await events.eventMany(records.slice(0, BATCH));
    const eventsMs = await timed(() => events.eventMany(records));
    const plainMs = await timed(() => plain.eventMany(numbered));
    log({
      scenario: `eventMany ${N.toLocaleString('en')} events with UUID ids, ids known`,
      ours: rate(N, eventsMs),
      baseline: `${rate(N, plainMs)} (eventMany with integer ids)`,
      ratio: `${(plainMs / eventsMs).toFixed(2)}x`,
      goal: '>= 1 M/s',
      met: N / (eventsMs / 1000) >= 1_000_000,
    });

    // Activity: the same ids tracked into one day, as a bitmap of dictionary integers (ids
    // known) and as exact sets, then that day collapsed with 3 aggregates.
    const day = new Date('2026-11-23T10:00:00Z');
    const buckets = ['web', 'ios', 'android'];
    const aggregates = { all: buckets, mobile: ['ios', 'android'], desktop: ['web'] };
    const tracks = ids.map((id, i) => ({
      id,
      bucket: buckets[i % 3]!,
      date: day,
      periods: ['daily' as const],
    }));
    const activityRow = async (mode: 'bitmap' | 'exact') => {
      await client.flushall();
      const store = new RedisBackend(client, { prefix: `act-${mode}` });
      const identities = new Identities(store, { cacheSize: N });
      const tracker = new ActivityTracker(
        store,
        mode === 'bitmap' ? { now: () => NOW, mode, identities } : { now: () => NOW, mode },
      );
      // The dictionary learns the ids first: the row measures tracking, not assignment.
      if (mode === 'bitmap') await inBatches(ids, (batch) => identities.resolve(batch));
      const base = await usedMemory(client);
      const trackMs = await timed(() => inBatches(tracks, (batch) => tracker.trackMany(batch)));
      const used = (await usedMemory(client)) - base;
      const collapseMs = await timed(() =>
        tracker.collapse({
          date: '2026-11-24T02:00:00Z',
          buckets,
          aggregateBuckets: aggregates,
          periods: ['daily'],
        }),
      );
      return { trackMs, bytes: used, collapseMs };
    };
    const bitmap = await activityRow('bitmap');
    const exact = await activityRow('exact');
    log({
      scenario: `activity bitmap mode: track ${N.toLocaleString('en')} known UUIDs into one day (3 buckets)`,
      ours: `${rate(N, bitmap.trackMs)}; ${bytes(bitmap.bytes)}`,
      baseline: `${rate(N, exact.trackMs)}; ${bytes(exact.bytes)} (exact sets)`,
      ratio: `${(exact.trackMs / bitmap.trackMs).toFixed(2)}x the speed; ${(exact.bytes / bitmap.bytes).toFixed(0)}x smaller`,
      goal: '>= 1 M/s; <= 256 KiB',
      met: N / (bitmap.trackMs / 1000) >= 1_000_000 && bitmap.bytes <= 256 * 1024,
    });
    log({
      scenario: 'activity bitmap mode: collapse that day with 3 aggregates',
      ours: `${bitmap.collapseMs.toFixed(1)} ms`,
      baseline: `${exact.collapseMs.toFixed(1)} ms (exact sets)`,
      ratio: `${(exact.collapseMs / bitmap.collapseMs).toFixed(1)}x faster`,
      goal: '<= 20 ms',
      met: bitmap.collapseMs <= 20,
    });
  } finally {
    await client.quit();
    server.stop();
  }
  console.log();
  console.log(
    markdown(rows, { redis: server.version, quick, seconds: (performance.now() - started) / 1000 }),
  );
}

await main();
