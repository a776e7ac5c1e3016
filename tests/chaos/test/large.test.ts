/**
 * Scenarios 11 and 12: large batches and long ranges on Redis give MemoryBackend's answers
 * (no RangeError from spreading, no "too many results to unpack"), and atomic writes past
 * Lua's unpack limit are all or nothing.
 */
import { ActivityTracker } from '@porpoise/activity';
import { Events } from '@porpoise/events';
import { type Backend, MemoryBackend, PorpoiseError, RedisBackend, type WriteOp } from '@porpoise/storage';
import { hourrange } from '@porpoise/timerange';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeOf, expectNoTemporaries, ids, rejection, scanKeys, TestServer } from './support.js';

const HOUR = 3_600_000;

describe('large batches and long ranges: Redis answers as MemoryBackend does', () => {
  let server: TestServer;
  let redisBackend: RedisBackend;
  beforeAll(async () => {
    server = await TestServer.start();
    redisBackend = RedisBackend.fromUrl(server.url, { prefix: 'large' });
  });
  afterAll(async () => {
    const redis = server.client();
    await expectNoTemporaries(redis).finally(() => redis.disconnect());
    await redisBackend?.close();
    await server?.stop();
  });

  async function both<T>(run: (backend: Backend) => Promise<T>): Promise<[T, T]> {
    const memory = new MemoryBackend();
    try {
      const t0 = performance.now();
      const onRedis = await run(redisBackend);
      const t1 = performance.now();
      const inMemory = await run(memory);
      console.log(
        `large: redis ${(t1 - t0).toFixed(0)} ms, memory ${(performance.now() - t1).toFixed(0)} ms`,
      );
      return [onRedis, inMemory];
    } finally {
      await memory.close();
    }
  }

  it('trackMany of 150k ids', async () => {
    const date = new Date('2026-11-10T10:00:00Z');
    const [onRedis, inMemory] = await both(async (backend) => {
      const tracker = new ActivityTracker(backend, {
        prefix: 't150k',
        now: () => new Date('2026-11-12T00:00:00Z'),
      });
      await tracker.trackMany(
        ids(0, 150_000).map((id) => ({ id: `user-${id}`, date, bucket: id % 3 ? 'web' : 'ios' })),
      );
      const live = await tracker.lookupDaily({
        start: '2026-11-10',
        end: '2026-11-11',
        buckets: ['web', 'ios'],
      });
      await tracker.collapse({
        buckets: ['web', 'ios'],
        aggregateBuckets: { total: ['web', 'ios'] },
        maxPeriods: 3,
      });
      const final = await tracker.lookupDaily({
        start: '2026-11-10',
        end: '2026-11-11',
        buckets: ['web', 'ios', 'total'],
      });
      return { live, final };
    });
    expect(onRedis).toEqual(inMemory);
    expect(onRedis.final[0]!.counts.total).toBe(150_000);
  });

  it('setAdd and hllAdd of 200k members', async () => {
    const members = ids(0, 200_000).map((i) => `member-${i}`);
    const [onRedis, inMemory] = await both(async (backend) => {
      await backend.write([
        { op: 'setAdd', key: 'big:s:g', members },
        { op: 'hllAdd', key: 'big:h:g', members },
      ]);
      const [card, count, has, members2] = await backend.read([
        { op: 'setCardinality', keys: ['big:s:g'] },
        { op: 'hllCount', keys: ['big:h:g'] },
        { op: 'setHas', key: 'big:s:g', member: 'member-199999' },
        { op: 'setMembers', keys: ['big:s:g'] },
      ]);
      return { card, count, has, n: members2.length, first: members2[0], last: members2.at(-1) };
    });
    expect(onRedis.card).toBe(200_000);
    expect(onRedis).toEqual(inMemory);
  });

  it('counts() over 40,500 hourly buckets', async () => {
    const start = new Date('2021-01-01T00:00:00Z');
    const hours = 40_500;
    const [onRedis, inMemory] = await both(async (backend) => {
      const events = new Events(backend, { prefix: 'h45k', resolutions: ['hour'] });
      const records = [];
      for (let h = 0; h < hours; h += 7)
        records.push({ name: 'open', id: h, at: new Date(start.getTime() + h * HOUR) });
      await events.eventMany(records);
      const range = hourrange(start, new Date(start.getTime() + hours * HOUR));
      // (not().counts() over long ranges is in bounded-work.test.ts, 1,500 buckets: here it
      // would add 10-25 s on this machine.)
      const counts = await events.get('open').counts(range);
      return { counts: counts.map((c) => c.count) };
    });
    expect(onRedis.counts).toHaveLength(hours);
    expect(onRedis.counts.reduce((a, b) => a + b, 0)).toBe(Math.ceil(hours / 7));
    expect(onRedis).toEqual(inMemory);
  });
});

