import { type Backend, MemoryBackend } from '@porpoise/storage';
import { describeEachBackend } from '@porpoise/test-backends';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  ActivityTracker,
  Analytics,
  CounterQuery,
  Counters,
  dayrange,
  EventQuery,
  Events,
  hourrange,
  InvalidArgumentError,
  weekrange,
} from '../src/index.js';

const NOW = new Date('2026-11-24T12:30:00Z');
const now = () => NOW;
const at = (day: number, hour: number) => new Date(Date.UTC(2026, 10, day, hour, 15));

describeEachBackend((make) => {
  let backend: Backend;
  let porpoise: Analytics;
  beforeEach(() => {
    backend = make();
    porpoise = new Analytics(backend, { now });
    return () => porpoise.close();
  });

  it('keeps its methods bound: they can be taken off the facade, Python style', async () => {
    const { event, events, count, counters, dayrange: days } = porpoise;
    await event('login', 3);
    await count('plays', 'song-1', 2);
    expect((await events('login').union(days(0, 1))).toArray()).toEqual([3]);
    expect((await counters('plays').sum(days(0, 1))).get('song-1')).toBe(2);
  });

  it('makes ranges on its own clock and zone: dayrange(-7) is the week before its today', async () => {
    const paris = new Analytics(backend, { now, zone: 'Europe/Paris' });
    const week = paris.dayrange(-7);
    expect([week.zone, week.size, week.start.toISO(), week.end.toISO()]).toEqual([
      'Europe/Paris',
      7,
      '2026-11-17T00:00:00.000+01:00',
      '2026-11-24T00:00:00.000+01:00',
    ]);
    expect(paris.range('hour', -1).start.toISO()).toBe('2026-11-24T12:00:00.000+01:00');
    expect([...paris.weekrange(-1)].map(String)).toEqual(['2026W47']);
    expect([...paris.monthrange(-1)].map(String)).toEqual(['202610']);
  });

  it('its ranges are accepted by its queries (same zone and week start)', async () => {
    const sunday = new Analytics(backend, { now, zone: 'Asia/Tokyo', weekStart: 7 });
    await sunday.event('login', 1);
    const counts = await sunday.events('login').counts(sunday.weekrange(0, 1));
    expect(counts.map((c) => [c.bucket.key, c.count])).toEqual([['2026W48', 1]]);
  });

  it('the seed README: who logged in and played a song in the same hour, over the last 24 hours', async () => {
    // porpoise.event('active', 1) … porpoise.event('song:played', 1)
    await porpoise.event('active', 1);
    await porpoise.event('active', 2);
    await porpoise.event('login', 1);
    await porpoise.event('login', 2, at(24, 9));
    await porpoise.event('song:played', 1);
    await porpoise.event('song:played', 2, at(24, 10));
    const events = porpoise.events.bind(porpoise);
    const loggedInAndPlayed = events('login').and(events('song:played'));
    const perHour: Record<string, number[]> = {};
    for await (const users of loggedInAndPlayed.over(hourrange(-24, 1, { now: NOW }))) {
      if (users.size > 0) perHour[users.bucket!.key] = users.toArray();
    }
    expect(perHour).toEqual({ '2026112412': [1] });
  });

  it('the seed README: counters per id and the top songs per hour', async () => {
    await porpoise.count('signups', 'all');
    await porpoise.count('signups');
    for (const [song, plays] of [
      ['song-1', 3],
      ['song-2', 5],
      ['song-3', 1],
    ] as const) {
      await porpoise.count('song:played', song, plays);
    }
    const counters = porpoise.counters.bind(porpoise);
    const hours = [];
    for await (const songs of counters('song:played').over(hourrange(-1, 1, { now: NOW }))) {
      hours.push(songs.top(2));
    }
    expect(hours).toEqual([
      [],
      [
        ['song-2', 5],
        ['song-1', 3],
      ],
    ]);
    expect((await counters('signups').sum(dayrange(0, 1, { now: NOW }))).get('all')).toBe(2);
  });

  it("the original Python test: 2, 4, 0 and 3 counts of ('active', 1) in four hours", async () => {
    await porpoise.countMany(
      [2, 4, 0, 3].flatMap((n, h) =>
        Array.from({ length: n }, () => ({ key: 'active', id: 1, at: at(24, h) })),
      ),
    );
    const seen = [];
    for await (const snapshot of porpoise
      .counters('active')
      .over(hourrange(at(24, 0), new Date(Date.UTC(2026, 10, 24, 4))))) {
      seen.push(Object.fromEntries(snapshot.values));
    }
    expect(seen).toEqual([{ 1: 2 }, { 1: 4 }, {}, { 1: 3 }]);
  });

  it('the activity-tracker README: site1 2, site2 2, total 3 after a collapse', async () => {
    const day = '2026-11-23T10:00:00Z';
    await porpoise.activity.track({ id: 'user1@example.com', bucket: 'site1', date: day });
    await porpoise.activity.track({ id: 'jdoe@example.com', bucket: 'site1', date: day });
    await porpoise.activity.track({ id: 'jdoe@example.com', bucket: 'site2', date: day });
    await porpoise.activity.track({ id: 'user2@example.com', bucket: 'site2', date: day });
    await porpoise.activity.collapse({
      buckets: ['site1', 'site2'],
      aggregateBuckets: { total: ['site1', 'site2'] },
    });
    const rows = await porpoise.activity.lookupDaily({
      start: '2026-11-23',
      end: '2026-11-24',
      buckets: ['site1', 'site2', 'total'],
    });
    expect(rows).toEqual([{ date: '2026-11-23', counts: { site1: 2, site2: 2, total: 3 }, final: true }]);
  });

  it('events, eventMany, unevent and cohort go to the same data as the parts', async () => {
    await porpoise.eventMany([
      { name: 'signup', id: 1, at: at(16, 9) },
      { name: 'signup', id: 2, at: at(16, 9) },
      { name: 'active', id: 1, at: at(23, 9) },
      { name: 'active', id: 2, at: at(23, 9) },
    ]);
    await porpoise.unevent('active', 2, at(23, 9));
    expect(await porpoise.eventStore.get('active').union(dayrange(-1, 0, { now: NOW }))).toMatchObject({
      size: 1,
    });
    const rows = await porpoise.cohort({
      cohort: porpoise.events('signup'),
      activity: porpoise.events('active'),
      range: weekrange(-1, 0, { now: NOW }),
      periods: 1,
    });
    expect(rows.map((r) => [r.bucket.key, r.size, r.retained])).toEqual([['2026W47', 2, [1]]]);
  });
});

