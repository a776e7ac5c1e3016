import type { Backend, WriteOp, WriteOptions } from '@porpoise/storage';
import { describeEachBackend } from '@porpoise/test-backends';
import { DateTime } from 'luxon';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { ActivityTracker } from '../src/index.js';
import { FaultyBackend, trackerOn } from './support.js';

describeEachBackend(
  (make) => {
    let backend: Backend;
    let tracker: ActivityTracker;
    beforeEach(() => {
      backend = make();
      tracker = trackerOn(backend);
      return () => backend.close();
    });

    const today = async (buckets = ['all']) =>
      (await tracker.lookupDaily({ start: '2026-11-24', buckets }))[0]?.counts;

    describe('track', () => {
      it('records into the default bucket "all"', async () => {
        await tracker.track({ id: 'a' });
        expect(await today()).toEqual({ all: 1 });
      });

      it('compares ids as strings: 123 and "123" are one entity', async () => {
        await tracker.track({ id: 123 });
        await tracker.track({ id: '123' });
        await tracker.track({ id: -7 });
        await tracker.track({ id: '-7' });
        expect(await today()).toEqual({ all: 2 });
      });

      it('takes fractional and unsafe ids as strings only', async () => {
        await expect(tracker.track({ id: 1.5 })).rejects.toThrow(/must be a safe integer/);
        await expect(tracker.track({ id: 2 ** 53 + 1 })).rejects.toThrow(/must be a safe integer/);
        await tracker.track({ id: '1.5' });
        await tracker.track({ id: '9007199254740993' });
        expect(await today()).toEqual({ all: 2 });
      });

      it('records into every configured period by default', async () => {
        await tracker.track({ id: 'a', bucket: 'web' });
        expect(await backend.keys()).toEqual([
          'activity:buckets:catalogue',
          'activity:first:d:catalogue',
          'activity:first:m:catalogue',
          'activity:first:w:catalogue',
          'activity:raw:web:d20261124',
          'activity:raw:web:m202611',
          'activity:raw:web:w2026W48',
        ]);
      });

      it('plain calls of one tick share one write; a bad one fails alone', async () => {
        const write = vi.spyOn(backend, 'write');
        const buckets = ['web', 'ios', 'android'];
        const calls = Array.from({ length: 1_000 }, (_, i) =>
          tracker.track({ id: i % 700, bucket: buckets[i % 3] }),
        );
        const bad = expect(tracker.track({ id: '\ud800', bucket: 'web' })).rejects.toThrow(/surrogate/);
        await Promise.all(calls);
        await bad;
        expect(write).toHaveBeenCalledTimes(1);
        const expected = Object.fromEntries(
          buckets.map((bucket, b) => [
            bucket,
            new Set(
              Array.from({ length: 1_000 }, (_, i) => i)
                .filter((i) => i % 3 === b)
                .map((i) => i % 700),
            ).size,
          ]),
        );
        expect(await today(buckets)).toEqual(expected);
      });

      it('a batch the backend refuses fails every call of it and records nothing', async () => {
        const faulty = trackerOn(new FaultyBackend(backend, { when: 'before' }));
        const results = await Promise.allSettled([faulty.track({ id: 'a' }), faulty.track({ id: 'b' })]);
        expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
        expect(await backend.keys()).toEqual([]);
      });

      it('adds a new bucket to the catalogue once per process, in the write of its first activity', async () => {
        const write = vi.spyOn(backend, 'write');
        await tracker.track({ id: 'a', bucket: 'web' });
        await tracker.track({ id: 'b', bucket: 'web' });
        const calls = write.mock.calls as Array<[readonly WriteOp[], WriteOptions?]>;
        expect(calls.map(([ops]) => ops.map((o) => ('key' in o ? o.key : o.op)))).toEqual([
          [
            'activity:buckets:catalogue',
            'activity:first:d:catalogue',
            'activity:first:w:catalogue',
            'activity:first:m:catalogue',
            'activity:raw:web:d20261124',
            'activity:raw:web:w2026W48',
            'activity:raw:web:m202611',
          ],
          ['activity:raw:web:d20261124', 'activity:raw:web:w2026W48', 'activity:raw:web:m202611'],
        ]);
      });

      it('records into the chosen periods only', async () => {
        await tracker.track({ id: 'a', periods: ['weekly'] });
        await tracker.trackMonthly({ id: 'b' });
        await tracker.trackDaily({ id: 'c' });
        await tracker.trackWeekly({ id: 'd' });
        const [week] = await tracker.lookupWeekly({ start: '2026-11-23' });
        const [month] = await tracker.lookupMonthly({ start: '2026-11-01' });
        expect([await today(), week?.counts, month?.counts]).toEqual([{ all: 1 }, { all: 2 }, { all: 1 }]);
      });

      it('accepts a Date, a luxon DateTime, an ISO string or epoch milliseconds as the date', async () => {
        await tracker.track({ id: 'date', date: new Date('2026-11-20T10:00:00Z') });
        await tracker.track({ id: 'luxon', date: DateTime.fromISO('2026-11-20T10:00:00Z') });
        await tracker.track({ id: 'iso', date: '2026-11-20' });
        await tracker.track({ id: 'ms', date: Date.UTC(2026, 10, 20, 23, 59) });
        const [row] = await tracker.lookupDaily({ start: '2026-11-20', end: '2026-11-21' });
        expect(row?.counts).toEqual({ all: 4 });
      });

      it('keeps bucket names with separators and unicode apart', async () => {
        await tracker.track({ id: 'a', bucket: 'a:b' });
        await tracker.track({ id: 'b', bucket: 'a' });
        await tracker.track({ id: 'c', bucket: 'b' });
        await tracker.track({ id: 'd', bucket: 'é {x}' });
        expect(await today(['a:b', 'a', 'b', 'é {x}'])).toEqual({ 'a:b': 1, a: 1, b: 1, 'é {x}': 1 });
      });
    });

    describe('replacement (oldId, oldBucket)', () => {
      it('moves an id to another bucket with oldBucket alone', async () => {
        await tracker.track({ id: 'u1', bucket: 'trial' });
        await tracker.track({ id: 'u1', bucket: 'paid', oldBucket: 'trial' });
        expect(await today(['trial', 'paid'])).toEqual({ trial: 0, paid: 1 });
      });

      it('renames an id inside its bucket with oldId alone', async () => {
        await tracker.track({ id: 'session-1' });
        await tracker.track({ id: 'session-2' });
        await tracker.track({ id: 'user-9', oldId: 'session-1' });
        await tracker.track({ id: 'user-9', oldId: 'session-2' });
        expect(await today()).toEqual({ all: 1 });
      });

      it('adds the new id even when the old one was never tracked', async () => {
        await tracker.track({ id: 'user-9', bucket: 'auth', oldId: 'never-seen', oldBucket: 'anon' });
        expect(await today(['anon', 'auth'])).toEqual({ anon: 0, auth: 1 });
      });

      it('replaces in every period of the date, and only there', async () => {
        await tracker.track({ id: 's', bucket: 'anon', date: '2026-11-23T10:00:00Z' });
        await tracker.track({ id: 's', bucket: 'anon' });
        await tracker.track({ id: 'u', bucket: 'auth', oldId: 's', oldBucket: 'anon' });
        const buckets = ['anon', 'auth'];
        const days = await tracker.lookupDaily({ start: '2026-11-23', buckets });
        const [week] = await tracker.lookupWeekly({ start: '2026-11-23', buckets });
        const [month] = await tracker.lookupMonthly({ start: '2026-11-01', buckets });
        expect(days.map((d) => d.counts)).toEqual([
          { anon: 1, auth: 0 },
          { anon: 0, auth: 1 },
        ]);
        // The week and the month saw 's' in anon on Monday too: it is one entity, replaced.
        expect([week?.counts, month?.counts]).toEqual([
          { anon: 0, auth: 1 },
          { anon: 0, auth: 1 },
        ]);
      });

      it('is one atomic write per period instance', async () => {
        const write = vi.spyOn(backend, 'write');
        await tracker.track({ id: 'u', bucket: 'auth', oldId: 's', oldBucket: 'anon' });
        const calls = write.mock.calls as Array<[readonly WriteOp[], WriteOptions?]>;
        expect(calls.map(([ops, options]) => [ops.map((o) => o.op), options])).toEqual([
          // The catalogue learns the two new buckets and the first periods (once per process).
          [['setAdd', 'max', 'max', 'max'], undefined],
          [['setRemove', 'setAdd'], { atomic: true }],
          [['setRemove', 'setAdd'], { atomic: true }],
          [['setRemove', 'setAdd'], { atomic: true }],
        ]);
      });
    });

    describe('trackMany', () => {
      it('tracks a batch in one write, merging ids per period and bucket', async () => {
        const write = vi.spyOn(backend, 'write');
        await tracker.trackMany([
          { id: 1, bucket: 'web' },
          { id: 2, bucket: 'web' },
          { id: 1, bucket: 'ios', periods: ['daily'] },
          { id: '1', bucket: 'web', date: '2026-11-23T10:00:00Z' },
        ]);
        expect(write).toHaveBeenCalledTimes(1);
        const days = await tracker.lookupDaily({ start: '2026-11-23', buckets: ['web', 'ios'] });
        const [month] = await tracker.lookupMonthly({ start: '2026-11-01', buckets: ['web', 'ios'] });
        expect(days.map((d) => d.counts)).toEqual([
          { web: 1, ios: 0 },
          { web: 2, ios: 1 },
        ]);
        expect(month?.counts).toEqual({ web: 2, ios: 0 });
      });

      it('writes nothing for an empty batch', async () => {
        const write = vi.spyOn(backend, 'write');
        await tracker.trackMany([]);
        expect(write).not.toHaveBeenCalled();
      });
    });
  },
  { mock: true },
);
