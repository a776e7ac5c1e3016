import type { Backend } from '@porpoise/storage';
import { describeEachBackend } from '@porpoise/test-backends';
import { dayrange, hourrange, minuterange, monthrange, weekrange } from '@porpoise/timerange';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { cohort, Events, InvalidArgumentError } from '../src/index.js';

const NOW = new Date('2026-11-24T12:30:00Z');
const hour = (h: number) => new Date(Date.UTC(2026, 10, 24, h, 15));
/** The start of hour h: range bounds select buckets whose start lies in [floor(start), end). */
const sharp = (h: number) => new Date(Date.UTC(2026, 10, 24, h));

describeEachBackend((make) => {
  let backend: Backend;
  let events: Events;
  beforeEach(async () => {
    backend = make();
    events = new Events(backend, { now: () => NOW });
    return async () => {
      await backend.close();
    };
  });

  describe('the original Porpoise test', () => {
    it('active AND played yields {1,5,7} for each of four hours', async () => {
      const records = [];
      for (let h = 0; h < 4; h++) {
        for (const id of [1, 4, 5, 6, 7, 20]) records.push({ name: 'active', id, at: hour(h) });
        for (const id of [1, 5, 7]) records.push({ name: 'played', id, at: hour(h) });
      }
      await events.eventMany(records);
      const range = hourrange(sharp(0), sharp(4));
      const seen: number[][] = [];
      for await (const ids of events.get('active').and(events.get('played')).over(range))
        seen.push(ids.toArray());
      expect(seen).toEqual([
        [1, 5, 7],
        [1, 5, 7],
        [1, 5, 7],
        [1, 5, 7],
      ]);
    });

    it("the README's login & song:played query over hourrange(-24)", async () => {
      await events.event('active', 1, hour(9));
      await events.event('active', 2, hour(9));
      await events.event('login', 1, hour(9));
      await events.event('song:played', 1, hour(9));
      await events.event('login', 2, hour(10));
      const range = hourrange(-24, 0, { now: NOW });
      const perHour = new Map<string, number[]>();
      for await (const users of events.get('login').and(events.get('song:played')).over(range)) {
        if (users.size > 0) perHour.set(users.bucket!.key, users.toArray());
      }
      expect(range.size).toBe(24);
      expect([...perHour]).toEqual([['2026112409', [1]]]);
    });
  });

  describe('queries', () => {
    beforeEach(async () => {
      await events.eventMany([
        ...[1, 2, 3, 4].map((id) => ({ name: 'a', id, at: hour(1) })),
        ...[3, 4, 5].map((id) => ({ name: 'b', id, at: hour(1) })),
        ...[4, 6].map((id) => ({ name: 'c', id, at: hour(1) })),
      ]);
    });
    const ids = async (q: ReturnType<Events['get']>) =>
      (await q.union(hourrange(sharp(1), sharp(2)))).toArray();

    it('and, or, xor, andNot', async () => {
      const [a, b, c] = [events.get('a'), events.get('b'), events.get('c')];
      expect(await ids(a.and(b))).toEqual([3, 4]);
      expect(await ids(a.or(c))).toEqual([1, 2, 3, 4, 6]);
      expect(await ids(a.xor(b))).toEqual([1, 2, 5]);
      expect(await ids(a.andNot(b))).toEqual([1, 2]);
    });

    it('not() stays below the largest recorded id', async () => {
      expect(await ids(events.get('a').not())).toEqual([0, 5, 6]);
    });

    it('nests four deep', async () => {
      const [a, b, c] = [events.get('a'), events.get('b'), events.get('c')];
      expect(
        await ids(
          a
            .or(b)
            .and(c.not().or(b.and(c)))
            .xor(c),
        ),
      ).toEqual([1, 2, 3, 5, 6]);
    });

    it('counts equal the sizes of over()', async () => {
      const range = hourrange(sharp(0), sharp(3));
      const counts = await events.get('a').and(events.get('b')).counts(range);
      const sizes: number[] = [];
      for await (const set of events.get('a').and(events.get('b')).over(range)) sizes.push(set.size);
      expect(counts.map((c) => c.count)).toEqual([0, 2, 0]);
      expect(sizes).toEqual([0, 2, 0]);
      expect(counts.map((c) => c.bucket.key)).toEqual(['2026112400', '2026112401', '2026112402']);
    });

    it('IdSet answers has() and iterates in order', async () => {
      const set = await events.get('a').union(hourrange(sharp(1), sharp(2)));
      expect(set.has(3)).toBe(true);
      expect(set.has(5)).toBe(false);
      expect([...set]).toEqual([1, 2, 3, 4]);
      expect(set.bucket).toBeNull();
    });
  });

  it('accepts ids 0 and 2^32-1', async () => {
    await events.eventMany([
      { name: 'edge', id: 0, at: hour(1) },
      { name: 'edge', id: 2 ** 32 - 1, at: hour(1) },
    ]);
    const set = await events.get('edge').union(dayrange(hour(0), hour(23)));
    expect(set.toArray()).toEqual([0, 2 ** 32 - 1]);
  });

  it('unevent removes an id at every resolution', async () => {
    await events.event('x', 5, hour(1));
    await events.event('x', 6, hour(1));
    await events.unevent('x', 5, hour(1));
    expect((await events.get('x').union(hourrange(sharp(1), sharp(2)))).toArray()).toEqual([6]);
    expect((await events.get('x').union(monthrange(0, 1, { now: NOW }))).toArray()).toEqual([6]);
  });

  describe('unevent keeps coarse buckets the union of the finer ones', () => {
    const monday = new Date('2026-11-23T10:15Z');
    const tuesday = new Date('2026-11-24T10:15Z');
    const ids = async (range: Parameters<ReturnType<Events['get']>['union']>[0]) =>
      (await events.get('x').union(range)).toArray();

    it('keeps the id in the week and month when it also did the event on another day', async () => {
      await events.event('x', 5, monday);
      await events.event('x', 5, tuesday);
      await events.unevent('x', 5, monday);
      expect(await ids(dayrange('2026-11-23', '2026-11-24'))).toEqual([]);
      expect(await ids(hourrange(new Date('2026-11-23T10:00Z'), new Date('2026-11-23T11:00Z')))).toEqual([]);
      expect(await ids(dayrange('2026-11-24', '2026-11-25'))).toEqual([5]);
      expect(await ids(weekrange('2026-11-23', '2026-11-24'))).toEqual([5]);
      expect(await ids(monthrange('2026-11-01', '2026-11-02'))).toEqual([5]);
    });

    it('keeps the id in the day when it also did the event in another hour of it', async () => {
      await events.event('x', 5, monday);
      await events.event('x', 5, new Date('2026-11-23T11:15Z'));
      await events.unevent('x', 5, monday);
      expect(await ids(hourrange(new Date('2026-11-23T10:00Z'), new Date('2026-11-23T11:00Z')))).toEqual([]);
      expect(await ids(dayrange('2026-11-23', '2026-11-24'))).toEqual([5]);
    });

    it('clears every resolution when no other bucket holds the id', async () => {
      await events.event('x', 5, monday);
      await events.event('x', 6, tuesday);
      await events.unevent('x', 5, monday);
      expect(await ids(weekrange('2026-11-23', '2026-11-24'))).toEqual([6]);
      expect(await ids(monthrange('2026-11-01', '2026-11-02'))).toEqual([6]);
    });

    it('decides each coarse bucket on its own days: a week across two months', async () => {
      // Week 2026W49 runs from Monday 30 November to Sunday 6 December.
      await events.event('x', 5, new Date('2026-11-30T10:00Z'));
      await events.event('x', 5, new Date('2026-12-01T10:00Z'));
      await events.unevent('x', 5, new Date('2026-11-30T10:00Z'));
      expect(await ids(weekrange('2026-11-30', '2026-12-01'))).toEqual([5]);
      expect(await ids(monthrange('2026-11-01', '2026-11-02'))).toEqual([]);
      expect(await ids(monthrange('2026-12-01', '2026-12-02'))).toEqual([5]);
    });

    it('reads the finer buckets in one backend read, then writes once', async () => {
      await events.event('x', 5, monday);
      const read = vi.spyOn(backend, 'read');
      const write = vi.spyOn(backend, 'write');
      await events.unevent('x', 5, monday);
      expect(read).toHaveBeenCalledTimes(1);
      expect(write).toHaveBeenCalledTimes(1);
    });

    it('clears a unit that no finer recorded unit tiles (months over weeks) like the finest', async () => {
      const coarse = new Events(backend, {
        resolutions: ['week', 'month'],
        prefix: 'coarse',
        now: () => NOW,
      });
      await coarse.event('x', 5, monday);
      await coarse.event('x', 5, new Date('2026-11-10T10:00Z'));
      await coarse.unevent('x', 5, monday);
      expect((await coarse.get('x').union(weekrange('2026-11-23', '2026-11-24'))).toArray()).toEqual([]);
      expect((await coarse.get('x').union(monthrange('2026-11-01', '2026-11-02'))).toArray()).toEqual([]);
    });
  });

  it('range() makes ranges on the instance clock, zone and week start', async () => {
    const tokyo = new Events(backend, { now: () => NOW, zone: 'Asia/Tokyo', weekStart: 7, prefix: 'tokyo' });
    const week = tokyo.range('day', -7);
    expect([week.zone, week.weekStart, week.size, week.end.toISO()]).toEqual([
      'Asia/Tokyo',
      7,
      7,
      '2026-11-24T00:00:00.000+09:00',
    ]);
    await tokyo.event('x', 1);
    expect((await tokyo.get('x').union(tokyo.range('week', 0, 1))).toArray()).toEqual([1]);
  });

  it('union over a week gives the unique ids of its days', async () => {
    await events.eventMany([
      { name: 'seen', id: 1, at: new Date('2026-11-16T10:00Z') },
      { name: 'seen', id: 2, at: new Date('2026-11-18T10:00Z') },
      { name: 'seen', id: 1, at: new Date('2026-11-20T10:00Z') },
    ]);
    const week = await events.get('seen').union(dayrange('2026-11-16', '2026-11-23'));
    expect(week.toArray()).toEqual([1, 2]);
  });

  it('records minute buckets beside coarser ones, across the end of DST', async () => {
    const zone = 'America/New_York';
    const fine = new Events(backend, { resolutions: ['minute', 'hour', 'day'], zone, prefix: 'fine' });
    // 05:30Z and 06:30Z are both 01:30 in New York on 2026-11-01 (EDT, then EST).
    await fine.eventMany([
      { name: 'm', id: 1, at: new Date('2026-11-01T05:30:10Z') },
      { name: 'm', id: 2, at: new Date('2026-11-01T06:30:20Z') },
      { name: 'm', id: 3, at: new Date('2026-11-01T06:31:00Z') },
    ]);
    const minutes = await fine
      .get('m')
      .counts(minuterange(new Date('2026-11-01T06:29:00Z'), new Date('2026-11-01T06:32:00Z'), { zone }));
    expect(minutes.map((m) => [m.bucket.key, m.count])).toEqual([
      ['2026110101b29', 0],
      ['2026110101b30', 1],
      ['2026110101b31', 1],
    ]);
    const hours = await fine
      .get('m')
      .counts(hourrange(new Date('2026-11-01T05:00:00Z'), new Date('2026-11-01T07:00:00Z'), { zone }));
    expect(hours.map((h) => [h.bucket.key, h.count])).toEqual([
      ['2026110101', 1],
      ['2026110101b', 2],
    ]);
    const [day] = await fine.get('m').counts(dayrange('2026-11-01', '2026-11-02', { zone }));
    expect(day?.count).toBe(3);
  });

  describe('rollups', () => {
    it('answers weeks and months from days when only days are stored', async () => {
      const daily = new Events(backend, { resolutions: ['day'], prefix: 'daily', now: () => NOW });
      await daily.eventMany([
        { name: 'v', id: 1, at: new Date('2026-11-02T10:00Z') },
        { name: 'v', id: 2, at: new Date('2026-11-08T10:00Z') },
        { name: 'v', id: 3, at: new Date('2026-11-09T10:00Z') },
      ]);
      const weeks = await daily.get('v').counts(weekrange('2026-11-02', '2026-11-16'));
      expect(weeks.map((w) => [w.bucket.key, w.count])).toEqual([
        ['2026W45', 2],
        ['2026W46', 1],
      ]);
      const months = await daily.get('v').counts(monthrange(0, 1, { now: NOW }));
      expect(months[0]?.count).toBe(3);
    });

    it('refuses a unit finer than any stored one, naming the resolutions', async () => {
      const daily = new Events(backend, { resolutions: ['day', 'month'], prefix: 'daily' });
      await expect(daily.get('v').counts(hourrange(-2))).rejects.toThrow(/day, month/);
    });
  });

  it('cohort: size, retained and rates per following period', async () => {
    const day = (d: number) => new Date(Date.UTC(2026, 10, d, 12));
    await events.eventMany([
      ...[1, 2, 3, 4].map((id) => ({ name: 'signup', id, at: day(20) })),
      ...[5, 6].map((id) => ({ name: 'signup', id, at: day(21) })),
      ...[1, 2, 3, 5].map((id) => ({ name: 'active', id, at: day(21) })),
      ...[1, 6].map((id) => ({ name: 'active', id, at: day(22) })),
      ...[1].map((id) => ({ name: 'active', id, at: day(23) })),
    ]);
    const rows = await cohort({
      cohort: events.get('signup'),
      activity: events.get('active'),
      range: dayrange('2026-11-20', '2026-11-22'),
      periods: 3,
    });
    expect(rows.map((r) => [r.bucket.key, r.size, r.retained])).toEqual([
      ['20261120', 4, [3, 1, 1]],
      ['20261121', 2, [1, 0, 0]],
    ]);
    expect(rows[0]?.rates).toEqual([0.75, 0.25, 0.25]);
  });

  it('cohort stops following at the current period', async () => {
    await events.event('signup', 1, new Date('2026-11-22T10:00Z'));
    const rows = await cohort({
      cohort: events.get('signup'),
      activity: events.get('active'),
      range: dayrange(-2, 0, { now: NOW }),
      periods: 5,
    });
    expect(rows.map((r) => r.retained.length)).toEqual([2, 1]);
  });

  it('cohort flags the rows and cells whose bucket has not ended', async () => {
    await events.eventMany([
      { name: 'signup', id: 1, at: new Date('2026-11-23T10:00Z') },
      { name: 'signup', id: 2, at: new Date('2026-11-24T10:00Z') },
      { name: 'active', id: 1, at: new Date('2026-11-24T11:00Z') },
    ]);
    const rows = await cohort({
      cohort: events.get('signup'),
      activity: events.get('active'),
      range: dayrange(-1, 1, { now: NOW }),
      periods: 2,
    });
    expect(rows.map((r) => [r.bucket.key, r.size, r.partial])).toEqual([
      ['20261123', 1, false],
      ['20261124', 1, true],
    ]);
    expect(rows[0]?.cells.map((c) => [c.bucket.key, c.retained, c.rate, c.partial])).toEqual([
      ['20261124', 1, 1, true],
    ]);
    expect(rows[1]?.cells).toEqual([]);
  });

  it('cohort leaves out empty cohorts before the first with members, and keeps later ones', async () => {
    await events.eventMany([
      { name: 'signup', id: 1, at: new Date('2026-11-20T10:00Z') },
      { name: 'signup', id: 2, at: new Date('2026-11-22T10:00Z') },
    ]);
    const rows = await cohort({
      cohort: events.get('signup'),
      activity: events.get('active'),
      range: dayrange('2026-11-15', '2026-11-23'),
      periods: 1,
    });
    expect(rows.map((r) => [r.bucket.key, r.size])).toEqual([
      ['20261120', 1],
      ['20261121', 0],
      ['20261122', 1],
    ]);
  });

  it('cohort gives no rows when no cohort has members', async () => {
    const rows = await cohort({
      cohort: events.get('signup'),
      activity: events.get('active'),
      range: dayrange(-3, 0, { now: NOW }),
    });
    expect(rows).toEqual([]);
  });
});

