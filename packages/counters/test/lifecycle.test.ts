import { type Backend, MemoryBackend } from '@porpoise/storage';
import { describeEachBackend } from '@porpoise/test-backends';
import { hourrange } from '@porpoise/timerange';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { Counters, InvalidArgumentError } from '../src/index.js';

const NOW = new Date('2026-11-24T12:30:00Z');
const hour = (h: number) => new Date(Date.UTC(2026, 10, 24, h, 10));
const sharp = (h: number) => new Date(Date.UTC(2026, 10, 24, h));

describe('retention against a pinned clock (memory)', () => {
  it('forgets each bucket its retention after it ends; coarser units are kept', async () => {
    let clock = NOW.getTime();
    const counters = new Counters(new MemoryBackend({ now: () => clock }), {
      now: () => new Date(clock),
      retention: { hour: '1h' },
    });
    await counters.count('plays', 'song-1', 2, hour(11));
    await counters.count('plays', 'song-1', 3, hour(12));
    const hours = async () => {
      const totals: number[] = [];
      for await (const s of counters.get('plays').over(hourrange(sharp(11), sharp(13)))) totals.push(s.total);
      return totals;
    };
    expect(await hours()).toEqual([2, 3]);
    clock = Date.UTC(2026, 10, 24, 13, 0, 0, 1);
    expect(await hours()).toEqual([0, 3]);
    clock = Date.UTC(2026, 10, 24, 14, 0, 0, 1);
    expect(await hours()).toEqual([0, 0]);
    expect((await counters.get('plays').sum(counters.range('day', 0, 1))).total).toBe(5);
  });

  it('prune() drops expired hashes from the catalogue', async () => {
    let clock = NOW.getTime();
    const counters = new Counters(new MemoryBackend({ now: () => clock }), {
      now: () => new Date(clock),
      retention: { hour: '1h' },
    });
    await counters.count('plays', 'a', 1, hour(11));
    clock = Date.UTC(2026, 10, 24, 13, 0, 0, 1);
    expect(await counters.prune()).toBe(1);
    expect((await counters.stats()).map((r) => [r.unit, r.listed])).toEqual([
      ['day', 1],
      ['week', 1],
      ['month', 1],
    ]);
  });

  it('refuses bad retention', () => {
    const backend = new MemoryBackend();
    expect(() => new Counters(backend, { retention: { day: 'forever' } })).toThrow(InvalidArgumentError);
    expect(() => new Counters(backend, { retention: { minute: '1d' } })).toThrow(/not recorded/);
    expect(() => new Counters(backend, { retention: { hour: 0 } })).toThrow(/positive/);
  });
});

describeEachBackend((make) => {
  let backend: Backend;
  let counters: Counters;
  beforeEach(() => {
    backend = make();
    counters = new Counters(backend, { now: () => NOW });
    return async () => {
      await backend.close();
    };
  });

  it('keys() lists every counter key counted, sorted and prefix-filtered', async () => {
    await counters.count('song:played', 'song-1');
    await counters.countMany([{ key: 'signups' }, { key: 'song:skipped', id: 'song-2' }]);
    expect(await counters.keys()).toEqual(['signups', 'song:played', 'song:skipped']);
    expect(await counters.keys({ prefix: 'song:' })).toEqual(['song:played', 'song:skipped']);
    expect(await new Counters(backend, { prefix: 'elsewhere' }).keys()).toEqual([]);
  });

  it('retention: the store itself forgets an expired hash', async () => {
    const short = new Counters(backend, {
      resolutions: ['minute', 'day'],
      retention: { minute: 1 },
      now: () => NOW,
      prefix: 'short',
    });
    await short.count('plays', 'a', 1, new Date('2026-11-24T12:29:10Z'));
    const minute = short.range('minute', -1, 0);
    expect((await short.get('plays').sum(minute)).total).toBe(1);
    await vi.waitFor(
      async () => {
        expect((await short.get('plays').sum(minute)).total).toBe(0);
      },
      { timeout: 10_000, interval: 200 },
    );
    expect((await short.get('plays').sum(short.range('day', 0, 1))).total).toBe(1);
  });

  it('delete(key) removes every resolution and bucket of that key only', async () => {
    await counters.countMany([
      { key: 'plays', id: 'a', at: hour(9) },
      { key: 'plays', id: 'b', at: hour(10) },
      { key: 'signups', at: hour(9) },
    ]);
    const progress: number[] = [];
    expect(await counters.delete('plays', { onProgress: (done) => progress.push(done) })).toEqual({
      keys: 5,
      names: 1,
    });
    expect(progress).toEqual([5]);
    expect(await counters.keys()).toEqual(['signups']);
    expect((await backend.keys()).some((key) => key.includes(':c:plays:'))).toBe(false);
    expect((await counters.get('signups').sum(counters.range('day', 0, 1))).total).toBe(1);
  });

  it('deleteAll() empties the namespace and nothing else', async () => {
    const other = new Counters(backend, { prefix: 'other', now: () => NOW });
    await other.count('plays');
    await counters.count('plays');
    await counters.count('signups');
    expect((await counters.deleteAll()).names).toBe(2);
    expect((await backend.keys()).filter((key) => key.startsWith('counters:'))).toEqual([]);
    expect(await other.keys()).toEqual(['plays']);
  });

  it('stats() per key and resolution', async () => {
    await counters.countMany([
      { key: 'plays', id: 'song-1', at: hour(9) },
      { key: 'plays', id: 'song-22', by: 12, at: hour(10) },
    ]);
    const rows = await counters.stats();
    expect(rows.map((r) => [r.key, r.unit, r.keys, r.listed, r.fields, r.bytes])).toEqual([
      ['plays', 'hour', 2, 2, 2, 16],
      ['plays', 'day', 1, 1, 2, 16],
      ['plays', 'week', 1, 1, 2, 16],
      ['plays', 'month', 1, 1, 2, 16],
    ]);
    expect(rows[0]!.expiring).toEqual({ keys: 0, fields: 0, bytes: 0 });
  });
});
