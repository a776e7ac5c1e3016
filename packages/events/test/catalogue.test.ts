import type { Backend } from '@porpoise/storage';
import { describeEachBackend } from '@porpoise/test-backends';
import { dayrange, hourrange, weekrange } from '@porpoise/timerange';
import { beforeEach, describe, expect, it } from 'vitest';
import { Events, InvalidArgumentError } from '../src/index.js';

const NOW = new Date('2026-11-24T12:30:00Z');
const day = (d: number, h = 10) => new Date(Date.UTC(2026, 10, d, h));

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

  describe('names()', () => {
    it('lists every event recorded, sorted, by event, eventMany and another instance', async () => {
      await events.event('song:played', 1);
      await events.eventMany([
        { name: 'active', id: 1 },
        { name: 'signup', id: 2 },
      ]);
      const other = new Events(backend, { now: () => NOW });
      await other.event('login', 3, day(20));
      expect(await events.names()).toEqual(['active', 'login', 'signup', 'song:played']);
      expect(await other.names()).toEqual(['active', 'login', 'signup', 'song:played']);
    });

    it('filters by prefix', async () => {
      await events.eventMany(['song:played', 'song:skipped', 'signup'].map((name) => ({ name, id: 1 })));
      expect(await events.names({ prefix: 'song:' })).toEqual(['song:played', 'song:skipped']);
      expect(await events.names({ prefix: 'nothing' })).toEqual([]);
    });

    it('is empty before anything is recorded', async () => {
      expect(await events.names()).toEqual([]);
    });

    it('keeps namespaces apart', async () => {
      const app = new Events(backend, { prefix: 'app', now: () => NOW });
      await app.event('active', 1);
      await events.event('login', 1);
      expect(await app.names()).toEqual(['active']);
      expect(await events.names()).toEqual(['login']);
    });

    it('writes the catalogue at most once per new name and bucket per process', async () => {
      const writes: number[] = [];
      const counting: Backend = {
        name: backend.name,
        read: (ops) => backend.read(ops),
        write: (ops, options) => {
          writes.push(ops.filter((op) => op.op === 'setAdd').length);
          return backend.write(ops, options);
        },
        supports: (feature) => backend.supports(feature),
        keys: () => backend.keys(),
        close: () => backend.close(),
      };
      const counted = new Events(counting, { now: () => NOW });
      await counted.event('active', 1);
      await counted.event('active', 2);
      await counted.event('active', 3);
      // The first write adds the name and its buckets; later ones in the same buckets add nothing.
      expect(writes).toEqual([2, 0, 0]);
    });

    it('rejects a non-string prefix', async () => {
      await expect(events.names({ prefix: 3 as never })).rejects.toThrow(InvalidArgumentError);
    });
  });

  describe('counts() recorded', () => {
    it('tells a bucket with no data from a real zero', async () => {
      await events.event('active', 1, day(22));
      await events.event('signup', 1, day(23));
      const rows = await events
        .get('active')
        .andNot(events.get('signup'))
        .counts(dayrange(day(21, 0), day(24, 0)));
      expect(rows.map(({ bucket, count, recorded }) => [bucket.key, count, recorded])).toEqual([
        ['20261121', 0, false],
        ['20261122', 1, true],
        ['20261123', 0, true],
      ]);
    });

    it('a rolled-up bucket is recorded when any of its leaves is', async () => {
      await events.event('active', 1, day(17));
      const rows = await events.get('active').counts(weekrange(day(9, 0), day(23, 0)));
      expect(rows.map((r) => r.recorded)).toEqual([false, true]);
    });
  });

  describe('segments', () => {
    beforeEach(async () => {
      await events.markMany([
        { name: 'plan:pro', id: 1 },
        { name: 'plan:pro', id: 3 },
        { name: 'country:FR', id: 3 },
        { name: 'country:FR', id: 4 },
      ]);
    });

    it('size, has, ids of a segment', async () => {
      const pro = events.segment('plan:pro');
      expect(await pro.size()).toBe(2);
      expect(await pro.has(3)).toBe(true);
      expect(await pro.has(2)).toBe(false);
      expect((await pro.ids()).toArray()).toEqual([1, 3]);
    });

    it('combine with each other without a range', async () => {
      const both = events.segment('plan:pro').and(events.segment('country:FR'));
      expect((await both.ids()).toArray()).toEqual([3]);
      expect((await events.segment('plan:pro').not().ids()).toArray()).toEqual([0, 2, 4]);
      expect(await events.segment('plan:pro').not().has(4)).toBe(true);
    });

    it('apply to every bucket of a bucketed query', async () => {
      await events.eventMany([
        ...[1, 2, 3].map((id) => ({ name: 'active', id, at: day(22) })),
        ...[2, 3].map((id) => ({ name: 'active', id, at: day(23) })),
      ]);
      const rows = await events
        .get('active')
        .and(events.segment('plan:pro'))
        .counts(dayrange(day(22, 0), day(24, 0)));
      expect(rows.map((r) => [r.bucket.key, r.count, r.recorded])).toEqual([
        ['20261122', 2, true],
        ['20261123', 1, true],
      ]);
    });

    it('unmark removes the id; an unknown segment is empty', async () => {
      await events.unmark('plan:pro', 1);
      expect((await events.segment('plan:pro').ids()).toArray()).toEqual([3]);
      expect(await events.segment('never').size()).toBe(0);
    });

    it('are listed apart from events', async () => {
      await events.event('active', 1);
      expect(await events.segments()).toEqual(['country:FR', 'plan:pro']);
      expect(await events.segments({ prefix: 'plan:' })).toEqual(['plan:pro']);
      expect(await events.names()).toEqual(['active']);
    });

    it('raise the NOT universe like events', async () => {
      await events.mark('beta', 9);
      expect((await events.segment('plan:pro').not().ids()).toArray()).toEqual([0, 2, 4, 5, 6, 7, 8, 9]);
    });

    it('a bucketed query has no size() without a range', async () => {
      await expect(events.get('active').size()).rejects.toThrow(InvalidArgumentError);
      await expect(events.get('active').and(events.segment('plan:pro')).ids()).rejects.toThrow(/during/);
    });

    it('bad input writes nothing', async () => {
      await expect(
        events.markMany([
          { name: 'x', id: 1 },
          { name: 'x', id: -1 },
        ]),
      ).rejects.toThrow(InvalidArgumentError);
      expect(() => events.segment('')).toThrow(InvalidArgumentError);
      expect(await events.segments()).toEqual(['country:FR', 'plan:pro']);
    });
  });

  describe('ids([...]) operands', () => {
    beforeEach(async () => {
      await events.eventMany([
        ...[1, 2, 3, 12].map((id) => ({ name: 'active', id, at: day(22) })),
        ...[2, 43].map((id) => ({ name: 'active', id, at: day(23) })),
      ]);
    });

    it('combine with bucketed queries in counts, over and union', async () => {
      const q = events.get('active').and(events.ids([2, 12, 43]));
      const range = dayrange(day(22, 0), day(24, 0));
      expect((await q.counts(range)).map((r) => r.count)).toEqual([2, 2]);
      const seen: number[][] = [];
      for await (const set of q.over(range)) seen.push(set.toArray());
      expect(seen).toEqual([
        [2, 12],
        [2, 43],
      ]);
      expect((await q.union(range)).toArray()).toEqual([2, 12, 43]);
    });

    it('work under NOT, XOR and AND NOT', async () => {
      const range = dayrange(day(22, 0), day(23, 0));
      const ids = async (q: ReturnType<Events['ids']>) => (await q.union(range)).toArray();
      expect(await ids(events.get('active').xor(events.ids([1, 50])))).toEqual([2, 3, 12, 50]);
      expect(await ids(events.get('active').andNot(events.ids([1, 2])))).toEqual([3, 12]);
      expect(await ids(events.ids([0, 1, 5]).andNot(events.get('active')).not())).toEqual([
        1,
        2,
        3,
        4,
        ...Array.from({ length: 38 }, (_, i) => i + 6),
      ]);
    });

    it('alone, or with segments, need no range', async () => {
      await events.mark('plan:pro', 2);
      const q = events.ids([2, 12]).and(events.segment('plan:pro'));
      expect((await q.ids()).toArray()).toEqual([2]);
      expect(await q.size()).toBe(1);
      expect(await q.has(12)).toBe(false);
      expect(await events.ids([7]).has(7)).toBe(true);
    });

    it('reject bad ids before anything is read', () => {
      expect(() => events.ids([1, -2])).toThrow(InvalidArgumentError);
      expect(() => events.ids(3 as never)).toThrow(InvalidArgumentError);
    });

    it('leave no key behind', async () => {
      const before = await backend.keys();
      await events
        .get('active')
        .and(events.ids([2]))
        .counts(dayrange(day(22, 0), day(24, 0)));
      expect(await backend.keys()).toEqual(before);
    });
  });

  describe('during(range)', () => {
    beforeEach(async () => {
      // October: 1, 2, 3 active; November: 2, 3, 4. Signups in week 46, plays in week 47.
      await events.eventMany([
        ...[1, 2, 3].map((id) => ({ name: 'active', id, at: new Date(Date.UTC(2026, 9, 10 + id)) })),
        ...[2, 3, 4].map((id) => ({ name: 'active', id, at: day(2 + id) })),
        ...[5, 6, 7].map((id) => ({ name: 'signup', id, at: day(10) })),
        ...[6, 7, 8].map((id) => ({ name: 'played', id, at: day(17) })),
      ]);
    });
    const november = () => events.range('month', 0, 1);
    const october = () => events.range('month', -1, 0);

    it('active this month AND NOT last month, one expression', async () => {
      const active = events.get('active');
      const q = active.during(november()).andNot(active.during(october()));
      expect((await q.ids()).toArray()).toEqual([4]);
      expect(await q.size()).toBe(1);
      expect(await q.has(4)).toBe(true);
    });

    it('signed up in week 46 AND played in week 47', async () => {
      const q = events
        .get('signup')
        .during(events.range('week', day(9, 0), day(16, 0)))
        .and(events.get('played').during(events.range('week', day(16, 0), day(23, 0))));
      expect((await q.ids()).toArray()).toEqual([6, 7]);
    });

    it('month AND last month, year minus week, day XOR day', async () => {
      const active = events.get('active');
      expect((await active.during(november()).and(active.during(october())).ids()).toArray()).toEqual([2, 3]);
      // The year (from months) minus ISO week 45 (2-8 November, from days).
      const year = events.range('year', 0, 1);
      const week = events.range('week', day(2, 0), day(9, 0));
      expect((await active.during(year).andNot(active.during(week)).ids()).toArray()).toEqual([1]);
      const xor = active
        .during(events.range('day', day(4, 0), day(5, 0)))
        .xor(active.during(events.range('day', day(5, 0), day(6, 0))));
      expect((await xor.ids()).toArray()).toEqual([2, 3]);
    });

    it('is the same operand in every bucket of an outer range', async () => {
      const retained = events.get('active').and(events.get('active').during(october()));
      const rows = await retained.counts(dayrange(day(3, 0), day(7, 0)));
      expect(rows.map((r) => [r.bucket.key, r.count])).toEqual([
        ['20261103', 0],
        ['20261104', 1],
        ['20261105', 1],
        ['20261106', 0],
      ]);
      expect(rows.map((r) => r.recorded)).toEqual([false, true, true, true]);
    });

    it('over an empty range is empty', async () => {
      const empty = dayrange(day(5, 0), day(5, 0));
      expect(await events.get('active').during(empty).size()).toBe(0);
    });

    it('a range in another zone is refused', () => {
      expect(() => events.get('active').during(hourrange(-1, 0, { zone: 'Europe/Paris' }))).toThrow(
        InvalidArgumentError,
      );
    });
  });
});
