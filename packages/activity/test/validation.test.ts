import { MemoryBackend } from '@porpoise/storage';
import { describe, expect, it } from 'vitest';
import { ActivityTracker, InvalidArgumentError } from '../src/index.js';

const make = () => {
  const backend = new MemoryBackend();
  return { backend, tracker: new ActivityTracker(backend, { periods: ['daily', 'weekly'] }) };
};

describe('bad input is an INVALID_ARGUMENT error and writes nothing', () => {
  const cases: Array<[string, (t: ActivityTracker) => Promise<unknown>, string]> = [
    ['missing id', (t) => t.track({}), 'id'],
    ['empty id', (t) => t.track({ id: '' }), 'id'],
    ['NaN id', (t) => t.track({ id: Number.NaN }), 'id'],
    ['Infinity id', (t) => t.track({ id: Number.NEGATIVE_INFINITY }), 'id'],
    ['object id', (t) => t.track({ id: {} as never }), 'id'],
    ['empty bucket', (t) => t.track({ id: 1, bucket: '' }), 'bucket'],
    ['control character in bucket', (t) => t.track({ id: 1, bucket: 'a\u0000' }), 'bucket'],
    ['empty oldId', (t) => t.track({ id: 1, oldId: '' }), 'oldId'],
    ['unknown period', (t) => t.track({ id: 1, periods: ['hourly' as never] }), 'periods'],
    ['period not tracked', (t) => t.track({ id: 1, periods: ['monthly'] }), 'periods'],
    ['invalid date', (t) => t.track({ id: 1, date: new Date('nope') }), 'date'],
    ['invalid ISO date', (t) => t.track({ id: 1, date: '2026-02-30' }), 'date'],
    ['args not an object', (t) => t.track(null as never), 'args'],
    ['maxPeriods 0', (t) => t.collapse({ maxPeriods: 0 }), 'maxPeriods'],
    ['maxPeriods 1.5', (t) => t.collapse({ maxPeriods: 1.5 }), 'maxPeriods'],
    [
      'aggregate naming no buckets',
      (t) => t.collapse({ aggregateBuckets: { total: [] } }),
      'aggregateBuckets.total',
    ],
    ['aggregate not an object', (t) => t.collapse({ aggregateBuckets: ['a'] as never }), 'aggregateBuckets'],
    [
      'aggregate clashing with a bucket',
      (t) => t.collapse({ buckets: ['a'], aggregateBuckets: { a: ['b'] } }),
      'aggregateBuckets',
    ],
    ['empty buckets list', (t) => t.collapse({ buckets: [] }), 'buckets'],
    ['lookup of an unknown period', (t) => t.lookup({ period: 'yearly' as never }), 'period'],
    ['lookup of a period not tracked', (t) => t.lookup({ period: 'monthly' }), 'period'],
    [
      'lookup with start after end',
      (t) => t.lookupDaily({ start: '2026-02-01', end: '2026-01-01' }),
      'start',
    ],
    ['lookup with an invalid end', (t) => t.lookupDaily({ end: 'yesterday' }), 'end'],
  ];
  it.each(cases)('%s', async (_name, call, argument) => {
    const { backend, tracker } = make();
    await tracker.track({ id: 'seed' });
    const before = await backend.keys();
    let error: unknown;
    try {
      await call(tracker);
    } catch (e) {
      error = e;
    }
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect((error as InvalidArgumentError).code).toBe('INVALID_ARGUMENT');
    expect((error as InvalidArgumentError).argument).toBe(argument);
    expect(await backend.keys()).toEqual(before);
  });

  it('refuses replacement in approximate mode', async () => {
    const backend = new MemoryBackend();
    const tracker = new ActivityTracker(backend, { mode: 'approximate' });
    await expect(tracker.track({ id: 1, oldId: 2 })).rejects.toThrow(/exact mode/);
    expect(await backend.keys()).toEqual([]);
  });

  it.each([
    [{ periods: [] }, 'periods'],
    [{ periods: ['daily', 'daily'] }, 'periods'],
    [{ zone: 'Atlantis/Capital' }, 'zone'],
    [{ mode: 'fuzzy' }, 'mode'],
    [{ prefix: '' }, 'prefix'],
  ])('rejects the options %j', (options, argument) => {
    expect(() => new ActivityTracker(new MemoryBackend(), options as never)).toThrow(
      expect.objectContaining({ argument }) as never,
    );
  });

  it('exposes the period constants', () => {
    expect([
      ActivityTracker.PERIOD_DAILY,
      ActivityTracker.PERIOD_WEEKLY,
      ActivityTracker.PERIOD_MONTHLY,
    ]).toEqual(['daily', 'weekly', 'monthly']);
  });
});
