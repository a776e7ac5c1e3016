import type { Backend } from '@porpoise/storage';
import { describeEachBackend } from '@porpoise/test-backends';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ActivityTracker } from '../src/index.js';
import { NOW, trackerOn } from './support.js';

describeEachBackend(
  (make) => {
    let backend: Backend;
    let tracker: ActivityTracker;
    beforeEach(() => {
      backend = make();
      tracker = trackerOn(backend);
      return () => backend.close();
    });

    describe('lookup', () => {
      it('reports final, live and empty periods, oldest first', async () => {
        await tracker.track({ id: 'a', date: '2026-11-22T10:00:00Z' });
        await tracker.track({ id: 'b', date: '2026-11-22T10:00:00Z' });
        await tracker.track({ id: 'c', date: '2026-11-21T10:00:00Z' });
        await tracker.track({ id: 'd' });
        await tracker.collapse({ date: '2026-11-23', periods: ['daily'] });
        expect(await tracker.lookupDaily({ start: '2026-11-20', end: '2026-11-25' })).toEqual([
          { date: '2026-11-20', counts: { all: 0 }, final: false },
          { date: '2026-11-21', counts: { all: 1 }, final: false },
          { date: '2026-11-22', counts: { all: 2 }, final: true },
          { date: '2026-11-23', counts: { all: 0 }, final: false },
          { date: '2026-11-24', counts: { all: 1 }, final: false },
        ]);
      });

      it('reads the whole lookup in one backend call once its buckets are known', async () => {
        await tracker.trackMany([
          { id: 'a', bucket: 'web' },
          { id: 'b', bucket: 'ios' },
        ]);
        const read = vi.spyOn(backend, 'read');
        const rows = await tracker.lookupDaily({ buckets: ['web', 'ios'] });
        expect(rows).toHaveLength(365);
        expect(read).toHaveBeenCalledTimes(1);
      });

      it('covers the 365 days before now, including the open day, by default', async () => {
        const rows = await tracker.lookupDaily();
        expect([rows.length, rows[0]?.date, rows.at(-1)?.date]).toEqual([365, '2025-11-25', '2026-11-24']);
      });

      it('holds every period whose start lies in [start, end)', async () => {
        const weeks = await tracker.lookupWeekly({ start: '2026-11-10', end: '2026-11-23' });
        const months = await tracker.lookupMonthly({ start: '2026-09-15', end: '2026-11-01T00:00:01Z' });
        expect(weeks.map((w) => w.date)).toEqual(['2026-11-16']);
        expect(months.map((m) => m.date)).toEqual(['2026-10-01', '2026-11-01']);
      });

      it('is empty for an empty interval', async () => {
        expect(await tracker.lookupDaily({ start: '2026-11-20', end: '2026-11-20' })).toEqual([]);
        expect(
          await tracker.lookupDaily({ start: '2026-11-20T06:00:00Z', end: '2026-11-20T18:00:00Z' }),
        ).toEqual([]);
      });

      it('computes aggregates live for periods not collapsed, when given them', async () => {
        await tracker.track({ id: 'x', bucket: 'web' });
        await tracker.track({ id: 'x', bucket: 'ios' });
        await tracker.track({ id: 'y', bucket: 'ios' });
        const rows = await tracker.lookupDaily({
          start: '2026-11-24',
          buckets: ['web', 'ios'],
          aggregateBuckets: { total: ['web', 'ios'] },
        });
        expect(rows).toEqual([{ date: '2026-11-24', counts: { web: 1, ios: 2, total: 2 }, final: false }]);
      });

      it('knows, for live periods too, the aggregates a collapse was given', async () => {
        const date = '2026-11-23T10:00:00Z';
        await tracker.track({ id: 'x', bucket: 'web', date });
        await tracker.track({ id: 'y', bucket: 'ios', date });
        await tracker.track({ id: 'x', bucket: 'web' });
        await tracker.track({ id: 'z', bucket: 'ios' });
        await tracker.collapse({ buckets: ['web', 'ios'], aggregateBuckets: { total: ['web', 'ios'] } });
        const rows = await tracker.lookupDaily({ start: '2026-11-23', buckets: ['total'] });
        expect(rows).toEqual([
          { date: '2026-11-23', counts: { total: 2 }, final: true },
          { date: '2026-11-24', counts: { total: 2 }, final: false },
        ]);
      });

      it('knows the aggregates another process collapsed with (they are kept in the backend)', async () => {
        await tracker.track({ id: 'x', bucket: 'web' });
        await tracker.track({ id: 'y', bucket: 'ios' });
        await tracker.collapse({ buckets: ['web', 'ios'], aggregateBuckets: { total: ['web', 'ios'] } });
        const other = trackerOn(backend);
        const [today] = await other.lookupDaily({ start: '2026-11-24', buckets: ['web', 'total'] });
        expect(today).toEqual({ date: '2026-11-24', counts: { web: 1, total: 2 }, final: false });
      });

      it('refuses a bucket never tracked, naming the known ones', async () => {
        await tracker.track({ id: 'x', bucket: 'web' });
        await expect(tracker.lookupDaily({ buckets: ['wbe'] })).rejects.toThrow(
          'Invalid argument "buckets" ("wbe"): is not a bucket this tracker has seen tracked nor an aggregate it collapsed with (known buckets: web); pass allowUnknownBuckets: true to read unknown buckets as 0',
        );
      });

      it('refuses an aggregate member never tracked', async () => {
        await tracker.track({ id: 'x', bucket: 'web' });
        await expect(
          tracker.lookupDaily({ buckets: ['web'], aggregateBuckets: { total: ['web', 'iso'] } }),
        ).rejects.toThrow(/"aggregateBuckets" \("iso"\): is not a bucket this tracker has seen tracked/);
      });

      it('knows the buckets another process tracked', async () => {
        await trackerOn(backend).track({ id: 'x', bucket: 'web', date: '2026-01-01T00:00:00Z' });
        const [today] = await tracker.lookupDaily({ start: '2026-11-24', buckets: ['web'] });
        expect(today?.counts).toEqual({ web: 0 });
      });

      it('reads unknown buckets as 0 with allowUnknownBuckets', async () => {
        const [today] = await tracker.lookupDaily({
          start: '2026-11-24',
          buckets: ['wbe'],
          allowUnknownBuckets: true,
        });
        expect(today?.counts).toEqual({ wbe: 0 });
      });

      it('reads the default bucket as 0 before anything was tracked', async () => {
        const [today] = await tracker.lookupDaily({ start: '2026-11-24' });
        expect(today?.counts).toEqual({ all: 0 });
      });

      it('refuses an aggregate named like a tracked bucket, as collapse does', async () => {
        await tracker.track({ id: 'x', bucket: 'web' });
        await tracker.track({ id: 'y', bucket: 'ios' });
        const message = /"aggregateBuckets" \("web"\): is the name of a tracked bucket/;
        await expect(
          tracker.lookupDaily({ buckets: ['web'], aggregateBuckets: { web: ['ios'] } }),
        ).rejects.toThrow(message);
        await expect(
          tracker.collapse({ buckets: ['ios'], aggregateBuckets: { web: ['ios'] } }),
        ).rejects.toThrow(message);
      });

      it('keeps bucket names that are Object.prototype members as ordinary entries', async () => {
        await tracker.track({ id: 'a', bucket: '__proto__' });
        await tracker.track({ id: 'a', bucket: 'constructor' });
        const [row] = await tracker.lookupDaily({
          start: '2026-11-24',
          buckets: ['__proto__', 'constructor'],
        });
        expect(Object.entries(row?.counts ?? {})).toEqual([
          ['__proto__', 1],
          ['constructor', 1],
        ]);
      });
    });

    describe('periods in a time zone', () => {
      it('start days in the tracker zone', async () => {
        const tokyo = new ActivityTracker(backend, { zone: 'Asia/Tokyo', prefix: 'tokyo', now: () => NOW });
        await tokyo.track({ id: 'a', date: new Date('2026-11-23T16:00:00Z') });
        await tokyo.track({ id: 'b', date: '2026-11-24T08:59:59+09:00' });
        expect(await tokyo.lookupDaily({ start: '2026-11-24', end: '2026-11-25' })).toEqual([
          { date: '2026-11-24', counts: { all: 2 }, final: false },
        ]);
      });

      it('give the 25-hour day of a DST change all its hours', async () => {
        const york = new ActivityTracker(backend, {
          zone: 'America/New_York',
          prefix: 'york',
          now: () => new Date('2026-11-03T12:00:00Z'),
        });
        await york.track({ id: 'first-hour', date: '2026-11-01T04:30:00Z' }); // 00:30 EDT
        await york.track({ id: 'last-hour', date: '2026-11-02T04:30:00Z' }); // 23:30 EST
        await york.track({ id: 'next-day', date: '2026-11-02T05:30:00Z' }); // 00:30 EST
        await york.collapse({ maxPeriods: 2 });
        expect(await york.lookupDaily({ start: '2026-11-01', end: '2026-11-03' })).toEqual([
          { date: '2026-11-01', counts: { all: 2 }, final: true },
          { date: '2026-11-02', counts: { all: 1 }, final: true },
        ]);
      });

      it('start ISO weeks on Monday in the tracker zone, across the ISO week-year', async () => {
        const berlin = new ActivityTracker(backend, {
          zone: 'Europe/Berlin',
          prefix: 'berlin',
          periods: ['weekly', 'monthly'],
          now: () => new Date('2027-01-06T12:00:00Z'),
        });
        await berlin.track({ id: 'a', date: '2026-12-27T23:30:00Z' }); // Monday 28 Dec, 00:30 in Berlin
        await berlin.track({ id: 'b', date: '2027-01-01T12:00:00Z' }); // Friday, still 2026W53
        await berlin.track({ id: 'c', date: '2027-01-04T12:00:00Z' }); // 2027W01
        await berlin.collapseWeekly();
        expect(await berlin.lookupWeekly({ start: '2026-12-21' })).toEqual([
          { date: '2026-12-21', counts: { all: 0 }, final: false },
          { date: '2026-12-28', counts: { all: 2 }, final: true },
          { date: '2027-01-04', counts: { all: 1 }, final: false },
        ]);
        expect(await berlin.lookupMonthly({ start: '2026-12-01' })).toEqual([
          { date: '2026-12-01', counts: { all: 1 }, final: false },
          { date: '2027-01-01', counts: { all: 2 }, final: false },
        ]);
        expect((await backend.keys()).filter((k) => k.startsWith('berlin:')).sort()).toEqual([
          'berlin:buckets:catalogue',
          'berlin:done:w2026W53',
          'berlin:first:m:catalogue',
          'berlin:first:w:catalogue',
          'berlin:n:all:w2026W53',
          'berlin:raw:all:m202612',
          'berlin:raw:all:m202701',
          'berlin:raw:all:w2027W01',
        ]);
      });
    });
  },
  { mock: true },
);
