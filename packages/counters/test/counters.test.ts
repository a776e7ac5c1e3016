import { type Backend, MemoryBackend } from '@porpoise/storage';
import { describeEachBackend } from '@porpoise/test-backends';
import { dayrange, hourrange, monthrange, weekrange } from '@porpoise/timerange';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { Counters, InvalidArgumentError } from '../src/index.js';

const NOW = new Date('2026-11-24T12:30:00Z');
const hour = (h: number) => new Date(Date.UTC(2026, 10, 24, h, 10));
const sharp = (h: number) => new Date(Date.UTC(2026, 10, 24, h));

describeEachBackend(
  (make) => {
    let backend: Backend;
    let counters: Counters;
    beforeEach(() => {
      backend = make();
      counters = new Counters(backend, { now: () => NOW });
      return async () => {
        await backend.close();
      };
    });

    it('the original test: 2, 4, 0 and 3 counts of (active, 1) read back per hour', async () => {
      const plan = [2, 4, 0, 3];
      const records = plan.flatMap((n, h) =>
        Array.from({ length: n }, () => ({ key: 'active', id: 1, at: hour(h) })),
      );
      await counters.countMany(records);
      const seen: Array<Record<string, number>> = [];
      for await (const snapshot of counters.get('active').over(hourrange(sharp(0), sharp(4)))) {
        seen.push(Object.fromEntries(snapshot.values));
      }
      expect(seen).toEqual([{ 1: 2 }, { 1: 4 }, {}, { 1: 3 }]);
    });

    it('counts a batch retried with the same idempotency key once', async () => {
      const batch = Array.from({ length: 500 }, (_, i) => ({
        key: 'plays',
        id: `song-${i % 50}`,
        at: hour(9),
      }));
      await counters.countMany(batch, { idempotencyKey: 'import-2026-11-24' });
      await counters.countMany(batch, { idempotencyKey: 'import-2026-11-24' });
      await counters.countMany(batch.slice(0, 50), { idempotencyKey: 'another' });
      expect((await counters.get('plays').sum(dayrange(sharp(0), sharp(12)))).total).toBe(550);
    });

    it('refuses malformed batch options before counting anything', async () => {
      for (const options of [
        null,
        'key',
        { idempotencyKey: '' },
        { idempotencyKey: 'k', idempotencyTtl: -1 },
      ]) {
        await expect(
          counters.countMany([{ key: 'plays', id: 1, at: hour(9) }], options as never),
        ).rejects.toSatisfy(InvalidArgumentError.isInstance);
      }
      expect(await backend.keys()).toEqual([]);
    });

    it("the README's top songs per hour", async () => {
      const plays: Array<[string, number]> = [
        ['song-a', 5],
        ['song-b', 9],
        ['song-c', 1],
        ['song-d', 9],
        ['song-e', 3],
        ['song-f', 2],
      ];
      await counters.countMany(plays.map(([id, by]) => ({ key: 'song:played', id, by, at: hour(9) })));
      const tops: Array<Array<[string, number]>> = [];
      for await (const songs of counters.get('song:played').over(hourrange(sharp(9), sharp(11)))) {
        tops.push(songs.top(5));
      }
      expect(tops).toEqual([
        [
          ['song-b', 9],
          ['song-d', 9],
          ['song-a', 5],
          ['song-e', 3],
          ['song-f', 2],
        ],
        [],
      ]);
    });

    it('defaults to id "all" and by 1, and stringifies numeric ids', async () => {
      await counters.count('signups', undefined, undefined, hour(1));
      await counters.count('signups', undefined, undefined, hour(1));
      await counters.count('plays', 42, 3, hour(1));
      await counters.count('plays', '42', 1, hour(1));
      const signups = await counters.get('signups').sum(dayrange(0, 1, { now: NOW }));
      const plays = await counters.get('plays').sum(dayrange(0, 1, { now: NOW }));
      expect(signups.get('all')).toBe(2);
      expect(plays.get(42)).toBe(4);
      expect(plays.get('nobody')).toBe(0);
      expect(plays.total).toBe(4);
      expect(plays.bucket).toBeNull();
    });

    it('treats __proto__ and constructor as ordinary ids', async () => {
      await counters.countMany([
        { key: 'k', id: '__proto__', at: hour(1) },
        { key: 'k', id: 'constructor', by: 2, at: hour(1) },
      ]);
      const snapshot = await counters.get('k').sum(hourrange(sharp(1), sharp(2)));
      expect(snapshot.get('__proto__')).toBe(1);
      expect(snapshot.get('constructor')).toBe(2);
      expect(Object.entries(snapshot.toJSON().values).sort()).toEqual([
        ['__proto__', 1],
        ['constructor', 2],
      ]);
    });

    it('sums decrements, and hides ids counted back to zero', async () => {
      await counters.countMany([
        { key: 'stock', id: 'a', by: 5, at: hour(1) },
        { key: 'stock', id: 'a', by: -2, at: hour(2) },
        { key: 'stock', id: 'b', by: 1, at: hour(1) },
        { key: 'stock', id: 'b', by: -1, at: hour(1) },
      ]);
      const total = await counters.get('stock').sum(hourrange(sharp(0), sharp(3)));
      expect(Object.fromEntries(total.values)).toEqual({ a: 3 });
    });

    it('range() makes ranges on the instance clock and zone', async () => {
      const paris = new Counters(backend, { now: () => NOW, zone: 'Europe/Paris', prefix: 'paris' });
      await paris.count('v', 'x');
      const today = paris.range('day', 0, 1);
      expect([today.zone, today.start.toISO()]).toEqual(['Europe/Paris', '2026-11-24T00:00:00.000+01:00']);
      expect((await paris.get('v').sum(today)).get('x')).toBe(1);
    });

    it('rolls weeks up from days when only days are stored', async () => {
      const daily = new Counters(backend, { resolutions: ['day'], prefix: 'daily', now: () => NOW });
      await daily.countMany([
        { key: 'v', id: 'x', at: new Date('2026-11-16T10:00Z') },
        { key: 'v', id: 'x', by: 2, at: new Date('2026-11-22T10:00Z') },
        { key: 'v', id: 'y', at: new Date('2026-11-23T10:00Z') },
      ]);
      const weeks = [];
      for await (const s of daily.get('v').over(weekrange('2026-11-16', '2026-11-30'))) {
        weeks.push([s.bucket?.key, Object.fromEntries(s.values)]);
      }
      expect(weeks).toEqual([
        ['2026W47', { x: 3 }],
        ['2026W48', { y: 1 }],
      ]);
      const month = await daily.get('v').sum(monthrange(0, 1, { now: NOW }));
      expect(month.total).toBe(4);
      await expect(daily.get('v').sum(hourrange(-1, 0, { now: NOW }))).rejects.toThrow(
        /recorded resolutions \(day\)/,
      );
    });
  },
  { mock: true },
);