describe('Events batching and validation', () => {
  it('eventMany is one backend write', async () => {
    const { MemoryBackend } = await import('@porpoise/storage');
    const backend = new MemoryBackend();
    const write = vi.spyOn(backend, 'write');
    const events = new Events(backend);
    await events.eventMany(Array.from({ length: 5000 }, (_, id) => ({ name: 'e', id })));
    expect(write).toHaveBeenCalledTimes(1);
  });

  it('coalesces concurrent event() calls into few writes', async () => {
    const { MemoryBackend } = await import('@porpoise/storage');
    const backend = new MemoryBackend();
    const write = vi.spyOn(backend, 'write');
    const events = new Events(backend);
    await Promise.all(Array.from({ length: 1000 }, (_, id) => events.event('e', id)));
    expect(write.mock.calls.length).toBeLessThanOrEqual(2);
    expect((await events.get('e').union(dayrange(0, 1))).size).toBe(1000);
  });

  const bad: Array<[string, (e: Events) => Promise<unknown> | unknown, string]> = [
    ['empty name', (e) => e.event('', 1), 'name'],
    ['non-string name', (e) => e.event(5 as never, 1), 'name'],
    ['control character in name', (e) => e.event('a\nb', 1), 'name'],
    ['very long name', (e) => e.event('x'.repeat(201), 1), 'name'],
    ['NaN id', (e) => e.event('a', Number.NaN), 'id'],
    ['negative id', (e) => e.event('a', -1), 'id'],
    ['fractional id', (e) => e.event('a', 1.5), 'id'],
    ['id 2^32', (e) => e.event('a', 2 ** 32), 'id'],
    ['string id', (e) => e.event('a', '5' as never), 'id'],
    ['Infinity id', (e) => e.event('a', Number.POSITIVE_INFINITY), 'id'],
    ['invalid date', (e) => e.event('a', 1, new Date('nope')), 'at'],
    ['string date', (e) => e.event('a', 1, '2026-01-01' as never), 'at'],
    [
      'one bad record in a batch',
      (e) =>
        e.eventMany([
          { name: 'a', id: 1 },
          { name: 'a', id: -1 },
        ]),
      'id',
    ],
    ['records not iterable', (e) => e.eventMany(5 as never), 'records'],
    ['unevent with bad id', (e) => e.unevent('a', -5), 'id'],
    ['get with empty name', (e) => e.get(''), 'name'],
    ['range in another zone', (e) => e.get('a').counts(dayrange(-1, 0, { zone: 'Asia/Tokyo' })), 'range'],
    ['not a range', (e) => e.get('a').counts({} as never), 'range'],
  ];
  it.each(bad)('%s is an INVALID_ARGUMENT error and writes nothing', async (_name, call, argument) => {
    const { MemoryBackend } = await import('@porpoise/storage');
    const backend = new MemoryBackend();
    const events = new Events(backend);
    let error: unknown;
    try {
      await call(events);
    } catch (e) {
      error = e;
    }
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect((error as InvalidArgumentError).argument).toBe(argument);
    expect(await backend.keys()).toEqual([]);
  });

  it.each([
    [{ resolutions: [] }, 'resolutions'],
    [{ resolutions: ['fortnight'] }, 'resolutions'],
    [{ resolutions: ['day', 'day'] }, 'resolutions'],
    [{ zone: 'Nowhere/Land' }, 'zone'],
    [{ prefix: 'a:b' }, 'prefix'],
  ])('rejects the options %j', async (options, argument) => {
    const { MemoryBackend } = await import('@porpoise/storage');
    expect(() => new Events(new MemoryBackend(), options as never)).toThrow(
      expect.objectContaining({ argument }) as never,
    );
  });
});
