/** Laws, checked on random histories: lookup matches a model of sets; collapse changes no count. */
import { describeEachBackend } from '@porpoise/test-backends';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { trackerOn } from './support.js';

const DAYS = ['2026-11-19', '2026-11-20', '2026-11-21', '2026-11-22', '2026-11-23'];
const BUCKETS = ['web', 'ios', 'android'];
const AGGREGATES = { total: ['web', 'ios', 'android'], mobile: ['ios', 'android'] };
const NAMES = [...BUCKETS, ...Object.keys(AGGREGATES)];

const id = fc.constantFrom<string | number>('u1', 'u2', 'u3', 4, '4', 'anon-1', 'anon-2');
const bucket = fc.constantFrom(...BUCKETS);
const dayIndex = fc.integer({ min: 0, max: DAYS.length - 1 });
const operation = fc.oneof(
  fc.record({ id, bucket, day: dayIndex }),
  fc.record({ id, bucket, day: dayIndex, oldId: id, oldBucket: bucket }),
);

/** The expected counts: one set of string ids per (day, bucket). */
function model(
  ops: Array<{
    id: string | number;
    bucket: string;
    day: number;
    oldId?: string | number;
    oldBucket?: string;
  }>,
) {
  const sets = DAYS.map(() => new Map(BUCKETS.map((b) => [b, new Set<string>()])));
  for (const op of ops) {
    const day = sets[op.day]!;
    if (op.oldId !== undefined) day.get(op.oldBucket!)!.delete(String(op.oldId));
    day.get(op.bucket)!.add(String(op.id));
  }
  return sets.map((day) => {
    const counts: Record<string, number> = {};
    for (const b of BUCKETS) counts[b] = day.get(b)!.size;
    for (const [name, members] of Object.entries(AGGREGATES)) {
      counts[name] = new Set(members.flatMap((m) => [...day.get(m)!])).size;
    }
    return counts;
  });
}

describeEachBackend((make, kind) => {
  it('lookup counts the model sets before collapse, and the same counts after', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { maxLength: 25 }), async (ops) => {
        const backend = make();
        try {
          const tracker = trackerOn(backend, { periods: ['daily'] });
          for (const op of ops) await tracker.track({ ...op, date: `${DAYS[op.day]}T12:00:00Z` });
          const lookup = () =>
            tracker.lookupDaily({
              start: DAYS[0],
              end: '2026-11-24',
              buckets: NAMES,
              aggregateBuckets: AGGREGATES,
              // A random history may leave a bucket untracked: it counts 0 in the model.
              allowUnknownBuckets: true,
            });
          const expected = model(ops);
          const live = await lookup();
          await tracker.collapse({ buckets: BUCKETS, aggregateBuckets: AGGREGATES, maxPeriods: DAYS.length });
          const collapsed = await lookup();
          expect(live.map((r) => [r.counts, r.final])).toEqual(expected.map((c) => [c, false]));
          // Days before the first one tracked are never finalised (with nothing tracked, all are).
          const first = ops.length === 0 ? 0 : Math.min(...ops.map((op) => op.day));
          expect(collapsed.map((r) => [r.counts, r.final])).toEqual(
            expected.map((c, day) => [c, day >= first]),
          );
          expect((await backend.keys()).filter((k) => k.includes(':raw:'))).toEqual([]);
        } finally {
          await backend.close();
        }
      }),
      { numRuns: kind === 'memory' ? 100 : 20 },
    );
  });
});
