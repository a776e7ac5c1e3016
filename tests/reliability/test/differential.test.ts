/**
 * Random workloads against every backend and a reference model, answer by answer.
 */
import { ActivityTracker } from '@porpoise/activity';
import { Counters } from '@porpoise/counters';
import { type EventQuery, Events } from '@porpoise/events';
import { dayrange, hourrange, weekrange } from '@porpoise/timerange';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { closeShared, compared, runs } from './backends.js';
import { ActivityModel, CountersModel, EventsModel, type QueryNode } from './model.js';

afterAll(closeShared);

const ZONE = 'America/New_York';
// Three days around the end of DST (2026-11-01 has 25 hours in New York).
const FROM = Date.parse('2026-10-31T04:00:00Z');
const TO = Date.parse('2026-11-03T05:00:00Z');
const instant = fc.integer({ min: FROM, max: TO - 1 });
const names = ['login', 'song:played', 'a{b}'];

const queryArb = (withNot: boolean) =>
  fc.letrec<{ node: QueryNode }>((tie) => ({
    node: fc.oneof(
      { depthSize: 'small', maxDepth: 4 },
      fc.constantFrom(...names).map((name): QueryNode => ({ kind: 'event', name })),
      fc
        .tuple(
          fc.constantFrom('and' as const, 'or' as const, 'xor' as const),
          fc.array(tie('node'), { minLength: 2, maxLength: 3 }),
        )
        .map(([kind, args]): QueryNode => ({ kind, args })),
      fc.tuple(tie('node'), tie('node')).map(([l, r]): QueryNode => ({ kind: 'andnot', args: [l, r] })),
      ...(withNot ? [tie('node').map((arg): QueryNode => ({ kind: 'not', arg }))] : []),
    ),
  })).node;

function build(events: Events, node: QueryNode): EventQuery {
  switch (node.kind) {
    case 'event':
      return events.get(node.name);
    case 'not':
      return build(events, node.arg).not();
    case 'andnot':
      return build(events, node.args[0]).andNot(build(events, node.args[1]));
    default: {
      const [first, ...rest] = node.args.map((a) => build(events, a));
      return rest.reduce((q, r) => q[node.kind](r), first!);
    }
  }
}

const eventOp = (ids: fc.Arbitrary<number>) =>
  fc.record({ unevent: fc.boolean(), name: fc.constantFrom(...names), id: ids, at: instant });

describe.each([
  ['small ids, expressions with NOT', fc.integer({ min: 0, max: 70 }), true],
  [
    'ids up to 2^32-1, expressions without NOT',
    fc.oneof(
      fc.integer({ min: 0, max: 300 }),
      fc.constantFrom(65_535, 65_536, 2 ** 31, 2 ** 32 - 2, 2 ** 32 - 1),
    ),
    false,
  ],
] as const)('events: %s', (_label, ids, withNot) => {
  it('every backend answers like the model, per hour and per day (days rolled up from hours)', async () => {
    const backends = compared();
    await fc.assert(
      fc.asyncProperty(
        fc.array(eventOp(ids), { minLength: 1, maxLength: 40 }),
        queryArb(withNot),
        async (ops, node) => {
          const model = new EventsModel(['hour', 'week'], ZONE);
          for (const op of ops)
            op.unevent ? model.unevent(op.name, op.id, op.at) : model.event(op.name, op.id, op.at);
          const hours = hourrange(new Date(FROM), new Date(TO), { zone: ZONE });
          const days = dayrange(new Date(FROM), new Date(TO), { zone: ZONE });
          const expected = (range: typeof hours) =>
            [...range].map((b) => [...model.ids(node, b)].sort((x, y) => x - y));
          const wantHours = expected(hours);
          const wantDays = expected(days);
          for (const { make } of backends) {
            const backend = make();
            try {
              const events = new Events(backend, { resolutions: ['hour', 'week'], zone: ZONE });
              for (const op of ops) {
                if (op.unevent) await events.unevent(op.name, op.id, op.at);
                else await events.eventMany([{ name: op.name, id: op.id, at: op.at }]);
              }
              const query = build(events, node);
              const gotHours: number[][] = [];
              for await (const set of query.over(hours)) gotHours.push(set.toArray());
              expect(gotHours).toEqual(wantHours);
              expect((await query.counts(days)).map((c) => c.count)).toEqual(wantDays.map((d) => d.length));
              const union = await query.union(days);
              if (!withNot)
                expect(union.toArray()).toEqual([...new Set(wantDays.flat())].sort((x, y) => x - y));
            } finally {
              await backend.write([{ op: 'delete', keys: await backend.keys() }]);
              await backend.close();
            }
          }
        },
      ),
      runs(`events ${withNot ? 'with' : 'without'} NOT`),
    );
  });
});

