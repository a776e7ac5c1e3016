import type { Backend } from '@porpoise/storage';
import { describeEachBackend } from '@porpoise/test-backends';
import { beforeEach, expect, it } from 'vitest';
import { Analytics, InvalidArgumentError } from '../src/index.js';

const NOW = new Date('2026-11-24T12:30:00Z');
const now = () => NOW;

describeEachBackend((make) => {
  let backend: Backend;
  let porpoise: Analytics;
  beforeEach(() => {
    backend = make();
    porpoise = new Analytics(backend, { now });
    return () => porpoise.close();
  });

  it('lists what was recorded: event names, segments, counter keys, activity buckets', async () => {
    const { event, count, mark, names, segments, counterKeys, buckets } = porpoise;
    await event('song:played', 1);
    await event('active', 1);
    await mark('plan:pro', 1);
    await count('plays', 'song-1');
    await porpoise.activity.track({ id: 'u1', bucket: 'web' });
    expect(await names()).toEqual(['active', 'song:played']);
    expect(await names({ prefix: 'song' })).toEqual(['song:played']);
    expect(await segments()).toEqual(['plan:pro']);
    expect(await counterKeys()).toEqual(['plays']);
    expect(await buckets()).toEqual(['web']);
  });

  it('segments, id lists and during() through the facade', async () => {
    await porpoise.eventMany([1, 2, 3].map((id) => ({ name: 'active', id })));
    await porpoise.markMany([
      { name: 'plan:pro', id: 2 },
      { name: 'plan:pro', id: 3 },
    ]);
    await porpoise.unmark('plan:pro', 3);
    const today = porpoise.dayrange(0, 1);
    const rows = await porpoise.events('active').and(porpoise.segment('plan:pro')).counts(today);
    expect(rows.map((r) => [r.count, r.recorded])).toEqual([[1, true]]);
    const q = porpoise
      .events('active')
      .during(today)
      .and(porpoise.ids([1, 2, 9]));
    expect((await q.ids()).toArray()).toEqual([1, 2]);
  });

  it('retention applies to events and counters; deleteAll and stats cover both', async () => {
    const kept = new Analytics(backend, {
      now,
      retention: { hour: '2d' },
      activity: { prefix: 'kept-activity' },
      events: { prefix: 'kept-events' },
      counters: { prefix: 'kept-counters' },
    });
    await kept.event('active', 1);
    await kept.count('plays');
    const stats = await kept.stats();
    expect(stats.events.events.find((r) => r.unit === 'hour')!.expiring.keys).toBe(1);
    expect(stats.counters.find((r) => r.unit === 'hour')!.expiring.keys).toBe(1);
    const deleted = await kept.deleteAll();
    expect([deleted.events.names, deleted.counters.names]).toEqual([1, 1]);
    expect(await kept.names()).toEqual([]);
    expect(() => new Analytics(backend, { retention: { minute: '1d' } })).toThrow(InvalidArgumentError);
  });

  it('deleteEvent and deleteCounter remove one name', async () => {
    await porpoise.event('a', 1);
    await porpoise.event('b', 1);
    await porpoise.count('c');
    expect((await porpoise.deleteEvent('a')).keys).toBe(4);
    expect((await porpoise.deleteCounter('c')).keys).toBe(4);
    expect(await porpoise.names()).toEqual(['b']);
    expect(await porpoise.counterKeys()).toEqual([]);
  });
});
