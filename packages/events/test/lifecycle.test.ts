import { type Backend, MemoryBackend } from '@porpoise/storage';
import { describeEachBackend } from '@porpoise/test-backends';
import { dayrange, hourrange, minuterange } from '@porpoise/timerange';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { Events, InvalidArgumentError } from '../src/index.js';

const NOW = new Date('2026-11-24T12:30:00Z');
const at = (d: number, h: number) => new Date(Date.UTC(2026, 10, d, h, 15));

describe('retention against a pinned clock (memory)', () => {
  let clock = NOW.getTime();
  let backend: MemoryBackend;
  let events: Events;
  beforeEach(() => {
    clock = NOW.getTime();
    backend = new MemoryBackend({ now: () => clock });
    events = new Events(backend, { now: () => new Date(clock), retention: { hour: '2h', day: '3d' } });
  });
  const hours = () =>
    events
      .get('active')
      .counts(hourrange(new Date(Date.UTC(2026, 10, 24, 11)), new Date(Date.UTC(2026, 10, 24, 13))));

  it('keeps each bucket until its retention after the bucket ends', async () => {
    await events.event('active', 1, at(24, 11));
    await events.event('active', 2, at(24, 12));
    expect((await hours()).map((r) => r.count)).toEqual([1, 1]);
    // 11:00-12:00 ends at 12:00: kept until 14:00, and 12:00-13:00 until 15:00.
    clock = Date.UTC(2026, 10, 24, 14, 0, 0, 1);
    expect((await hours()).map((r) => [r.count, r.recorded])).toEqual([
      [0, false],
      [1, true],
    ]);
    clock = Date.UTC(2026, 10, 24, 15, 0, 0, 1);
    expect((await hours()).map((r) => r.recorded)).toEqual([false, false]);
    // Days are kept longer; weeks and months (no retention) forever.
    expect((await events.get('active').counts(dayrange(at(24, 0), at(25, 0))))[0]!.count).toBe(2);
    clock = Date.UTC(2026, 10, 28, 0, 0, 0, 1);
    expect((await events.get('active').counts(dayrange(at(24, 0), at(25, 0))))[0]!.count).toBe(0);
    expect((await events.get('active').union(events.range('month', 0, 1))).toArray()).toEqual([1, 2]);
  });

  it('sets the expiry on the first write of a key only, as an absolute deadline', async () => {
    await events.event('active', 1, at(24, 12));
    const key = 'events:e:active:hour:2026112412';
    const [first] = await backend.read([{ op: 'ttl', key }]);
    clock += 60_000;
    await events.event('active', 2, at(24, 12));
    const [second] = await backend.read([{ op: 'ttl', key }]);
    expect(first).toBe(Date.UTC(2026, 10, 24, 15) - NOW.getTime());
    expect(second).toBe((first as number) - 60_000);
  });

  it('does not store data already past its retention (nor list it)', async () => {
    await events.event('active', 1, at(20, 10));
    expect(await backend.keys()).not.toContain('events:e:active:hour:2026112010');
    expect(await backend.keys()).not.toContain('events:e:active:day:20261120');
    expect(await backend.keys()).toContain('events:e:active:week:2026W47');
  });

  it('prune() drops expired buckets from the catalogue, keeps live ones', async () => {
    await events.event('active', 1, at(24, 11));
    await events.event('active', 2, at(24, 12));
    clock = Date.UTC(2026, 10, 24, 14, 0, 0, 1);
    const progress: number[] = [];
    expect(await events.prune({ onProgress: (done) => progress.push(done) })).toBe(1);
    expect(progress).toEqual([5]);
    const hour = (await events.stats()).events.find((row) => row.unit === 'hour')!;
    expect([hour.listed, hour.keys]).toEqual([1, 1]);
    expect(await events.prune()).toBe(0);
    expect(await events.names()).toEqual(['active']);
  });

  it('bad retention is an InvalidArgumentError naming the unit', () => {
    expect(() => new Events(backend, { retention: { hour: '5x' } })).toThrow(/retention\.hour/);
    expect(() => new Events(backend, { retention: { hour: '0d' } })).toThrow(InvalidArgumentError);
    expect(() => new Events(backend, { retention: { hour: -1 } })).toThrow(InvalidArgumentError);
    expect(() => new Events(backend, { retention: { minute: '1d' } })).toThrow(/not recorded/);
    expect(() => new Events(backend, { retention: { fortnight: '1d' } as never })).toThrow(
      InvalidArgumentError,
    );
  });
});

