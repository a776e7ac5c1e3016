import type { Backend } from '@porpoise/storage';
import { describeEachBackend } from '@porpoise/test-backends';
import { beforeEach, describe, expect, it } from 'vitest';
import { ActivityTracker } from '../src/index.js';

const NOW = new Date('2026-11-24T12:00:00Z');
const YESTERDAY = '2026-11-23';

describeEachBackend(
  (make, kind) => {
    let backend: Backend;
    let tracker: ActivityTracker;
    beforeEach(() => {
      backend = make();
      tracker = new ActivityTracker(backend, { periods: ['daily', 'weekly', 'monthly'], now: () => NOW });
      return async () => {
        await backend.close();
      };
    });

    describe("the original README's scenarios", () => {
      it('three tracks of two ids make one day with 2 ids', async () => {
        await tracker.track({ id: 123, date: `${YESTERDAY}T10:00:00Z` });
        await tracker.track({ id: 123, date: `${YESTERDAY}T11:00:00Z` });
        await tracker.track({ id: 456, date: `${YESTERDAY}T12:00:00Z` });
        await tracker.collapse();
        const rows = await tracker.lookupDaily({ start: '2026-11-17', end: '2026-11-24' });
        expect(rows.map((r) => r.date)).toEqual([
          '2026-11-17',
          '2026-11-18',
          '2026-11-19',
          '2026-11-20',
          '2026-11-21',
          '2026-11-22',
          '2026-11-23',
        ]);
        expect(rows.at(-1)).toEqual({ date: YESTERDAY, counts: { all: 2 }, final: true });
        expect(rows[0]).toEqual({ date: '2026-11-17', counts: { all: 0 }, final: false });
      });

      it('site1/site2 with a total aggregate count 2, 2 and 3', async () => {
        const date = `${YESTERDAY}T09:00:00Z`;
        await tracker.track({ id: 'user1@example.com', bucket: 'site1', date });
        await tracker.track({ id: 'jdoe@example.com', bucket: 'site1', date });
        await tracker.track({ id: 'jdoe@example.com', bucket: 'site2', date });
        await tracker.track({ id: 'user2@example.com', bucket: 'site2', date });
        await tracker.collapse({
          buckets: ['site1', 'site2'],
          aggregateBuckets: { total: ['site1', 'site2'] },
        });
        const [row] = await tracker.lookupDaily({
          start: YESTERDAY,
          end: '2026-11-24',
          buckets: ['site1', 'site2', 'total'],
        });
        expect(row).toEqual({ date: YESTERDAY, counts: { site1: 2, site2: 2, total: 3 }, final: true });
      });

      it('replaces an anonymous session with the logged-in user', async () => {
        await tracker.track({ id: 'random-session-1', bucket: 'anon' });
        await tracker.track({ id: 'random-session-2', bucket: 'anon' });
        await tracker.track({ id: 123, bucket: 'auth', oldId: 'random-session-2', oldBucket: 'anon' });
        const [today] = await tracker.lookupDaily({ start: '2026-11-24', buckets: ['anon', 'auth'] });
        expect(today).toEqual({ date: '2026-11-24', counts: { anon: 1, auth: 1 }, final: false });
      });
    });

    it('compares ids as strings: 123 and "123" are one entity', async () => {
      await tracker.track({ id: 123 });
      await tracker.track({ id: '123' });
      const [today] = await tracker.lookupDaily({ start: '2026-11-24' });
      expect(today?.counts.all).toBe(1);
    });

    it('collapses only closed periods, newest first, up to maxPeriods', async () => {
      for (const day of ['2026-11-20', '2026-11-21', '2026-11-22', '2026-11-23', '2026-11-24']) {
        await tracker.track({ id: 'a', date: `${day}T08:00:00Z`, periods: ['daily'] });
      }
      await tracker.collapse({ maxPeriods: 2, periods: ['daily'] });
      const rows = await tracker.lookupDaily({ start: '2026-11-20', end: '2026-11-25' });
      expect(rows.map((r) => [r.date, r.final])).toEqual([
        ['2026-11-20', false],
        ['2026-11-21', false],
        ['2026-11-22', true],
        ['2026-11-23', true],
        ['2026-11-24', false],
      ]);
      expect(rows.map((r) => r.counts.all)).toEqual([1, 1, 1, 1, 1]);
    });

    it('stops at the first period already collapsed', async () => {
      await tracker.track({ id: 'a', date: '2026-11-21T08:00:00Z', periods: ['daily'] });
      await tracker.collapse({ date: '2026-11-22T00:00:00Z', periods: ['daily'] });
      await tracker.track({ id: 'b', date: '2026-11-20T08:00:00Z', periods: ['daily'] });
      await tracker.collapse({ maxPeriods: 10, periods: ['daily'] });
      const rows = await tracker.lookupDaily({ start: '2026-11-20', end: '2026-11-24' });
      expect(rows.map((r) => [r.date, r.counts.all, r.final])).toEqual([
        ['2026-11-20', 1, false],
        ['2026-11-21', 1, true],
        ['2026-11-22', 0, true],
        ['2026-11-23', 0, true],
      ]);
    });

    it('is idempotent, and two concurrent collapses count once', async () => {
      for (const id of ['a', 'b', 'c']) await tracker.track({ id, date: `${YESTERDAY}T08:00:00Z` });
      await Promise.all([tracker.collapse(), tracker.collapse(), tracker.collapse()]);
      await tracker.collapse();
      const [row] = await tracker.lookupDaily({ start: YESTERDAY, end: '2026-11-24' });
      expect(row).toEqual({ date: YESTERDAY, counts: { all: 3 }, final: true });
    });

    it('loses nothing when a collapse fails before it is applied, and a re-run counts right', async () => {
      for (const id of ['a', 'b']) await tracker.track({ id, date: `${YESTERDAY}T08:00:00Z` });
      const failing: Backend = {
        ...backend,
        name: backend.name,
        read: (ops) => backend.read(ops),
        write: async () => {
          throw new Error('connection lost');
        },
        supports: (f) => backend.supports(f),
        keys: () => backend.keys(),
        close: async () => {},
      };
      const broken = new ActivityTracker(failing, {
        periods: ['daily', 'weekly', 'monthly'],
        now: () => NOW,
      });
      await expect(broken.collapse()).rejects.toThrow(/connection lost/);
      const [live] = await tracker.lookupDaily({ start: YESTERDAY, end: '2026-11-24' });
      expect(live).toEqual({ date: YESTERDAY, counts: { all: 2 }, final: false });
      await tracker.collapse();
      const [row] = await tracker.lookupDaily({ start: YESTERDAY, end: '2026-11-24' });
      expect(row).toEqual({ date: YESTERDAY, counts: { all: 2 }, final: true });
    });

    it('weekly and monthly periods start on their first day', async () => {
      await tracker.track({ id: 'a', date: '2026-11-10T08:00:00Z' });
      await tracker.track({ id: 'b', date: '2026-11-12T08:00:00Z' });
      await tracker.collapse({ periods: ['weekly'], date: '2026-11-17T00:00:00Z' });
      const weeks = await tracker.lookupWeekly({ start: '2026-11-09', end: '2026-11-16' });
      expect(weeks).toEqual([{ date: '2026-11-09', counts: { all: 2 }, final: true }]);
      const months = await tracker.lookupMonthly({ start: '2026-11-01' });
      expect(months).toEqual([{ date: '2026-11-01', counts: { all: 2 }, final: false }]);
    });

    it('reports live aggregates for open periods when asked', async () => {
      await tracker.track({ id: 'x', bucket: 'web' });
      await tracker.track({ id: 'x', bucket: 'ios' });
      await tracker.track({ id: 'y', bucket: 'ios' });
      const [today] = await tracker.lookupDaily({
        start: '2026-11-24',
        buckets: ['web', 'ios', 'total'],
        aggregateBuckets: { total: ['web', 'ios'] },
      });
      expect(today?.counts).toEqual({ web: 1, ios: 2, total: 2 });
    });

    it('computes periods in the tracker zone', async () => {
      const tokyo = new ActivityTracker(backend, { zone: 'Asia/Tokyo', prefix: 'tokyo', now: () => NOW });
      await tokyo.track({ id: 'a', date: new Date('2026-11-23T16:00:00Z') });
      const rows = await tokyo.lookupDaily({ start: '2026-11-24', end: '2026-11-25' });
      expect(rows).toEqual([{ date: '2026-11-24', counts: { all: 1 }, final: false }]);
    });

    it.skipIf(kind === 'ioredis-mock')(
      'approximate mode stays within 3% on 100k ids, aggregates by merge',
      async () => {
        const approx = new ActivityTracker(backend, {
          mode: 'approximate',
          prefix: 'approx',
          now: () => NOW,
        });
        const date = `${YESTERDAY}T10:00:00Z`;
        const ids = Array.from({ length: 100_000 }, (_, i) => `user-${i}`);
        for (let i = 0; i < ids.length; i += 5000) {
          await Promise.all(
            ids
              .slice(i, i + 5000)
              .map((id, j) => approx.track({ id, bucket: j % 2 === 0 ? 'web' : 'ios', date })),
          );
        }
        await approx.track({ id: 'user-1', bucket: 'web', date });
        await approx.collapse({ buckets: ['web', 'ios'], aggregateBuckets: { total: ['web', 'ios'] } });
        const [row] = await approx.lookupDaily({
          start: YESTERDAY,
          end: '2026-11-24',
          buckets: ['web', 'ios', 'total'],
        });
        const error = Math.abs(row!.counts.total! - 100_000) / 100_000;
        console.log(
          `approximate mode on ${kind}: total ${row!.counts.total} for 100000 ids, error ${(error * 100).toFixed(3)}%`,
        );
        expect(error).toBeLessThan(0.03);
        expect(Math.abs(row!.counts.web! - 50_001) / 50_001).toBeLessThan(0.03);
        expect(row?.final).toBe(true);
      },
    );
  },
  { mock: true },
);

describe('trackMany', () => {
  it('tracks a batch in one write, merging ids per period and bucket', async () => {
    const { MemoryBackend } = await import('@porpoise/storage');
    const backend = new MemoryBackend();
    const { vi } = await import('vitest');
    const write = vi.spyOn(backend, 'write');
    const tracker = new ActivityTracker(backend, { periods: ['daily', 'monthly'], now: () => NOW });
    await tracker.trackMany([
      { id: 1, bucket: 'web' },
      { id: 2, bucket: 'web' },
      { id: 1, bucket: 'ios' },
      { id: '1', bucket: 'web' },
    ]);
    expect(write).toHaveBeenCalledTimes(1);
    const [today] = await tracker.lookupDaily({ start: '2026-11-24', buckets: ['web', 'ios'] });
    expect(today?.counts).toEqual({ web: 2, ios: 1 });
  });

  it('validates the whole batch before writing', async () => {
    const { MemoryBackend } = await import('@porpoise/storage');
    const backend = new MemoryBackend();
    const tracker = new ActivityTracker(backend);
    await expect(tracker.trackMany([{ id: 1 }, { id: '' }])).rejects.toThrow(/"id"/);
    expect(await backend.keys()).toEqual([]);
  });
});