describe('atomic writes past Lua unpack limit', () => {
  let server: TestServer;
  let backend: RedisBackend;
  beforeAll(async () => {
    server = await TestServer.start();
    backend = RedisBackend.fromUrl(server.url, { prefix: 'atomic' });
  });
  afterAll(async () => {
    await backend?.close();
    await server?.stop();
  });

  it('an atomic write of 9,000 set members is all or nothing', async () => {
    const redis = server.client();
    try {
      const members = ids(0, 9_000).map((i) => `m${i}`);
      await backend.write([{ op: 'set', key: 'plain:g', value: 'a string' }]);
      // Fails its last check (WRONGTYPE): nothing of it is applied.
      const failing: WriteOp[] = [
        { op: 'setAdd', key: 's:g', members },
        { op: 'increment', key: 'h:g', increments: members.map((m) => [m, 1] as const) },
        { op: 'setAdd', key: 'plain:g', members: ['x'] },
      ];
      const error = await rejection(backend.write(failing, { atomic: true }));
      expect(codeOf(error)).toBe('BACKEND_ERROR');
      expect((error as Error).message).toMatch(/WRONGTYPE/);
      expect(await redis.exists('atomic:s:{g}', 'atomic:h:{g}')).toBe(0);
      // Without the bad operation: everything.
      expect(await backend.write(failing.slice(0, 2), { atomic: true })).toBe(true);
      expect(await redis.scard('atomic:s:{g}')).toBe(9_000);
      expect(await redis.hlen('atomic:h:{g}')).toBe(9_000);
      // Deleting 9,000 keys atomically, and a remove of 9,000 members.
      const keys = ids(0, 9_000).map((i) => `k${i}:g`);
      await backend.write(keys.map((key) => ({ op: 'set' as const, key, value: '1' })));
      expect(
        await backend.write(
          [
            { op: 'delete', keys },
            { op: 'setRemove', key: 's:g', members },
          ],
          { atomic: true },
        ),
      ).toBe(true);
      expect(await redis.exists('atomic:k0:{g}', 'atomic:k8999:{g}', 'atomic:s:{g}')).toBe(0);
      await expectNoTemporaries(redis);
    } finally {
      redis.disconnect();
    }
  });

  it('an atomic write over 100,000 items is refused up front, writing nothing', async () => {
    const redis = server.client();
    try {
      const before = await redis.dbsize();
      const error = await rejection(
        backend.write(
          [
            { op: 'setAdd', key: 'huge:g', members: ids(0, 60_000).map((i) => `m${i}`) },
            { op: 'setBits', key: 'bits:g', offsets: ids(0, 60_000) },
          ],
          { atomic: true },
        ),
      );
      expect(codeOf(error)).toBe('INVALID_ARGUMENT');
      expect(await redis.dbsize()).toBe(before);
    } finally {
      redis.disconnect();
    }
  });

  it('a collapse with 3,000 buckets and a 3,000-member aggregate succeeds or is refused up front; never half-applied', async () => {
    const redis = server.client();
    try {
      const now = new Date('2026-11-12T00:00:00Z');
      const tracker = new ActivityTracker(backend, { prefix: 'wide', now: () => now });
      const buckets = ids(0, 3_000).map((i) => `b${i}`);
      const date = new Date('2026-11-10T10:00:00Z');
      await tracker.trackMany(
        buckets.flatMap((bucket, i) => [
          { id: `u${i}`, bucket, date },
          { id: 'shared', bucket, date },
        ]),
      );
      let outcome = 'collapsed';
      try {
        await tracker.collapse({ buckets, aggregateBuckets: { total: buckets }, maxPeriods: 2 });
      } catch (error) {
        outcome = codeOf(error);
        expect(PorpoiseError.isInstance(error)).toBe(true);
      }
      const keys = await scanKeys(redis, 'atomic:wide:*');
      // The collapse walks back two days: 2026-11-11 (no data) and 2026-11-10.
      const ofDay = keys.filter((k) => k.endsWith('{d20261110}'));
      const marker = ofDay.some((k) => k.includes(':done:'));
      const counts = ofDay.filter((k) => k.includes(':n:'));
      const raw = ofDay.filter((k) => k.includes(':raw:'));
      console.log(
        `large: collapse of 3,000 buckets: ${outcome}; ${counts.length} count keys, ${raw.length} raw keys`,
      );
      if (marker) {
        expect(counts).toHaveLength(3_001);
        expect(raw).toHaveLength(0);
        const [row] = await tracker.lookupDaily({
          start: '2026-11-10',
          end: '2026-11-11',
          buckets: ['b7'],
          aggregateBuckets: { total: buckets },
        });
        expect(row!.final).toBe(true);
        expect(row!.counts).toEqual({ b7: 2, total: 3_001 });
      } else {
        // Refused: nothing of it, raw ids intact.
        expect(outcome).not.toBe('collapsed');
        expect(counts).toHaveLength(0);
        expect(raw).toHaveLength(3_000);
      }
      await expectNoTemporaries(redis);
    } finally {
      redis.disconnect();
    }
  });
  it('a collapse with 2,000 aggregate buckets (pairs of 2,000 buckets) is all or nothing', async () => {
    const redis = server.client();
    try {
      const now = new Date('2026-11-12T00:00:00Z');
      const tracker = new ActivityTracker(backend, { prefix: 'aggs', now: () => now });
      const buckets = ids(0, 2_000).map((i) => `b${i}`);
      const aggregates = Object.fromEntries(
        buckets.map((b, i) => [`pair${i}`, [b, buckets[(i + 1) % 2_000]!]]),
      );
      const date = new Date('2026-11-11T10:00:00Z');
      await tracker.trackMany(buckets.map((bucket, i) => ({ id: `u${i}`, bucket, date })));
      let outcome = 'collapsed';
      try {
        await tracker.collapse({ buckets, aggregateBuckets: aggregates });
      } catch (error) {
        outcome = codeOf(error);
      }
      const ofDay = (await scanKeys(redis, 'atomic:aggs:*')).filter((k) => k.endsWith('{d20261111}'));
      const counts = ofDay.filter((k) => k.includes(':n:'));
      const marker = ofDay.some((k) => k.includes(':done:'));
      console.log(`large: collapse with 2,000 aggregates: ${outcome}; ${counts.length} count keys`);
      if (marker) {
        expect(counts).toHaveLength(4_000);
        const [row] = await tracker.lookupDaily({
          start: '2026-11-11',
          end: '2026-11-12',
          buckets: ['b5'],
          aggregateBuckets: { pair5: aggregates.pair5! },
        });
        expect(row!.counts).toEqual({ b5: 1, pair5: 2 });
      } else {
        expect(outcome).not.toBe('collapsed');
        expect(counts).toHaveLength(0);
      }
      await expectNoTemporaries(redis);
    } finally {
      redis.disconnect();
    }
  });
});
