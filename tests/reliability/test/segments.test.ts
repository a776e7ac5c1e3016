/**
 * Segments, literal id lists and cross-range (during) operands, mixed with bucketed events:
 * every backend against the model, per bucket and for range-less queries.
 */
import { type EventQuery, Events } from '@porpoise/events';
import { dayrange, hourrange, type TimeRange } from '@porpoise/timerange';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { closeShared, compared, runs } from './backends.js';
import { EventsModel, type QueryNode } from './model.js';

afterAll(closeShared);

const ZONE = 'America/New_York';
// Three days around the end of DST (2026-11-01 has 25 hours in New York).
const FROM = Date.parse('2026-10-31T04:00:00Z');
const TO = Date.parse('2026-11-03T05:00:00Z');
const instant = fc.integer({ min: FROM, max: TO - 1 });
const eventNames = ['login', 'song:played'];
const segmentNames = ['plan:pro', 'country:FR'];
const id = fc.integer({ min: 0, max: 60 });

const day = (n: number) => new Date(Date.parse('2026-10-31T04:00:00Z') + n * 86_400_000);
/** Fixed ranges a during operand may take: single days, two days, some hours, an empty range. */
const RANGES: TimeRange[] = [
  dayrange(day(0), day(1), { zone: ZONE }),
  dayrange(day(1), day(3), { zone: ZONE }),
  hourrange(new Date(FROM + 5 * 3_600_000), new Date(FROM + 30 * 3_600_000), { zone: ZONE }),
  dayrange(day(2), day(2), { zone: ZONE }),
];

const leaf = (timed: boolean) =>
  fc.oneof(
    ...(timed ? [fc.constantFrom(...eventNames).map((name): QueryNode => ({ kind: 'event', name }))] : []),
    fc.constantFrom(...segmentNames).map((name): QueryNode => ({ kind: 'segment', name })),
    fc.array(id, { maxLength: 6 }).map((ids): QueryNode => ({ kind: 'ids', ids })),
  );

/** Expressions over events (timed only), segments, id lists and during operands, with NOT. */
const queryArb = (timed: boolean) =>
  fc.letrec<{ node: QueryNode; inner: QueryNode }>((tie) => ({
    // Inside during, events are allowed whatever the outer query is.
    inner: fc.oneof(
      { depthSize: 'small', maxDepth: 2 },
      leaf(true),
      fc.tuple(tie('inner'), tie('inner')).map(([l, r]): QueryNode => ({ kind: 'and', args: [l, r] })),
      fc.tuple(tie('inner'), tie('inner')).map(([l, r]): QueryNode => ({ kind: 'andnot', args: [l, r] })),
    ),
    node: fc.oneof(
      { depthSize: 'small', maxDepth: 4 },
      leaf(timed),
      fc
        .tuple(tie('inner'), fc.integer({ min: 0, max: RANGES.length - 1 }))
        .map(([arg, r]): QueryNode => ({ kind: 'during', arg, range: RANGES[r]! })),
      fc
        .tuple(
          fc.constantFrom('and' as const, 'or' as const, 'xor' as const),
          fc.array(tie('node'), { minLength: 2, maxLength: 3 }),
        )
        .map(([kind, args]): QueryNode => ({ kind, args })),
      fc.tuple(tie('node'), tie('node')).map(([l, r]): QueryNode => ({ kind: 'andnot', args: [l, r] })),
      tie('node').map((arg): QueryNode => ({ kind: 'not', arg })),
    ),
  })).node;

