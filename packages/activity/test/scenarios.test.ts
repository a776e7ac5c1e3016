/** The original library's README, as specifications, on every backend. */
import type { Backend } from '@porpoise/storage';
import { describeEachBackend } from '@porpoise/test-backends';
import { beforeEach, describe, expect, it } from 'vitest';
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

    describe("the original README's scenarios", () => {
      it('three tracks of two ids make one day with 2 ids', async () => {
        const daily = new ActivityTracker(backend, {
          periods: [ActivityTracker.PERIOD_DAILY],
          now: () => new Date('2026-11-23T15:00:00Z'),
        });
        await daily.track({ id: 123 });
        await daily.track({ id: 123 });
        await daily.track({ id: 456 });
        const later = new ActivityTracker(backend, { periods: ['daily'], now: () => NOW });
        await later.collapse();
        const rows = await later.lookupDaily({ start: '2026-11-17', end: '2026-11-24' });
        expect(rows).toEqual([
          { date: '2026-11-17', counts: { all: 0 }, final: false },
          { date: '2026-11-18', counts: { all: 0 }, final: false },
          { date: '2026-11-19', counts: { all: 0 }, final: false },
          { date: '2026-11-20', counts: { all: 0 }, final: false },
          { date: '2026-11-21', counts: { all: 0 }, final: false },
          { date: '2026-11-22', counts: { all: 0 }, final: false },
          { date: '2026-11-23', counts: { all: 2 }, final: true },
        ]);
      });

      it('counts buckets separately', async () => {
        const date = '2026-11-23T10:00:00Z';
        await tracker.track({ id: 'random-session-1', bucket: 'anon', date });
        await tracker.track({ id: 'random-session-2', bucket: 'anon', date });
        await tracker.track({ id: 456, bucket: 'auth', date });
        await tracker.collapse({ buckets: ['anon', 'auth'], periods: ['daily'] });
        const rows = await tracker.lookupDaily({
          start: '2026-11-17',
          end: '2026-11-24',
          buckets: ['anon', 'auth'],
        });
        expect(rows.at(-1)).toEqual({ date: '2026-11-23', counts: { anon: 2, auth: 1 }, final: true });
      });

      it('replaces an anonymous session with the logged-in user', async () => {
        await tracker.track({ id: 'random-session-1', bucket: 'anon' });
        await tracker.track({ id: 'random-session-2', bucket: 'anon' });
        await tracker.track({ id: 123, bucket: 'auth', oldId: 'random-session-2', oldBucket: 'anon' });
        const rows = await tracker.lookupDaily({ start: '2026-11-24', buckets: ['anon', 'auth'] });
        expect(rows).toEqual([{ date: '2026-11-24', counts: { anon: 1, auth: 1 }, final: false }]);
      });

      it('site1/site2 with a total aggregate count 2, 2 and 3', async () => {
        const date = '2026-11-23T09:00:00Z';
        await tracker.track({ id: 'user1@example.com', bucket: 'site1', date });
        await tracker.track({ id: 'jdoe@example.com', bucket: 'site1', date });
        await tracker.track({ id: 'jdoe@example.com', bucket: 'site2', date });
        await tracker.track({ id: 'user2@example.com', bucket: 'site2', date });
        await tracker.collapse({
          buckets: ['site1', 'site2'],
          aggregateBuckets: { total: ['site1', 'site2'] },
        });
        const rows = await tracker.lookupDaily({
          start: '2026-11-23',
          end: '2026-11-24',
          buckets: ['site1', 'site2', 'total'],
        });
        expect(rows).toEqual([{ date: '2026-11-23', counts: { site1: 2, site2: 2, total: 3 }, final: true }]);
      });
    });
  },
  { mock: true },
);
