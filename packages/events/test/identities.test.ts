import { Identities } from '@porpoise/identity';
import type { Backend } from '@porpoise/storage';
import { describeEachBackend } from '@porpoise/test-backends';
import { dayrange, hourrange } from '@porpoise/timerange';
import { beforeEach, describe, expect, it } from 'vitest';
import { cohort, Events, ExternalIdSet, InvalidArgumentError } from '../src/index.js';

const NOW = new Date('2026-11-24T12:30:00Z');
const hour = (h: number) => new Date(Date.UTC(2026, 10, 24, h, 15));
const sharp = (h: number) => new Date(Date.UTC(2026, 10, 24, h));
const ALICE = '0b7e1c9a-2f4d-4c4e-9a51-3d2f8e6b7a10';
const BOB = 'bob@example.com';

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

describeEachBackend((make) => {
  let backend: Backend;
  let identities: Identities;
  let events: Events<{ identities: Identities; now: () => Date }>;
  beforeEach(async () => {
    backend = make();
    identities = new Identities(backend);
    events = new Events(backend, { identities, now: () => NOW });
    return async () => {
      await backend.close();
    };
  });

  it('records string ids and lists them back, per bucket and over a range', async () => {
    await events.event('login', ALICE, hour(10));
    await events.eventMany([
      { name: 'login', id: BOB, at: hour(11) },
      { name: 'login', id: 42, at: hour(11) },
      { name: 'play', id: BOB, at: hour(11) },
    ]);
    const sets = await collect(events.get('login').over(hourrange(sharp(10), sharp(12))));
    expect(sets.map((set) => set.toArray().sort())).toEqual([[ALICE], ['42', BOB]]);
    expect(sets[1]!.has(BOB) && sets[1]!.has(42) && sets[1]!.has('42') && !sets[1]!.has(ALICE)).toBe(true);
    expect(sets[1]!.size).toBe(2);
    const both = await events
      .get('login')
      .and(events.get('play'))
      .union(dayrange(hour(0), hour(23)));
    expect(both).toBeInstanceOf(ExternalIdSet);
    expect([...both]).toEqual([BOB]);
  });

  it('counts and cohorts run on the integers', async () => {
    await events.eventMany([
      { name: 'signup', id: ALICE, at: hour(9) },
      { name: 'signup', id: BOB, at: hour(9) },
      { name: 'active', id: ALICE, at: hour(10) },
    ]);
    expect(
      (await events.get('signup').counts(hourrange(sharp(9), sharp(11)))).map(({ count }) => count),
    ).toEqual([2, 0]);
    const rows = await cohort({
      cohort: events.get('signup'),
      activity: events.get('active'),
      range: hourrange(sharp(9), sharp(10)),
      periods: 1,
    });
    expect(rows.map((r) => [r.size, r.retained])).toEqual([[2, [1]]]);
  });

  it('unevent takes a string id; an id never seen is not assigned', async () => {
    await events.event('login', ALICE, hour(10));
    await events.unevent('login', ALICE, hour(10));
    await events.unevent('login', 'never-seen', hour(10));
    expect(await identities.peek(['never-seen'])).toEqual([null]);
    expect((await events.get('login').union(hourrange(sharp(10), sharp(11)))).size).toBe(0);
  });

  it('a signup keeps the visitor’s history: events before and after login are the user’s', async () => {
    await events.event('view', 'anon-7', hour(9));
    await identities.link('anon-7', BOB);
    await events.event('purchase', BOB, hour(10));
    const viewedThenBought = await events
      .get('view')
      .union(dayrange(hour(0), hour(23)))
      .then((set) => set.toArray());
    expect(viewedThenBought).toEqual([BOB]);
    expect([...(await events.get('purchase').union(dayrange(hour(0), hour(23))))]).toEqual([BOB]);
  });

  it('rejects bad ids before anything is written or assigned', async () => {
    for (const id of ['', 'a\ud800', -1, 1.5, {}]) {
      await expect(
        events.eventMany([
          { name: 'login', id: 'fine' },
          { name: 'login', id: id as string },
        ]),
      ).rejects.toThrow(InvalidArgumentError);
      await expect(events.event('login', id as string)).rejects.toThrow(InvalidArgumentError);
    }
    await expect(
      events.eventMany([
        { name: 'login', id: 'fine' },
        { name: '', id: 'x' },
      ]),
    ).rejects.toThrow(InvalidArgumentError);
    expect(await backend.keys()).toEqual([]);
  });
});

describe('Events without identities', () => {
  it('refuses an identities option that is no id dictionary', async () => {
    const { MemoryBackend } = await import('@porpoise/storage');
    expect(() => new Events(new MemoryBackend(), { identities: {} as never })).toThrow(InvalidArgumentError);
  });
});

describeEachBackend((make) => {
  it('counts of not() leave out the integers no id owns yet; listings too', async () => {
    const backend = make();
    const identities = new Identities(backend);
    const events = new Events(backend, { identities, now: () => NOW });
    const people = Array.from({ length: 40 }, (_, i) => `person-${i}`);
    await events.eventMany(people.map((id) => ({ name: 'visit', id, at: hour(10) })));
    await events.eventMany(people.slice(0, 10).map((id) => ({ name: 'buy', id, at: hour(10) })));
    const range = hourrange(sharp(10), sharp(11));
    expect((await events.get('buy').not().counts(range)).map(({ count }) => count)).toEqual([30]);
    expect((await events.get('visit').andNot(events.get('buy')).counts(range))[0]!.count).toBe(30);
    const [set] = await collect(events.get('buy').not().over(range));
    expect(set!.size).toBe(30);
    expect(set!.has('person-39') && !set!.has('person-0')).toBe(true);
  });
});