describeEachBackend((make) => {
  let backend: Backend;
  let events: Events;
  beforeEach(() => {
    backend = make();
    events = new Events(backend, { now: () => NOW });
    return async () => {
      await backend.close();
    };
  });

  it('retention: the store itself forgets the bucket once its expiry passes', async () => {
    // The minute 12:29 ends at 12:30, the recorder's now: kept one more second.
    const short = new Events(backend, {
      resolutions: ['minute', 'day'],
      retention: { minute: 1 },
      now: () => NOW,
      prefix: 'short',
    });
    await short.event('active', 7, new Date('2026-11-24T12:29:10Z'));
    const minute = minuterange(new Date('2026-11-24T12:29:00Z'), NOW);
    expect((await short.get('active').counts(minute))[0]!.count).toBe(1);
    await vi.waitFor(
      async () => {
        expect((await short.get('active').counts(minute))[0]!.recorded).toBe(false);
      },
      { timeout: 10_000, interval: 200 },
    );
    expect((await short.get('active').counts(short.range('day', 0, 1)))[0]!.count).toBe(1);
  });

  describe('delete', () => {
    beforeEach(async () => {
      await events.eventMany([
        ...[1, 2].map((id) => ({ name: 'active', id, at: at(24, 10) })),
        { name: 'active', id: 3, at: at(10, 10) },
        { name: 'signup', id: 1, at: at(24, 10) },
      ]);
      await events.mark('plan:pro', 1);
    });

    it('delete(name) removes every resolution and bucket of that event only', async () => {
      const progress: Array<[number, number]> = [];
      const result = await events.delete('active', {
        onProgress: (done, total) => progress.push([done, total]),
      });
      // hour, day, week, month for each of two days (one month).
      expect(result).toEqual({ keys: 7, names: 1 });
      expect(progress).toEqual([[7, 7]]);
      expect(await events.names()).toEqual(['signup']);
      const left = await backend.keys();
      expect(left.filter((key) => key.includes(':e:active:'))).toEqual([]);
      expect(left.some((key) => key.includes(':e:signup:'))).toBe(true);
      expect(await events.segment('plan:pro').size()).toBe(1);
    });

    it('a deleted event recorded again is listed again', async () => {
      await events.delete('active');
      await events.event('active', 9, at(24, 11));
      expect(await events.names()).toEqual(['active', 'signup']);
    });

    it('deleteAll() empties the namespace and nothing else', async () => {
      const other = new Events(backend, { prefix: 'other', now: () => NOW });
      await other.event('active', 1);
      const before = (await backend.keys()).filter((key) => key.startsWith('other:'));
      const result = await events.deleteAll();
      expect(result.names).toBe(3);
      expect((await backend.keys()).filter((key) => key.startsWith('events:'))).toEqual([]);
      expect((await backend.keys()).filter((key) => key.startsWith('other:'))).toEqual(before);
      expect(await events.names()).toEqual([]);
      expect(await events.segments()).toEqual([]);
    });

    it('deleteSegment removes the segment', async () => {
      await events.deleteSegment('plan:pro');
      expect(await events.segments()).toEqual([]);
      expect(await events.segment('plan:pro').size()).toBe(0);
    });

    it('deletes in bounded batches', async () => {
      const records = Array.from({ length: 600 }, (_, h) => ({
        name: 'busy',
        id: 1,
        at: new Date(Date.UTC(2026, 9, 1) + h * 3_600_000),
      }));
      await events.eventMany(records);
      const progress: number[] = [];
      const { keys } = await events.delete('busy', { onProgress: (done) => progress.push(done) });
      expect(keys).toBe(600 + 25 + 4 + 1);
      expect(progress).toEqual([500, 630]);
    });

    it('rejects bad names and options before deleting anything', async () => {
      await expect(events.delete('')).rejects.toThrow(InvalidArgumentError);
      await expect(events.delete('active', { onProgress: 3 as never })).rejects.toThrow(InvalidArgumentError);
      expect(await events.names()).toEqual(['active', 'signup']);
    });
  });

  describe('stats', () => {
    it('per event and resolution: keys, ids, largest id; segments; the namespace max id', async () => {
      await events.eventMany([
        ...[1, 2].map((id) => ({ name: 'active', id, at: at(24, 10) })),
        { name: 'active', id: 70_000, at: at(23, 10) },
      ]);
      await events.mark('plan:pro', 5);
      const stats = await events.stats();
      expect(stats.maxId).toBe(70_000);
      expect(stats.events.map((r) => [r.name, r.unit, r.keys, r.listed, r.ids, r.maxId])).toEqual([
        ['active', 'hour', 2, 2, 3, 70_000],
        ['active', 'day', 2, 2, 3, 70_000],
        ['active', 'week', 1, 1, 3, 70_000],
        ['active', 'month', 1, 1, 3, 70_000],
      ]);
      const week = stats.events[2]!;
      // Two 64 Ki-bit chunks, sparse: 2 bytes per id.
      expect([week.bytes, week.rawBytes, week.expiring.keys, week.retention]).toEqual([6, 16_384, 0, null]);
      expect(stats.segments).toEqual([
        { name: 'plan:pro', keys: 1, bytes: 2, rawBytes: 8192, ids: 1, maxId: 5 },
      ]);
    });

    it('says what the retention will free', async () => {
      const kept = new Events(backend, { now: () => NOW, retention: { hour: '2d' }, prefix: 'kept' });
      await kept.event('active', 1, at(24, 10));
      const hour = (await kept.stats()).events.find((row) => row.unit === 'hour')!;
      expect([hour.retention, hour.expiring.keys, hour.expiring.ids]).toEqual([172_800_000, 1, 1]);
    });
  });
});