describe('counters', () => {
  it('every backend sums like the model, per hour, per day and over a week from days', async () => {
    const backends = compared();
    const op = fc.record({
      key: fc.constantFrom('plays', 'song:played'),
      id: fc.oneof(fc.constantFrom('all', '__proto__', 'constructor', 'x:y'), fc.integer({ min: 0, max: 5 })),
      by: fc.integer({ min: -3, max: 5 }),
      at: instant,
    });
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 40 }), async (ops) => {
        const model = new CountersModel(['hour', 'day'], ZONE);
        for (const o of ops) model.count(o.key, String(o.id), o.by, o.at);
        for (const { make } of backends) {
          const backend = make();
          try {
            const counters = new Counters(backend, { resolutions: ['hour', 'day'], zone: ZONE });
            await counters.countMany(ops);
            for (const key of ['plays', 'song:played']) {
              for (const range of [
                hourrange(new Date(FROM), new Date(TO), { zone: ZONE }),
                dayrange(new Date(FROM), new Date(TO), { zone: ZONE }),
                weekrange(new Date(FROM), new Date(TO), { zone: ZONE }),
              ]) {
                const got: Array<Record<string, number>> = [];
                for await (const s of counters.get(key).over(range))
                  got.push(Object.fromEntries([...s.values].sort()));
                expect(got).toEqual([...range].map((b) => model.values(key, b)));
              }
            }
          } finally {
            await backend.write([{ op: 'delete', keys: await backend.keys() }]);
            await backend.close();
          }
        }
      }),
      runs('counters'),
    );
  });
});

describe('activity', () => {
  it('tracks, replacements and collapses at random points look up like the model', async () => {
    const backends = compared();
    const NOW = new Date(Date.UTC(2026, 10, 10, 12));
    const dayOf = (d: number) => new Date(Date.UTC(2026, 10, 1 + d, 10));
    const user = fc.constantFrom('u1', 'u2', 'u3', 'u4', '5', 'anon-1', 'anon-2');
    const bucket = fc.constantFrom('web', 'ios');
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('track' as const),
        id: user,
        bucket,
        day: fc.integer({ min: 0, max: 6 }),
      }),
      fc.record({
        kind: fc.constant('replace' as const),
        oldId: user,
        oldBucket: bucket,
        id: user,
        bucket,
        day: fc.integer({ min: 0, max: 6 }),
      }),
      fc.record({
        kind: fc.constant('collapse' as const),
        day: fc.integer({ min: 1, max: 7 }),
        max: fc.integer({ min: 1, max: 3 }),
      }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 30 }), async (ops) => {
        const model = new ActivityModel();
        for (const o of ops) {
          if (o.kind === 'track') model.track(o.id, o.bucket, o.day);
          else if (o.kind === 'replace') model.replace(o.oldId, o.oldBucket, o.id, o.bucket, o.day);
          else model.collapse(o.day, o.max);
        }
        const platforms = { buckets: ['web', 'ios'], aggregateBuckets: { total: ['web', 'ios'] } };
        for (const { make } of backends) {
          const backend = make();
          try {
            const tracker = new ActivityTracker(backend, { now: () => NOW });
            for (const o of ops) {
              if (o.kind === 'track') await tracker.track({ id: o.id, bucket: o.bucket, date: dayOf(o.day) });
              else if (o.kind === 'replace') {
                await tracker.track({
                  id: o.id,
                  bucket: o.bucket,
                  oldId: o.oldId,
                  oldBucket: o.oldBucket,
                  date: dayOf(o.day),
                });
              } else
                await tracker.collapse({
                  date: new Date(Date.UTC(2026, 10, 1 + o.day)),
                  maxPeriods: o.max,
                  ...platforms,
                });
            }
            const rows = await tracker.lookupDaily({
              start: '2026-11-01',
              end: '2026-11-08',
              buckets: ['web', 'ios', 'total'],
              aggregateBuckets: platforms.aggregateBuckets,
              // A random history may never track a bucket: the model counts it 0.
              allowUnknownBuckets: true,
            });
            expect(rows.map((r) => ({ counts: r.counts, final: r.final }))).toEqual(
              [0, 1, 2, 3, 4, 5, 6].map((d) => model.lookup(d)),
            );
          } finally {
            await backend.write([{ op: 'delete', keys: await backend.keys() }]);
            await backend.close();
          }
        }
      }),
      runs('activity'),
    );
  });
});

describe('events: bulk ingest (dense chunks take the packed path on Redis)', () => {
  it('one eventMany of hundreds of events answers like the model', async () => {
    const backends = compared();
    const ids = fc.oneof(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 65_400, max: 65_700 }));
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ name: fc.constantFrom(...names), id: ids, at: instant }), {
          minLength: 50,
          maxLength: 400,
        }),
        queryArb(false),
        async (records, node) => {
          const model = new EventsModel(['hour', 'day'], ZONE);
          for (const r of records) model.event(r.name, r.id, r.at);
          const days = dayrange(new Date(FROM), new Date(TO), { zone: ZONE });
          const want = [...days].map((b) => [...model.ids(node, b)].sort((x, y) => x - y));
          for (const { make } of backends) {
            const backend = make();
            try {
              const events = new Events(backend, { resolutions: ['hour', 'day'], zone: ZONE });
              await events.eventMany(records);
              await events.eventMany(records.slice(0, 40)); // again: ORed into existing chunks
              const got: number[][] = [];
              for await (const set of build(events, node).over(days)) got.push(set.toArray());
              expect(got).toEqual(want);
            } finally {
              await backend.write([{ op: 'delete', keys: await backend.keys() }]);
              await backend.close();
            }
          }
        },
      ),
      { ...runs('events bulk'), numRuns: Math.min(100, runs('events bulk').numRuns) },
    );
  });
});