describe('Counters batching and validation', () => {
  it('countMany is one backend write and merges increments per key and id', async () => {
    const backend = new MemoryBackend();
    const write = vi.spyOn(backend, 'write');
    const counters = new Counters(backend, { resolutions: ['day'] });
    await counters.countMany(Array.from({ length: 10_000 }, (_, i) => ({ key: 'k', id: i % 10 })));
    expect(write).toHaveBeenCalledTimes(1);
    const ops = write.mock.calls[0]![0];
    // One increment, plus the catalogue entries of the new key and bucket, in the same write.
    expect(ops.map((op) => op.op)).toEqual(['increment', 'setAdd', 'setAdd']);
  });

  it('coalesces concurrent count() calls', async () => {
    const backend = new MemoryBackend();
    const write = vi.spyOn(backend, 'write');
    const counters = new Counters(backend);
    await Promise.all(Array.from({ length: 500 }, () => counters.count('hits')));
    expect(write.mock.calls.length).toBeLessThanOrEqual(2);
    expect((await counters.get('hits').sum(dayrange(0, 1))).get('all')).toBe(500);
  });

  const bad: Array<[string, (c: Counters) => Promise<unknown> | unknown, string]> = [
    ['empty key', (c) => c.count(''), 'key'],
    ['non-string key', (c) => c.count(7 as never), 'key'],
    ['control character in key', (c) => c.count('a\u0007'), 'key'],
    ['empty id', (c) => c.count('k', ''), 'id'],
    ['NaN id', (c) => c.count('k', Number.NaN), 'id'],
    ['Infinity id', (c) => c.count('k', Number.POSITIVE_INFINITY), 'id'],
    ['object id', (c) => c.count('k', {} as never), 'id'],
    ['fractional by', (c) => c.count('k', 'a', 1.5), 'by'],
    ['NaN by', (c) => c.count('k', 'a', Number.NaN), 'by'],
    ['unsafe by', (c) => c.count('k', 'a', 2 ** 53), 'by'],
    ['string by', (c) => c.count('k', 'a', '1' as never), 'by'],
    ['invalid date', (c) => c.count('k', 'a', 1, new Date('x')), 'at'],
    ['one bad record in a batch', (c) => c.countMany([{ key: 'k' }, { key: 'k', by: 0.5 }]), 'by'],
    ['records not iterable', (c) => c.countMany(null as never), 'records'],
    ['get with empty key', (c) => c.get(''), 'key'],
    ['range in another zone', (c) => c.get('k').sum(dayrange(-1, 0, { zone: 'Europe/Paris' })), 'range'],
  ];
  it.each(bad)('%s is an INVALID_ARGUMENT error and writes nothing', async (_name, call, argument) => {
    const backend = new MemoryBackend();
    const counters = new Counters(backend);
    let error: unknown;
    try {
      await call(counters);
    } catch (e) {
      error = e;
    }
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect((error as InvalidArgumentError).argument).toBe(argument);
    expect(await backend.keys()).toEqual([]);
  });
});