function build(events: Events, node: QueryNode): EventQuery {
  switch (node.kind) {
    case 'event':
      return events.get(node.name);
    case 'segment':
      return events.segment(node.name);
    case 'ids':
      return events.ids(node.ids);
    case 'during':
      return build(events, node.arg).during(node.range);
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

function hasBucketedEvent(node: QueryNode): boolean {
  switch (node.kind) {
    case 'event':
      return true;
    case 'segment':
    case 'ids':
    case 'during':
      return false;
    case 'not':
      return hasBucketedEvent(node.arg);
    default:
      return node.args.some(hasBucketedEvent);
  }
}

const recordOp = fc.oneof(
  fc.record({ kind: fc.constant('event' as const), name: fc.constantFrom(...eventNames), id, at: instant }),
  fc.record({ kind: fc.constant('mark' as const), name: fc.constantFrom(...segmentNames), id }),
);
const unmarkOp = fc.record({
  kind: fc.constant('unmark' as const),
  name: fc.constantFrom(...segmentNames),
  id,
});
/**
 * Records, then unmarks. Marking again after an unmark emptied a segment's chunk is left out:
 * on the RedisBackend of this tree that sequence (setBits, clear it, setBits in the same chunk)
 * reads back as DATA_LOSS ("chunk x0 ... is listed but missing"), as event → unevent → event
 * does; the Redis backend's owners fix it ("a sparse chunk emptied by clears is no longer
 * mistaken for a lost one"). Interleave `fc.oneof(recordOp, unmarkOp)` once that is merged.
 */
const opsArb = fc
  .tuple(fc.array(recordOp, { minLength: 1, maxLength: 32 }), fc.array(unmarkOp, { maxLength: 8 }))
  .map(([records, unmarks]): Op[] => [...records, ...unmarks]);

type Op =
  | { kind: 'event'; name: string; id: number; at: number }
  | { kind: 'mark' | 'unmark'; name: string; id: number };

function modelOf(ops: readonly Op[]): EventsModel {
  const model = new EventsModel(['hour', 'week'], ZONE);
  for (const o of ops) {
    if (o.kind === 'event') model.event(o.name, o.id, o.at);
    else if (o.kind === 'mark') model.mark(o.name, o.id);
    else model.unmark(o.name, o.id);
  }
  return model;
}

async function replay(events: Events, ops: readonly Op[]): Promise<void> {
  for (const o of ops) {
    if (o.kind === 'event') await events.eventMany([{ name: o.name, id: o.id, at: o.at }]);
    else if (o.kind === 'mark') await events.mark(o.name, o.id);
    else await events.unmark(o.name, o.id);
  }
}

const sorted = (set: Set<number>) => [...set].sort((x, y) => x - y);

describe('segments, id lists and during operands', () => {
  it('per bucket, every backend answers like the model (hours, and days rolled up)', async () => {
    const backends = compared();
    await fc.assert(
      fc.asyncProperty(opsArb, queryArb(true), async (ops, node) => {
        const model = modelOf(ops);
        const hours = hourrange(new Date(FROM), new Date(TO), { zone: ZONE });
        const days = dayrange(new Date(FROM), new Date(TO), { zone: ZONE });
        const want = (range: TimeRange) => [...range].map((b) => sorted(model.ids(node, b)));
        const wantHours = want(hours);
        const wantDays = want(days);
        for (const { make } of backends) {
          const backend = make();
          try {
            const events = new Events(backend, { resolutions: ['hour', 'week'], zone: ZONE });
            await replay(events, ops);
            const query = build(events, node);
            const got: number[][] = [];
            for await (const set of query.over(hours)) got.push(set.toArray());
            expect(got).toEqual(wantHours);
            expect((await query.counts(days)).map((c) => c.count)).toEqual(wantDays.map((d) => d.length));
            expect((await query.union(days)).toArray()).toEqual(sorted(new Set(wantDays.flat())));
          } finally {
            await backend.write([{ op: 'delete', keys: await backend.keys() }]);
            await backend.close();
          }
        }
      }),
      runs('segments and during, per bucket'),
    );
  });

  it('without a range (segments, id lists, during only): ids, size and has like the model', async () => {
    const backends = compared();
    await fc.assert(
      fc.asyncProperty(
        opsArb,
        queryArb(false).filter((node) => !hasBucketedEvent(node)),
        id,
        async (ops, node, probe) => {
          const model = modelOf(ops);
          const want = sorted(model.ids(node, null));
          for (const { make } of backends) {
            const backend = make();
            try {
              const events = new Events(backend, { resolutions: ['hour', 'week'], zone: ZONE });
              await replay(events, ops);
              const query = build(events, node);
              expect((await query.ids()).toArray()).toEqual(want);
              expect(await query.size()).toBe(want.length);
              expect(await query.has(probe)).toBe(want.includes(probe));
            } finally {
              await backend.write([{ op: 'delete', keys: await backend.keys() }]);
              await backend.close();
            }
          }
        },
      ),
      runs('segments and during, without a range'),
    );
  });
});
