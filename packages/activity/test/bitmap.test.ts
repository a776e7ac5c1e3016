/** Bitmap mode: one bit per id at its dense integer from an id dictionary. */
import { Identities } from '@porpoise/identity';
import { type Backend, MemoryBackend } from '@porpoise/storage';
import { describeEachBackend } from '@porpoise/test-backends';
import { beforeEach, describe, expect, it } from 'vitest';
import { ActivityTracker, InvalidArgumentError } from '../src/index.js';

const DAY = '2026-11-23T10:00:00Z';
const NEXT_DAY = '2026-11-24T02:00:00Z';
const sites = { buckets: ['site1', 'site2'], aggregateBuckets: { total: ['site1', 'site2'] } };

describeEachBackend((make) => {
  let backend: Backend;
  let identities: Identities;
  let tracker: ActivityTracker;
  beforeEach(() => {
    backend = make();
    identities = new Identities(backend);
    tracker = new ActivityTracker(backend, {
      mode: 'bitmap',
      identities,
      periods: ['daily', 'weekly'],
      now: () => new Date('2026-11-24T12:00:00Z'),
    });
    return () => backend.close();
  });

  it('the original README: site1 2, site2 2, total 3, live and after the collapse', async () => {
    await tracker.track({ id: 'user1@example.com', bucket: 'site1', date: DAY });
    await tracker.track({ id: 'jdoe@example.com', bucket: 'site1', date: DAY });
    await tracker.trackMany([
      { id: 'jdoe@example.com', bucket: 'site2', date: DAY },
      { id: 'user2@example.com', bucket: 'site2', date: DAY },
      { id: 'user2@example.com', bucket: 'site2', date: DAY },
    ]);
    const live = await tracker.lookupDaily({ start: '2026-11-23', end: '2026-11-24', ...sites });
    expect(live).toEqual([{ date: '2026-11-23', counts: { site1: 2, site2: 2, total: 3 }, final: false }]);
    await tracker.collapse({ date: NEXT_DAY, periods: ['daily'], ...sites });
    await tracker.collapse({ date: NEXT_DAY, periods: ['daily'], ...sites });
    const final = await tracker.lookupDaily({ start: '2026-11-23', end: '2026-11-24', ...sites });
    expect(final).toEqual([{ date: '2026-11-23', counts: { site1: 2, site2: 2, total: 3 }, final: true }]);
    // The day's raw bitmaps are gone (the week's stay until the week is collapsed).
    const raw = (await backend.keys()).filter((key) => key.startsWith('activity:raw:'));
    expect(raw.length).toBe(2);
    expect(raw.every((key) => !key.endsWith(':d20261123'))).toBe(true);
  });

  it('replaces an anonymous id by the user (oldId), atomically per period', async () => {
    await tracker.track({ id: 'anon-1', date: DAY });
    await tracker.track({ id: 'ada@example.com', oldId: 'anon-1', date: DAY });
    await tracker.track({ id: 'bob@example.com', oldId: 'never-seen', date: DAY });
    expect(await identities.peek(['never-seen'])).toEqual([null]);
    const rows = await tracker.lookupWeekly({ start: '2026-11-23', end: '2026-11-24' });
    expect(rows.map((row) => row.counts)).toEqual([{ all: 2 }]);
  });

  it('treats 123 and "123" as one id', async () => {
    await tracker.trackMany([
      { id: 123, date: DAY },
      { id: '123', date: DAY },
    ]);
    expect((await tracker.lookupDaily({ start: '2026-11-23', end: '2026-11-24' }))[0]!.counts).toEqual({
      all: 1,
    });
  });
});

describe('bitmap mode', () => {
  it('needs an id dictionary', () => {
    expect(() => new ActivityTracker(new MemoryBackend(), { mode: 'bitmap' })).toThrow(InvalidArgumentError);
    expect(
      () => new ActivityTracker(new MemoryBackend(), { mode: 'bitmap', identities: {} as never }),
    ).toThrow(InvalidArgumentError);
  });
});
