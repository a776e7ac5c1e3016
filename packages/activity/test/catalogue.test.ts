import { type Backend, MemoryBackend } from '@porpoise/storage';
import { describeEachBackend } from '@porpoise/test-backends';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ActivityTracker, InvalidArgumentError } from '../src/index.js';
import { NOW, trackerOn } from './support.js';

describeEachBackend((make) => {
  let backend: Backend;
  beforeEach(() => {
    backend = make();
    return () => backend.close();
  });

  it('buckets() lists every bucket tracked by any process, sorted', async () => {
    const tracker = trackerOn(backend);
    await tracker.track({ id: 'a', bucket: 'web' });
    await tracker.trackMany([
      { id: 'b', bucket: 'ios' },
      { id: 'c', bucket: 'android' },
    ]);
    await trackerOn(backend).track({ id: 'd' });
    expect(await tracker.buckets()).toEqual(['all', 'android', 'ios', 'web']);
    expect(await trackerOn(backend, { prefix: 'other' }).buckets()).toEqual([]);
  });

  it('raw retention: the store forgets raw ids once the expiry passes; counts stay', async () => {
    // The day 2026-11-23 ended 12 hours before NOW: with 12h and 1s of retention, one second is left.
    const tracker = trackerOn(backend, { periods: ['daily'], retention: { daily: 12 * 3600 + 1 } });
    await tracker.track({ id: 'a', date: '2026-11-23T10:00:00Z' });
    const yesterday = async () =>
      (await tracker.lookupDaily({ start: '2026-11-23', end: '2026-11-24' }))[0]!.counts.all;
    expect(await yesterday()).toBe(1);
    await vi.waitFor(
      async () => {
        expect(await yesterday()).toBe(0);
      },
      { timeout: 10_000, interval: 200 },
    );
  });
});

describe('raw retention against a pinned clock (memory)', () => {
  it('expires raw sets that long after the period ends; collapsed counts are kept', async () => {
    let clock = NOW.getTime();
    const backend = new MemoryBackend({ now: () => clock });
    const tracker = new ActivityTracker(backend, {
      periods: ['daily', 'monthly'],
      now: () => new Date(clock),
      retention: { daily: '2d' },
    });
    await tracker.track({ id: 'a', date: '2026-11-22T10:00:00Z' });
    await tracker.track({ id: 'b', date: '2026-11-23T10:00:00Z' });
    await tracker.collapseDaily({ date: '2026-11-23T00:00:00Z' });
    clock = Date.UTC(2026, 10, 26, 0, 0, 0, 1);
    const days = await tracker.lookupDaily({ start: '2026-11-22', end: '2026-11-24' });
    // 22 was collapsed (final, kept); 23's raw set expired at the end of the 25th.
    expect(days.map((d) => [d.date, d.counts.all, d.final])).toEqual([
      ['2026-11-22', 1, true],
      ['2026-11-23', 0, false],
    ]);
    const months = await tracker.lookupMonthly({ start: '2026-11-01', end: '2026-12-01' });
    expect(months[0]!.counts.all).toBe(2);
  });

  it('does not store raw ids already past their retention', async () => {
    const backend = new MemoryBackend({ now: () => NOW.getTime() });
    const tracker = trackerOn(backend, { periods: ['daily'], retention: { daily: '1d' } });
    await tracker.track({ id: 'a', date: '2026-11-01T10:00:00Z' });
    expect((await backend.keys()).filter((key) => key.includes(':raw:'))).toEqual([]);
  });

  it('refuses bad retention', () => {
    const backend = new MemoryBackend();
    expect(() => new ActivityTracker(backend, { retention: { daily: '2y' } })).toThrow(/retention\.daily/);
    expect(() => new ActivityTracker(backend, { retention: { weekly: '2d' } })).toThrow(/not tracked/);
    expect(() => new ActivityTracker(backend, { retention: { hourly: '2d' } as never })).toThrow(
      InvalidArgumentError,
    );
    expect(() => new ActivityTracker(backend, { retention: '2d' as never })).toThrow(InvalidArgumentError);
  });
});
