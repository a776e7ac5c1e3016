/** Bad input: a typed INVALID_ARGUMENT error naming the argument and value; nothing written. */
import { type Backend, MemoryBackend } from '@porpoise/storage';
import { describeEachBackend } from '@porpoise/test-backends';
import { describe, expect, it } from 'vitest';
import { ActivityTracker, InvalidArgumentError, MAX_COLLAPSE_PERIODS } from '../src/index.js';
import { NOW } from './support.js';

type Case = [name: string, call: (t: ActivityTracker) => Promise<unknown>, argument: string];

const cases: Case[] = [
  ['args not an object', (t) => t.track(null as never), 'args'],
  // @ts-expect-error an id is required at compile time too (TrackArgs.id is not optional)
  ['missing id', (t) => t.track({}), 'id'],
  ['empty id', (t) => t.track({ id: '' }), 'id'],
  ['NaN id', (t) => t.track({ id: Number.NaN }), 'id'],
  ['infinite id', (t) => t.track({ id: Number.NEGATIVE_INFINITY }), 'id'],
  ['object id', (t) => t.track({ id: {} as never }), 'id'],
  ['id with a control character', (t) => t.track({ id: 'a\nb' }), 'id'],
  ['empty bucket', (t) => t.track({ id: 1, bucket: '' }), 'bucket'],
  ['bucket with a control character', (t) => t.track({ id: 1, bucket: 'a\u0000' }), 'bucket'],
  ['bucket of 201 characters', (t) => t.track({ id: 1, bucket: 'x'.repeat(201) }), 'bucket'],
  ['empty oldId', (t) => t.track({ id: 1, oldId: '' }), 'oldId'],
  ['oldBucket with a control character', (t) => t.track({ id: 1, oldBucket: '\u007f' }), 'oldBucket'],
  ['unknown period', (t) => t.track({ id: 1, periods: ['hourly' as never] }), 'periods'],
  ['period not configured', (t) => t.track({ id: 1, periods: ['monthly'] }), 'periods'],
  ['empty periods', (t) => t.track({ id: 1, periods: [] }), 'periods'],
  ['invalid Date', (t) => t.track({ id: 1, date: new Date('nope') }), 'date'],
  ['impossible ISO day', (t) => t.track({ id: 1, date: '2026-02-30' }), 'date'],
  ['non-finite epoch ms', (t) => t.track({ id: 1, date: Number.POSITIVE_INFINITY }), 'date'],
  ['trackMany with one bad record', (t) => t.trackMany([{ id: 1 }, { id: 2, bucket: '' }]), 'bucket'],
  ['trackMany with a replacement', (t) => t.trackMany([{ id: 1, oldId: 2 } as never]), 'records'],
  ['maxPeriods 0', (t) => t.collapse({ maxPeriods: 0 }), 'maxPeriods'],
  ['maxPeriods 1.5', (t) => t.collapse({ maxPeriods: 1.5 }), 'maxPeriods'],
  ['maxPeriods too large', (t) => t.collapse({ maxPeriods: MAX_COLLAPSE_PERIODS + 1 }), 'maxPeriods'],
  [
    'aggregate naming no buckets',
    (t) => t.collapse({ aggregateBuckets: { total: [] } }),
    'aggregateBuckets.total',
  ],
  ['aggregate not an object', (t) => t.collapse({ aggregateBuckets: ['a'] as never }), 'aggregateBuckets'],
  [
    'aggregate of an aggregate',
    (t) => t.collapse({ buckets: ['a', 'b'], aggregateBuckets: { ab: ['a', 'b'], abc: ['ab', 'c'] } }),
    'aggregateBuckets.abc',
  ],
  [
    'aggregate named like a bucket',
    (t) => t.collapse({ buckets: ['a'], aggregateBuckets: { a: ['b'] } }),
    'aggregateBuckets',
  ],
  ['empty buckets list', (t) => t.collapse({ buckets: [] }), 'buckets'],
  ['collapse with an invalid date', (t) => t.collapse({ date: 'tomorrow' }), 'date'],
  ['collapse of an unknown period', (t) => t.collapse({ periods: ['yearly' as never] }), 'periods'],
  ['lookup of an unknown period', (t) => t.lookup({ period: 'yearly' as never }), 'period'],
  ['lookup of a period not configured', (t) => t.lookup({ period: 'monthly' }), 'period'],
  [
    'lookup starting after its end',
    (t) => t.lookupDaily({ start: '2026-02-01', end: '2026-01-01' }),
    'start',
  ],
  ['lookup with an invalid end', (t) => t.lookupDaily({ end: 'yesterday' }), 'end'],
  ['lookup with a bad bucket', (t) => t.lookupDaily({ buckets: ['ok', ''] }), 'buckets'],
  ['lookup of too many periods', (t) => t.lookupDaily({ start: '1900-01-01', buckets: ['a', 'b'] }), 'start'],
];

describeEachBackend(
  (make) => {
    it.each(cases)('%s', async (_name, call, argument) => {
      const backend: Backend = make();
      try {
        const tracker = new ActivityTracker(backend, { periods: ['daily', 'weekly'], now: () => NOW });
        await tracker.track({ id: 'seed', bucket: 'a' });
        const before = await backend.keys();
        const error = await call(tracker).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(InvalidArgumentError.isInstance(error)).toBe(true);
        const { code, message } = error as InvalidArgumentError;
        expect([code, (error as InvalidArgumentError).argument]).toEqual(['INVALID_ARGUMENT', argument]);
        expect(message).toContain(`"${argument}"`);
        expect(await backend.keys()).toEqual(before);
      } finally {
        await backend.close();
      }
    });
  },
  { mock: true },
);

describe('constructor options', () => {
  it.each([
    [{ periods: [] }, 'periods'],
    [{ periods: ['daily', 'daily'] }, 'periods'],
    [{ periods: ['hourly'] }, 'periods'],
    [{ zone: 'Atlantis/Capital' }, 'zone'],
    [{ mode: 'fuzzy' }, 'mode'],
    [{ prefix: '' }, 'prefix'],
    [{ prefix: 'a:b' }, 'prefix'],
    [{ now: 5 }, 'now'],
  ])('rejects %j', (options, argument) => {
    expect(() => new ActivityTracker(new MemoryBackend(), options as never)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', argument }) as never,
    );
  });

  it('rejects a missing backend', () => {
    expect(() => new ActivityTracker(undefined as never)).toThrow(
      expect.objectContaining({ argument: 'backend' }),
    );
  });

  it('exposes the period constants', () => {
    expect([
      ActivityTracker.PERIOD_DAILY,
      ActivityTracker.PERIOD_WEEKLY,
      ActivityTracker.PERIOD_MONTHLY,
    ]).toEqual(['daily', 'weekly', 'monthly']);
  });

  it('reports its configuration', () => {
    const tracker = new ActivityTracker(new MemoryBackend(), {
      periods: ['weekly'],
      zone: 'Europe/Paris',
      mode: 'approximate',
    });
    expect([tracker.periods, tracker.zone, tracker.mode]).toEqual([
      ['weekly'],
      'Europe/Paris',
      'approximate',
    ]);
  });
});
