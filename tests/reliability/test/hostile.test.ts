/**
 * Hostile input, table-driven per public entry point: every bad value gets a typed error
 * with a stable code, and afterwards the store holds exactly what it held before (checked
 * on memory and, with a raw SCAN of the prefix, on a real redis-server).
 */
import { ActivityTracker } from '@porpoise/activity';
import { Counters } from '@porpoise/counters';
import { cohort, Events } from '@porpoise/events';
import { type Backend, PorpoiseError, RedisBackend } from '@porpoise/storage';
import { redisClient } from '@porpoise/test-redis';
import { bucketOf, dayrange, hourrange, minuterange, range, weekrange } from '@porpoise/timerange';
import { DateTime } from 'luxon';
import { afterAll, describe, expect, it } from 'vitest';
import { closeShared, compared } from './backends.js';

afterAll(closeShared);

const NOW = new Date('2026-11-24T12:00:00Z');

/** Values that are not a usable name (event name, counter key, bucket, string id). */
const badNames: unknown[] = [
  undefined,
  null,
  true,
  0,
  5,
  Number.NaN,
  '',
  'x'.repeat(201),
  'x'.repeat(100_000),
  '\u0000',
  'a\nb',
  'tab\there',
  '\r',
  '\u001f',
  '\u007f',
  'ok\u0000ok',
  {},
  [],
  ['a'],
  () => 'a',
  Symbol('name'),
  10n,
  new Date(),
  Object.create(null),
  new String('a'),
  { toString: () => 'a' },
  new Map(),
  /a/,
  Number.POSITIVE_INFINITY,
  -1,
  'lone\ud800high',
  'lone\udc00low',
  'cut emoji \ud83d',
  '\ude00\ud83d',
];

/** Numbers that are not a counters or activity id: those are safe integers (pass others as strings). */
const badNumericIds: unknown[] = [
  2 ** 53,
  2 ** 53 + 1,
  2 ** 64,
  -(2 ** 53),
  1.5,
  0.1,
  -2.5,
  Number.MIN_VALUE,
];

/** Values that are not an event id: a non-negative integer below 2^32. */
const badIds: unknown[] = [
  undefined,
  null,
  '5',
  '',
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  -0,
  -1,
  1.5,
  0.1,
  2 ** 32,
  2 ** 53,
  Number.MAX_VALUE,
  Number.MIN_VALUE,
  {},
  [],
  [1],
  10n,
  true,
  new Date(),
  () => 1,
  Symbol('id'),
  new Number(1),
  -(2 ** 31),
  4294967295.5,
  1e21,
  '0x10',
  Object.create(null),
  Number.EPSILON,
];

/** Values that are not an instant (Date, luxon DateTime, epoch ms). */
const badInstants: unknown[] = [
  new Date('nope'),
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  '2026-01-01',
  {},
  [],
  true,
  null,
  DateTime.invalid('broken'),
  DateTime.fromISO('2026-02-30'),
  10n,
  () => NOW,
  Symbol('t'),
];

async function expectTypedRejection(call: () => unknown): Promise<PorpoiseError> {
  let error: unknown;
  try {
    await call();
  } catch (e) {
    error = e;
  }
  expect(PorpoiseError.isInstance(error), `expected a PorpoiseError, got ${String(error)}`).toBe(true);
  const typed = error as PorpoiseError;
  expect(['INVALID_ARGUMENT', 'UNSUPPORTED']).toContain(typed.code);
  return typed;
}

async function rawKeys(backend: Backend): Promise<string[]> {
  if (backend instanceof RedisBackend) {
    const client = redisClient();
    try {
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, batch] = await client.scan(cursor, 'MATCH', `${backend.prefix}:*`, 'COUNT', 1000);
        cursor = next;
        keys.push(...batch);
      } while (cursor !== '0');
      return keys.sort();
    } finally {
      await client.quit();
    }
  }
  return backend.keys();
}

type Case = [string, (b: Backend) => unknown];

