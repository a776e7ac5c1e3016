import type { Backend } from '@porpoise/storage';
import { describeEachBackend } from '@porpoise/test-backends';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ActivityTracker } from '../src/index.js';
import { NOW, RecordingBackend, trackerOn } from './support.js';

/** 'YYYY-MM-DD' of the day `n` days after 2026-11-24 (negative: before). */
const day = (n: number) => new Date(Date.UTC(2026, 10, 24 + n)).toISOString().slice(0, 10);

describeEachBackend(
  (make) => {
    let backend: Backend;
    let tracker: ActivityTracker;
    beforeEach(() => {
      backend = make();
      tracker = trackerOn(backend);
      return () => backend.close();
    });

    const finality = async (from: number, to: number) =>
      (await tracker.lookupDaily({ start: day(from), end: day(to) })).map((r) => [
        r.date,
        r.counts.all,
        r.final,
      ]);

    describe('collapse', () => {
      it('collapses the latest closed period by default, never the open one', async () => {
        await tracker.track({ id: 'a', date: `${day(-2)}T08:00:00Z`, periods: ['daily'] });
        await tracker.track({ id: 'a', date: `${day(-1)}T08:00:00Z`, periods: ['daily'] });
        await tracker.track({ id: 'a', periods: ['daily'] });
        await tracker.collapseDaily();
        expect(await finality(-2, 1)).toEqual([
          [day(-2), 1, false],
          [day(-1), 1, true],
          [day(0), 1, false],
        ]);
      });

      it('collapses at most maxPeriods, newest first', async () => {
        for (const n of [-5, -4, -3, -2, -1, 0]) {
          await tracker.track({ id: 'a', date: `${day(n)}T08:00:00Z`, periods: ['daily'] });
        }
        await tracker.collapse({ maxPeriods: 2, periods: ['daily'] });
        expect(await finality(-5, 1)).toEqual([
          [day(-5), 1, false],
          [day(-4), 1, false],
          [day(-3), 1, false],
          [day(-2), 1, true],
          [day(-1), 1, true],
          [day(0), 1, false],
        ]);
      });

      it('stops at the first period already collapsed', async () => {
        await tracker.track({ id: 'a', date: `${day(-3)}T08:00:00Z`, periods: ['daily'] });
        await tracker.track({ id: 'b', date: `${day(-4)}T08:00:00Z`, periods: ['daily'] });
        await tracker.collapse({ date: day(-2), periods: ['daily'] });
        await tracker.collapse({ maxPeriods: 10, periods: ['daily'] });
        expect(await finality(-4, 0)).toEqual([
          [day(-4), 1, false],
          [day(-3), 1, true],
          [day(-2), 0, true],
          [day(-1), 0, true],
        ]);
      });

      it('walks back further than one page of markers', async () => {
        await tracker.trackMany(
          Array.from({ length: 100 }, (_, i) => ({
            id: 'a',
            date: `${day(-1 - i)}T08:00:00Z`,
            periods: ['daily' as const],
          })),
        );
        await tracker.collapse({ date: day(-69), periods: ['daily'] });
        await tracker.collapse({ maxPeriods: 100, periods: ['daily'] });
        const rows = await tracker.lookupDaily({ start: day(-100), end: day(0) });
        expect(rows.filter((r) => r.final).map((r) => r.date)).toEqual([
          day(-70),
          ...Array.from({ length: 69 }, (_, i) => day(-69 + i)),
        ]);
        expect(rows.every((r) => r.counts.all === 1)).toBe(true);
      });

      it('is idempotent', async () => {
        for (const id of ['a', 'b', 'c']) await tracker.track({ id, date: `${day(-1)}T08:00:00Z` });
        await tracker.collapse();
        const keys = await backend.keys();
        await tracker.collapse();
        await tracker.collapse({ maxPeriods: 5 });
        expect(await backend.keys()).toEqual(keys);
        expect(await finality(-1, 0)).toEqual([[day(-1), 3, true]]);
      });

      it('replaces raw ids with counts and a marker, all in the period group', async () => {
        await tracker.track({ id: 'a', bucket: 'web', date: `${day(-1)}T08:00:00Z`, periods: ['daily'] });
        await tracker.track({ id: 'b', bucket: 'web', periods: ['daily'] });
        await tracker.collapse({
          buckets: ['web'],
          aggregateBuckets: { total: ['web'] },
          periods: ['daily'],
        });
        expect(await backend.keys()).toEqual([
          'activity:aggregate:total:catalogue',
          'activity:aggregates:catalogue',
          'activity:buckets:catalogue',
          'activity:done:d20261123',
          'activity:first:d:catalogue',
          'activity:n:total:d20261123',
          'activity:n:web:d20261123',
          'activity:raw:web:d20261124',
        ]);
      });

      it('collapses weeks (ISO, Monday) and months', async () => {
        tracker = trackerOn(backend, { now: () => new Date('2026-12-02T00:00:00Z') });
        await tracker.track({ id: 'a', date: '2026-11-16T08:00:00Z' });
        await tracker.track({ id: 'b', date: '2026-11-22T23:00:00Z' });
        await tracker.track({ id: 'c', date: '2026-11-23T01:00:00Z' });
        await tracker.collapse({ periods: ['weekly', 'monthly'], date: '2026-12-02' });
        expect(await tracker.lookupWeekly({ start: '2026-11-16', end: '2026-12-01' })).toEqual([
          { date: '2026-11-16', counts: { all: 2 }, final: false },
          { date: '2026-11-23', counts: { all: 1 }, final: true },
          { date: '2026-11-30', counts: { all: 0 }, final: false },
        ]);
        expect(await tracker.lookupMonthly({ start: '2026-11-01', end: '2026-12-02' })).toEqual([
          { date: '2026-11-01', counts: { all: 3 }, final: true },
          { date: '2026-12-01', counts: { all: 0 }, final: false },
        ]);
      });

      it('returns the periods it finalised with the counts it stored, oldest first', async () => {
        await tracker.trackMany([
          { id: 'a', bucket: 'web', date: `${day(-2)}T08:00:00Z`, periods: ['daily'] },
          { id: 'a', bucket: 'web', date: `${day(-1)}T08:00:00Z`, periods: ['daily'] },
          { id: 'b', bucket: 'ios', date: `${day(-1)}T08:00:00Z`, periods: ['daily'] },
        ]);
        const result = await tracker.collapse({
          maxPeriods: 2,
          periods: ['daily'],
          buckets: ['web', 'ios'],
          aggregateBuckets: { total: ['web', 'ios'] },
        });
        expect(result).toEqual({
          periods: [
            { period: 'daily', date: day(-2), counts: { web: 1, ios: 0, total: 1 } },
            { period: 'daily', date: day(-1), counts: { web: 1, ios: 1, total: 2 } },
          ],
        });
      });

      it('starts from the first period ever tracked, not maxPeriods back', async () => {
        await tracker.track({ id: 'a', date: `${day(-3)}T08:00:00Z`, periods: ['daily', 'monthly'] });
        const result = await tracker.collapse({ maxPeriods: 60, periods: ['daily', 'monthly'] });
        expect(result.periods.map((p) => [p.period, p.date, p.counts.all])).toEqual([
          ['daily', day(-3), 1],
          ['daily', day(-2), 0],
          ['daily', day(-1), 0],
        ]);
        expect((await backend.keys()).filter((k) => k.includes(':done:'))).toEqual([
          'activity:done:d20261121',
          'activity:done:d20261122',
          'activity:done:d20261123',
        ]);
      });

      it('knows the first period another process tracked, and earlier backfills', async () => {
        await trackerOn(backend).track({ id: 'a', date: `${day(-2)}T08:00:00Z`, periods: ['daily'] });
        await trackerOn(backend).track({ id: 'b', date: `${day(-4)}T08:00:00Z`, periods: ['daily'] });
        const result = await tracker.collapse({ maxPeriods: 60, periods: ['daily'] });
        expect(result.periods.map((p) => p.date)).toEqual([day(-4), day(-3), day(-2), day(-1)]);
      });

      it('returns no periods when there is nothing left to collapse', async () => {
        await tracker.track({ id: 'a', date: `${day(-1)}T08:00:00Z`, periods: ['daily'] });
        await tracker.collapseDaily();
        expect(await tracker.collapseDaily()).toEqual({ periods: [] });
      });

      it('refuses a date after now, before anything is written', async () => {
        await tracker.track({ id: 'a', periods: ['daily'] });
        const before = await backend.keys();
        await expect(tracker.collapse({ date: '2026-11-25T00:00:00Z', periods: ['daily'] })).rejects.toThrow(
          /Invalid argument "date" \("2026-11-25T00:00:00Z"\): is after now \(2026-11-24T12:00:00.000Z\)/,
        );
        expect(await backend.keys()).toEqual(before);
      });

      it('never finalises the open day, week or month, even with date = now', async () => {
        await tracker.track({ id: 'a' });
        await tracker.collapse({ date: NOW, maxPeriods: 3 });
        const rows = await Promise.all([
          tracker.lookupDaily({ start: '2026-11-24' }),
          tracker.lookupWeekly({ start: '2026-11-23' }),
          tracker.lookupMonthly({ start: '2026-11-01' }),
        ]);
        expect(rows.flat().map((r) => [r.date, r.counts.all, r.final])).toEqual([
          ['2026-11-24', 1, false],
          ['2026-11-23', 1, false],
          ['2026-11-01', 1, false],
        ]);
      });

      it('reports progress after each applied period, over every period type of the call', async () => {
        for (const n of [-3, -2, -1]) await tracker.track({ id: 'a', date: `${day(n)}T08:00:00Z` });
        await tracker.collapse({ date: day(-2), periods: ['daily'] });
        const calls: Array<[number, number]> = [];
        await tracker.collapse({
          maxPeriods: 3,
          periods: ['daily', 'monthly'],
          onProgress: (done, total) => calls.push([done, total]),
        });
        // Daily: the 23rd and 22nd, stopping at the 21st (already collapsed); monthly: none,
        // as the first month tracked (November) is still open.
        expect(calls).toEqual([
          [1, 2],
          [2, 2],
        ]);
      });

      it('calls onProgress once each period is stored, oldest first', async () => {
        for (const n of [-3, -2, -1]) {
          await tracker.track({ id: 'a', date: `${day(n)}T08:00:00Z`, periods: ['daily'] });
        }
        const recording = new RecordingBackend(backend);
        const stored: string[][] = [];
        await trackerOn(recording).collapse({
          maxPeriods: 3,
          periods: ['daily'],
          onProgress: () => stored.push(recording.guarded.map((g) => g.marker)),
        });
        const markers = ['d20261121', 'd20261122', 'd20261123'].map((g) => `activity:done:${g}`);
        expect(stored).toEqual([markers.slice(0, 1), markers.slice(0, 2), markers]);
      });

      it('never calls onProgress when nothing is pending, and rejects a non-function', async () => {
        const calls: number[] = [];
        await tracker.collapse({ periods: ['daily'], onProgress: (done) => calls.push(done) });
        await tracker.collapse({ periods: ['daily'], onProgress: (done) => calls.push(done) });
        expect(calls).toEqual([1]);
        await expect(tracker.collapse({ onProgress: 'bar' as unknown as () => void })).rejects.toThrow(
          /onProgress/,
        );
      });
    });

    describe('aggregate buckets', () => {
      beforeEach(async () => {
        const date = `${day(-1)}T08:00:00Z`;
        await tracker.trackMany([
          { id: 'a', bucket: 'web', date },
          { id: 'b', bucket: 'web', date },
          { id: 'b', bucket: 'ios', date },
          { id: 'c', bucket: 'ios', date },
          { id: 'c', bucket: 'android', date },
          { id: 'd', bucket: 'android', date },
        ]);
      });

      it('count the exact union of their buckets, not the sum', async () => {
        await tracker.collapse({
          buckets: ['web', 'ios', 'android'],
          aggregateBuckets: {
            total: ['web', 'ios', 'android'],
            mobile: ['ios', 'android'],
            webOnly: ['web'],
          },
        });
        const [row] = await tracker.lookupDaily({
          start: day(-1),
          end: day(0),
          buckets: ['web', 'ios', 'android', 'total', 'mobile', 'webOnly'],
        });
        expect(row).toEqual({
          date: day(-1),
          counts: { web: 2, ios: 2, android: 2, total: 4, mobile: 3, webOnly: 2 },
          final: true,
        });
      });

      it('collapse their member buckets too, even when not listed', async () => {
        await tracker.collapse({ buckets: ['web'], aggregateBuckets: { mobile: ['ios', 'android'] } });
        const [row] = await tracker.lookupDaily({
          start: day(-1),
          end: day(0),
          buckets: ['web', 'ios', 'android', 'mobile'],
        });
        expect(row).toEqual({
          date: day(-1),
          counts: { web: 2, ios: 2, android: 2, mobile: 3 },
          final: true,
        });
        expect((await backend.keys()).filter((k) => k.includes(':raw:') && k.endsWith(':d20261123'))).toEqual(
          [],
        );
      });

      it('leave the raw ids of buckets outside the collapse, which look up live', async () => {
        await tracker.collapse({ buckets: ['web'] });
        const [row] = await tracker.lookupDaily({ start: day(-1), end: day(0), buckets: ['web', 'ios'] });
        expect(row).toEqual({ date: day(-1), counts: { web: 2, ios: 2 }, final: true });
        expect((await backend.keys()).filter((k) => k.includes(':raw:') && k.endsWith(':d20261123'))).toEqual(
          ['activity:raw:android:d20261123', 'activity:raw:ios:d20261123'],
        );
      });
    });

    describe('activity tracked into a collapsed period', () => {
      it('is kept raw but does not change the final counts', async () => {
        await tracker.track({ id: 'a', date: `${day(-1)}T08:00:00Z`, periods: ['daily'] });
        await tracker.collapse({ periods: ['daily'] });
        await tracker.track({ id: 'late', date: `${day(-1)}T09:00:00Z`, periods: ['daily'] });
        await tracker.collapse({ periods: ['daily'] });
        expect(await finality(-1, 0)).toEqual([[day(-1), 1, true]]);
        expect(await backend.keys()).toEqual([
          'activity:buckets:catalogue',
          'activity:done:d20261123',
          'activity:first:d:catalogue',
          'activity:n:all:d20261123',
          'activity:raw:all:d20261123',
        ]);
      });
    });
  },
  { mock: true },
);