describe('Analytics', () => {
  it('uses a fresh memory backend when none is given', async () => {
    const a = new Analytics();
    const b = new Analytics();
    expect(a.backend).toBeInstanceOf(MemoryBackend);
    await a.event('active', 7);
    expect((await b.events('active').union(dayrange(0, 1))).size).toBe(0);
    expect((await a.events('active').union(dayrange(0, 1))).toArray()).toEqual([7]);
  });

  it('exposes the parts it composes', () => {
    const porpoise = new Analytics();
    expect(porpoise.eventStore).toBeInstanceOf(Events);
    expect(porpoise.counterStore).toBeInstanceOf(Counters);
    expect(porpoise.activity).toBeInstanceOf(ActivityTracker);
    expect(porpoise.events('a')).toBeInstanceOf(EventQuery);
    expect(porpoise.counters('a')).toBeInstanceOf(CounterQuery);
  });

  it('passes shared options to every part, and per-part options win', async () => {
    const porpoise = new Analytics(undefined, {
      zone: 'America/New_York',
      resolutions: ['day'],
      now,
      counters: { resolutions: ['hour', 'day'] },
      activity: { periods: ['daily', 'monthly'], mode: 'approximate' },
    });
    expect(porpoise.eventStore.resolutions).toEqual(['day']);
    expect(porpoise.activity.zone).toBe('America/New_York');
    expect(porpoise.activity.periods).toEqual(['daily', 'monthly']);
    expect(porpoise.activity.mode).toBe('approximate');
    // 02:00 UTC on the 24th is still the 23rd in New York.
    await porpoise.event('active', 3, new Date('2026-11-24T02:00:00Z'));
    const days = await porpoise
      .events('active')
      .counts(dayrange(-1, 1, { now: NOW, zone: 'America/New_York' }));
    expect(days.map((d) => [d.bucket.key, d.count])).toEqual([
      ['20261123', 1],
      ['20261124', 0],
    ]);
    await porpoise.count('x', 'a', 1, new Date('2026-11-24T02:00:00Z'));
    const hours = await porpoise.counters('x').sum(hourrange(-24, 1, { now: NOW, zone: 'America/New_York' }));
    expect(hours.get('a')).toBe(1);
  });

  it('rejects bad options and backends with InvalidArgumentError', () => {
    expect(() => new Analytics({} as never)).toThrow(InvalidArgumentError);
    expect(() => new Analytics(undefined, null as never)).toThrow(InvalidArgumentError);
    expect(() => new Analytics(undefined, { zone: 'Mars/Olympus' })).toThrow(InvalidArgumentError);
    expect(() => new Analytics(undefined, { events: 'x' as never })).toThrow(/options\.events/);
    expect(() => new Analytics(undefined, { activity: { mode: 'fuzzy' as never } })).toThrow(/mode/);
  });

  it('rejects bad calls before writing, as the parts do', async () => {
    const porpoise = new Analytics();
    await expect(porpoise.event('', 1)).rejects.toThrow(InvalidArgumentError);
    await expect(porpoise.event('active', -1)).rejects.toThrow(InvalidArgumentError);
    await expect(porpoise.count('k', 'id', 1.5)).rejects.toThrow(InvalidArgumentError);
    expect(await porpoise.backend.keys()).toEqual([]);
  });
});