function table(entry: string, cases: Case[]): void {
  describe(entry, () => {
    it(`has at least 30 bad inputs (${cases.length})`, () => {
      expect(cases.length).toBeGreaterThanOrEqual(30);
    });
    for (const { name, make } of compared()) {
      it(`rejects every one with a typed error and writes nothing (${name})`, async () => {
        const backend = make();
        try {
          // Something already stored, so "nothing written" is checked against real data.
          await new Events(backend, { now: () => NOW }).event('seed', 1);
          const before = await rawKeys(backend);
          for (const [label, call] of cases) {
            try {
              await expectTypedRejection(() => call(backend));
            } catch (failure) {
              throw new Error(`${entry}: ${label}: ${(failure as Error).message}`);
            }
          }
          expect(await rawKeys(backend)).toEqual(before);
        } finally {
          await backend.write([{ op: 'delete', keys: await backend.keys() }]);
          await backend.close();
        }
      });
    }
  });
}

const label = (value: unknown) => {
  try {
    return typeof value === 'string' && value.length > 20 ? `string(${value.length})` : String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
};
const events = (b: Backend) => new Events(b, { now: () => NOW });
const counters = (b: Backend) => new Counters(b, { now: () => NOW });
const tracker = (b: Backend) => new ActivityTracker(b, { periods: ['daily', 'weekly'], now: () => NOW });

table('Events.event(name, id, at)', [
  ...badNames.map((n): Case => [`name ${label(n)}`, (b) => events(b).event(n as string, 1)]),
  ...badIds.map((id): Case => [`id ${label(id)}`, (b) => events(b).event('e', id as number)]),
  ...badInstants.map((at): Case => [`at ${label(at)}`, (b) => events(b).event('e', 1, at as Date)]),
]);

table('Events.eventMany(records)', [
  ...[undefined, null, 5, 'abc', true, {}].map(
    (r): Case => [`records ${label(r)}`, (b) => events(b).eventMany(r as never)],
  ),
  ...badNames.map(
    (n): Case => [
      `record name ${label(n)}`,
      (b) =>
        events(b).eventMany([
          { name: 'ok', id: 1 },
          { name: n as string, id: 1 },
        ]),
    ],
  ),
  ...badIds.map(
    (id): Case => [
      `record id ${label(id)}`,
      (b) =>
        events(b).eventMany([
          { name: 'ok', id: 1 },
          { name: 'e', id: id as number },
        ]),
    ],
  ),
  ...[null, 5, 'x'].map(
    (r): Case => [`record ${label(r)}`, (b) => events(b).eventMany([{ name: 'ok', id: 1 }, r as never])],
  ),
]);

table('Events.unevent(name, id, at)', [
  ...badNames.map((n): Case => [`name ${label(n)}`, (b) => events(b).unevent(n as string, 1)]),
  ...badIds.map((id): Case => [`id ${label(id)}`, (b) => events(b).unevent('seed', id as number)]),
]);

const badRanges: unknown[] = [
  undefined,
  null,
  {},
  [],
  'day:-7',
  5,
  NOW,
  { unit: 'day', startMs: 0, endMs: 1 },
  () => dayrange(-1),
  Symbol('r'),
  10n,
  true,
  Number.NaN,
  new Map(),
];
const wrongRanges: Array<[string, () => unknown]> = [
  ['a range in another zone', () => dayrange(-1, 0, { zone: 'Asia/Tokyo', now: NOW })],
  ['a range in Kolkata', () => hourrange(-1, 0, { zone: 'Asia/Kolkata', now: NOW })],
  ['a Sunday-week range', () => weekrange(-1, 0, { weekStart: 7, now: NOW })],
  ['minutes (not recorded)', () => minuterange(-5, 0, { now: NOW })],
  ['a minute range over 10 years', () => minuterange(-5_256_000, 0, { now: NOW })],
  ['an hour range over 100 years', () => hourrange(-876_000, 0, { now: NOW })],
];

table('EventQuery.counts/union/over(range)', [
  ...badRanges.flatMap((r): Case[] => [
    [
      `counts(${label(r)})`,
      (b) =>
        events(b)
          .get('e')
          .counts(r as never),
    ],
    [
      `union(${label(r)})`,
      (b) =>
        events(b)
          .get('e')
          .union(r as never),
    ],
  ]),
  ...wrongRanges.flatMap(([name, make]): Case[] => [
    [
      `counts: ${name}`,
      (b) =>
        events(b)
          .get('e')
          .counts(make() as never),
    ],
    // over() streams: an enormous range is fine there (it is iterated lazily, page by page);
    // everything else is refused by over() as well.
    ...(name.includes('years')
      ? []
      : [
          [
            `over: ${name}`,
            async (b: Backend) => {
              for await (const _ of events(b)
                .get('e')
                .over(make() as never))
                break;
            },
          ] as Case,
        ]),
  ]),
]);

table('Events.get(name) and cohort(options)', [
  ...badNames.map((n): Case => [`get(${label(n)})`, (b) => events(b).get(n as string)]),
  ...[undefined, null, {}, 5].map((o): Case => [`cohort(${label(o)})`, () => cohort(o as never)]),
  [
    'cohort: periods -1',
    (b) =>
      cohort({ cohort: events(b).get('a'), activity: events(b).get('b'), range: dayrange(-2), periods: -1 }),
  ],
  [
    'cohort: periods 1.5',
    (b) =>
      cohort({ cohort: events(b).get('a'), activity: events(b).get('b'), range: dayrange(-2), periods: 1.5 }),
  ],
  [
    'cohort: activity not a query',
    (b) => cohort({ cohort: events(b).get('a'), activity: 'b' as never, range: dayrange(-2) }),
  ],
  [
    'cohort: range in another zone',
    (b) =>
      cohort({
        cohort: events(b).get('a'),
        activity: events(b).get('b'),
        range: dayrange(-2, 0, { zone: 'Europe/Paris' }),
      }),
  ],
]);

table('Counters.count(key, id, by, at)', [
  ...badNames
    .filter((n) => typeof n !== 'undefined')
    .map((n): Case => [`key ${label(n)}`, (b) => counters(b).count(n as string)]),
  ...badNames
    .filter((n) => n !== undefined && !(typeof n === 'number' && Number.isFinite(n) && !Object.is(n, -0)))
    .map((id): Case => [`id ${label(id)}`, (b) => counters(b).count('k', id as string)]),
  ...badNumericIds.map(
    (id): Case => [`numeric id ${label(id)}`, (b) => counters(b).count('k', id as number)],
  ),
  ...badNumericIds.map(
    (id): Case => [
      `countMany numeric id ${label(id)}`,
      (b) =>
        counters(b).countMany([
          { key: 'k', id: 1 },
          { key: 'k', id: id as number },
        ]),
    ],
  ),
  ...[Number.NaN, Number.POSITIVE_INFINITY, 1.5, 2 ** 53, -(2 ** 53), '1', null, {}, [], 10n, true, -0.5].map(
    (by): Case => [`by ${label(by)}`, (b) => counters(b).count('k', 'a', by as number)],
  ),
  ...badInstants
    .filter((at) => at !== null)
    .map((at): Case => [`at ${label(at)}`, (b) => counters(b).count('k', 'a', 1, at as Date)]),
]);

table('Counters.countMany/get/over/sum', [
  ...[undefined, null, 5, 'abc', true, {}].map(
    (r): Case => [`records ${label(r)}`, (b) => counters(b).countMany(r as never)],
  ),
  ...badNames
    .filter((n) => n !== undefined)
    .map((n): Case => [`get(${label(n)})`, (b) => counters(b).get(n as string)]),
  ...badRanges.map(
    (r): Case => [
      `sum(${label(r)})`,
      (b) =>
        counters(b)
          .get('k')
          .sum(r as never),
    ],
  ),
  ...wrongRanges.map(
    ([name, make]): Case => [
      `sum: ${name}`,
      (b) =>
        counters(b)
          .get('k')
          .sum(make() as never),
    ],
  ),
]);

table('ActivityTracker.track(args)', [
  ...[undefined, null, 5, 'x'].map((a): Case => [`args ${label(a)}`, (b) => tracker(b).track(a as never)]),
  ...badNames
    .filter((n) => !(typeof n === 'number' && Number.isFinite(n) && !Object.is(n, -0)))
    .map((id): Case => [`id ${label(id)}`, (b) => tracker(b).track({ id: id as string })]),
  ...badNumericIds.map(
    (id): Case => [`numeric id ${label(id)}`, (b) => tracker(b).track({ id: id as number })],
  ),
  ...badNumericIds.map(
    (id): Case => [`numeric oldId ${label(id)}`, (b) => tracker(b).track({ id: 1, oldId: id as number })],
  ),
  ...badNames
    .filter((n) => n !== undefined)
    .map((bk): Case => [`bucket ${label(bk)}`, (b) => tracker(b).track({ id: 1, bucket: bk as string })]),
  // Activity dates also accept ISO strings (TimeInput), so '2026-01-01' is valid there.
  ...badInstants
    .filter((d) => d !== null && d !== '2026-01-01')
    .map((d): Case => [`date ${label(d)}`, (b) => tracker(b).track({ id: 1, date: d as Date })]),
  ['date: an impossible ISO day', (b) => tracker(b).track({ id: 1, date: '2026-02-30' })],
  ...[[], ['hourly'], ['daily', 'daily'], ['monthly'], 'daily', [null]].map(
    (p): Case => [`periods ${label(p)}`, (b) => tracker(b).track({ id: 1, periods: p as never })],
  ),
]);

table('ActivityTracker.collapse/lookup/trackMany', [
  ...[0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '1', null].map(
    (m): Case => [`maxPeriods ${label(m)}`, (b) => tracker(b).collapse({ maxPeriods: m as number })],
  ),
  ...[{ total: [] }, { total: 'web' }, ['web'], 5, { total: [''] }, { '': ['web'] }, { total: [null] }].map(
    (a): Case => [
      `aggregateBuckets ${label(JSON.stringify(a))}`,
      (b) => tracker(b).collapse({ aggregateBuckets: a as never }),
    ],
  ),
  [
    'aggregate named like a bucket',
    (b) => tracker(b).collapse({ buckets: ['web'], aggregateBuckets: { web: ['ios'] } }),
  ],
  ...[[], [''], 'web', [5], null].map(
    (bk): Case => [`buckets ${label(bk)}`, (b) => tracker(b).collapse({ buckets: bk as never })],
  ),
  ...[undefined, 'yearly', 'monthly', 5].map(
    (p): Case => [`lookup period ${label(p)}`, (b) => tracker(b).lookup({ period: p as never })],
  ),
  ['lookup start after end', (b) => tracker(b).lookupDaily({ start: '2026-12-01', end: '2026-11-01' })],
  ['lookup invalid start', (b) => tracker(b).lookupDaily({ start: 'soon' })],
  ['lookup invalid end', (b) => tracker(b).lookupDaily({ end: new Date('x') })],
  ...[undefined, null, 5, {}].map(
    (r): Case => [`trackMany ${label(r)}`, (b) => tracker(b).trackMany(r as never)],
  ),
  ['trackMany with a replacement', (b) => tracker(b).trackMany([{ id: 1, oldId: 2 } as never])],
  ['trackMany with one bad id', (b) => tracker(b).trackMany([{ id: 1 }, { id: '' }])],
]);

describe('enormous ranges', () => {
  it('over() walks a 100-year hour range lazily, one page at a time', async () => {
    const { make } = compared()[0]!;
    const backend = make();
    const e = new Events(backend, { now: () => NOW });
    await e.event('e', 7, new Date('1950-01-01T00:30:00Z'));
    const huge = hourrange(new Date('1950-01-01T00:00:00Z'), new Date('2050-01-01T00:00:00Z'));
    expect(huge.size).toBe(876_600);
    let seen = 0;
    for await (const set of e.get('e').over(huge)) {
      expect(set.toArray()).toEqual([7]);
      if (++seen === 1) break;
    }
    expect(seen).toBe(1);
    await backend.close();
  });
});

table('range factories and bucketOf (pure)', [
  ...[
    Number.NaN,
    Number.POSITIVE_INFINITY,
    1.5,
    '2026-13-01',
    'yesterday',
    new Date('x'),
    {},
    [],
    true,
    10n,
  ].map((s): Case => [`dayrange start ${label(s)}`, () => dayrange(s as never, 0)]),
  ...['Mars/Base', '', 'utc+25', 5, null].map(
    (z): Case => [`zone ${label(z)}`, () => dayrange(-1, 0, { zone: z as never })],
  ),
  ...[0, 2, 'monday', null].map(
    (w): Case => [`weekStart ${label(w)}`, () => weekrange(-1, 0, { weekStart: w as never })],
  ),
  ...['fortnight', '', null, 5].map((u): Case => [`unit ${label(u)}`, () => range(u as never)]),
  ['inverted offsets', () => dayrange(0, -1)],
  ['inverted dates', () => dayrange(new Date('2026-02-01'), new Date('2026-01-01'))],
  ...badInstants
    .filter((t) => t !== null)
    .map((t): Case => [`bucketOf ${label(t)}`, () => bucketOf(t as never, 'day')]),
]);

describe('names cannot collide and prefixes cannot leak', () => {
  const nasty = [
    'a:b',
    'a%3Ab',
    'a',
    'b',
    'a:b:day:20261124',
    '{a}',
    'a}',
    '%',
    '%25',
    'x y',
    'ü:ß',
    '__proto__',
  ];

  it('events whose names contain separators, braces or escapes stay apart', async () => {
    for (const { make } of compared()) {
      const backend = make();
      const e = new Events(backend, { now: () => NOW });
      await e.eventMany(nasty.map((name, id) => ({ name, id })));
      for (const [id, name] of nasty.entries()) {
        expect((await e.get(name).union(dayrange(0, 1, { now: NOW }))).toArray()).toEqual([id]);
      }
      await backend.write([{ op: 'delete', keys: await backend.keys() }]);
      await backend.close();
    }
  });

  it('a Redis prefix never reads, writes or deletes outside itself, whatever the names', async () => {
    const backends = compared();
    const redis = backends.find((b) => b.name === 'redis');
    if (!redis) return;
    const client = redisClient();
    try {
      const outsider = `outsider-${Date.now()}`;
      await client.set(outsider, 'keep');
      await client.set(`${outsider}:{x}`, 'keep');
      const backend = redis.make() as RedisBackend;
      const before = (await client.keys('*')).filter((k) => !k.startsWith(`${backend.prefix}:`)).sort();
      const e = new Events(backend, { now: () => NOW });
      const c = new Counters(backend, { now: () => NOW });
      const t = new ActivityTracker(backend, { now: () => NOW });
      await e.eventMany(nasty.map((name, id) => ({ name, id })));
      await c.countMany(nasty.map((key) => ({ key, id: key })));
      for (const bucket of nasty) await t.track({ id: bucket, bucket });
      await t.collapse({ buckets: nasty, maxPeriods: 3 });
      await backend.write([{ op: 'delete', keys: await backend.keys() }]);
      const after = (await client.keys('*')).filter((k) => !k.startsWith(`${backend.prefix}:`)).sort();
      expect(after).toEqual(before);
      expect(await client.get(outsider)).toBe('keep');
      await client.del(outsider, `${outsider}:{x}`);
      await backend.close();
    } finally {
      await client.quit();
    }
  });
});
