import type { Backend } from '@porpoise/storage';
import { describeEachBackend } from '@porpoise/test-backends';
import { dayrange, monthrange, weekrange } from '@porpoise/timerange';
import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  breakdownCounts,
  Events,
  InvalidArgumentError,
  lifecycle,
  retention,
  stickiness,
} from '../src/index.js';
import { Model, modelLifecycle, modelRetention, modelStickiness, occurrences } from './model.js';

// A fixed number of runs, not a timing: on a loaded 2-core machine (turbo runs packages side
// by side) 200 memory runs have taken 42 s, past the default 30 s.
const MODEL_TIMEOUT = 180_000;

/** Day d is 2 November 2026 + d (a Monday), at noon. */
const day = (d: number) => new Date(Date.UTC(2026, 10, 2 + d, 12));
const midnight = (d: number) => new Date(Date.UTC(2026, 10, 2 + d));
const NOW = day(6); // Sunday 8 November, noon: day 6 is running
const days = (from: number, to: number) => dayrange(midnight(from), midnight(to), { now: NOW });

describeEachBackend((make, kind) => {
  let backend: Backend;
  let events: Events;
  let namespaces = 0;
  beforeEach(async () => {
    backend = make();
    events = new Events(backend, { now: () => NOW, resolutions: ['day', 'week', 'month'] });
    return async () => {
      await backend.close();
    };
  });
  const record = (e: Events, list: Array<[string, number, number]>) =>
    e.eventMany(list.map(([name, id, d]) => ({ name, id, at: day(d) })));
  const fresh = () =>
    new Events(backend, { now: () => NOW, resolutions: ['day'], prefix: `analytics${namespaces++}` });

  describe('retention', () => {
    beforeEach(async () => {
      await record(events, [
        ['signup', 1, -3], // signed up before the range: not first-time on day 0
        ['signup', 1, 0],
        ['active', 1, 0],
        ['active', 1, 2],
        ['signup', 2, 0],
        ['active', 2, 1],
        ['active', 2, 6],
        ['signup', 3, 1],
        ['active', 3, 3],
      ]);
    });

    it('exact: returned in exactly period k; period 0 is the cohort bucket; the triangle; partial cells', async () => {
      const result = await retention({
        start: events.get('signup'),
        returning: events.get('active'),
        range: days(0, 2),
        periods: 4,
      });
      expect(result.rows.map((r) => [r.size, r.cells.map((c) => c.retained)])).toEqual([
        [2, [1, 1, 1, 0]],
        [1, [0, 0, 1, 0]],
      ]);
      expect(result.rows[0]!.cells[1]).toMatchObject({ period: 1, rate: 0.5, partial: false });
      expect(result.curve.map((p) => [p.retained, p.size, p.cohorts])).toEqual([
        [1, 3, 2],
        [1, 3, 2],
        [2, 3, 2],
        [0, 3, 2],
      ]);
    });

    it('on-or-after: in period k or any later started period of the grid', async () => {
      const result = await retention({
        start: events.get('signup'),
        returning: events.get('active'),
        range: days(0, 2),
        periods: 7,
        kind: 'on-or-after',
      });
      expect(result.rows[0]!.cells.map((c) => c.retained)).toEqual([2, 2, 2, 1, 1, 1, 1]);
      expect(result.rows[0]!.cells.map((c) => c.partial)).toEqual([true, true, true, true, true, true, true]);
      expect(result.rows[1]!.cells.map((c) => c.retained)).toEqual([1, 1, 1, 0, 0, 0]);
    });

    it('first-time cohorts leave out who did start before', async () => {
      const result = await retention({
        start: events.get('signup'),
        returning: events.get('active'),
        range: days(0, 2),
        periods: 2,
        cohort: 'first-time',
      });
      expect(result.rows.map((r) => r.size)).toEqual([1, 1]);
    });

    it('one grid per breakdown', async () => {
      const result = await retention({
        start: events.get('signup'),
        returning: events.get('active'),
        range: days(0, 2),
        periods: 2,
        breakdown: [events.get('active')],
      });
      expect(result.breakdowns[0]!.rows.map((r) => r.size)).toEqual([2, 0]);
    });

    it(
      'matches the brute-force model on random data',
      async () => {
        await fc.assert(
          fc.asyncProperty(
            fc.integer({ min: 1, max: 5 }),
            fc.integer({ min: 1, max: 6 }),
            fc.constantFrom('exact' as const, 'on-or-after' as const),
            fc.constantFrom('recurring' as const, 'first-time' as const),
            fc.boolean(),
            occurrences(['s', 'r'], 6, -4, 9),
            async (cohorts, periods, kind, cohort, same, data) => {
              const e = fresh();
              await e.eventMany(data.map(({ name, id, bucket }) => ({ name, id, at: day(bucket) })));
              const returning = same ? 's' : 'r';
              const result = await retention(
                {
                  start: e.get('s'),
                  returning: e.get(returning),
                  range: days(0, cohorts),
                  periods,
                  kind,
                  cohort,
                  breakdown: [e.get('r')],
                },
                e,
              );
              const model = new Model(data);
              const expected = modelRetention(model, 's', returning, cohorts, periods, 6, kind, cohort, -10);
              expect(
                result.rows.map((r) => ({ size: r.size, cells: r.cells.map((c) => c.retained) })),
              ).toEqual(expected);
              const inR = (id: number) => model.buckets(id, 'r', 0, Math.min(cohorts, 7) - 1).length > 0;
              const segment = modelRetention(
                model,
                's',
                returning,
                cohorts,
                periods,
                6,
                kind,
                cohort,
                -10,
                inR,
              );
              expect(
                result.breakdowns[0]!.rows.map((r) => ({
                  size: r.size,
                  cells: r.cells.map((c) => c.retained),
                })),
              ).toEqual(segment);
            },
          ),
          { numRuns: kind === 'memory' ? 200 : 30 },
        );
      },
      MODEL_TIMEOUT,
    );
  });

  describe('lifecycle', () => {
    it('new, returning, resurrecting and dormant per period', async () => {
      await record(events, [
        ['active', 1, 0],
        ['active', 1, 1],
        ['active', 1, 2], // new, returning, returning
        ['active', 2, 0],
        ['active', 2, 2], // new, dormant, resurrecting
        ['active', 3, -5],
        ['active', 3, 1], // resurrecting on day 1, dormant on day 2
      ]);
      const result = await lifecycle({ query: events.get('active'), range: days(0, 3) });
      expect(
        result.periods.map(({ new: n, returning, resurrecting, dormant }) => [
          n,
          returning,
          resurrecting,
          dormant,
        ]),
      ).toEqual([
        [2, 0, 0, 0],
        [0, 1, 1, 1],
        [0, 1, 1, 1],
      ]);
      expect(result.periods[1]!.active).toBe(2);
    });

    it(
      'matches the brute-force model on random data',
      async () => {
        await fc.assert(
          fc.asyncProperty(
            fc.integer({ min: 1, max: 6 }),
            occurrences(['a'], 6, -4, 6),
            async (periods, data) => {
              const e = fresh();
              await e.eventMany(data.map(({ name, id, bucket }) => ({ name, id, at: day(bucket) })));
              const result = await lifecycle({ query: e.get('a'), range: days(0, periods) }, e);
              const expected = modelLifecycle(new Model(data), 'a', Math.min(periods, 7), -10);
              expect(
                result.periods.map(({ new: n, returning, resurrecting, dormant }) => ({
                  new: n,
                  returning,
                  resurrecting,
                  dormant,
                })),
              ).toEqual(expected);
            },
          ),
          { numRuns: kind === 'memory' ? 200 : 30 },
        );
      },
      MODEL_TIMEOUT,
    );
  });

  describe('stickiness', () => {
    it('users active on exactly k days of each week', async () => {
      await record(events, [
        ['active', 1, 0],
        ['active', 1, 1],
        ['active', 1, 1],
        ['active', 1, 6],
        ['active', 2, 3],
        ['active', 3, 7], // the next week has not started by NOW
      ]);
      const result = await stickiness({
        query: events.get('active'),
        range: weekrange(midnight(0), midnight(7)),
      });
      expect(result.periods).toHaveLength(1);
      expect(result.periods[0]!.counts).toEqual([1, 0, 1, 0, 0, 0, 0]);
      expect(result.periods[0]).toMatchObject({ active: 2, partial: true });
    });

    it('months have one count per day', async () => {
      const result = await stickiness({
        query: events.get('active'),
        range: monthrange(new Date(Date.UTC(2026, 1, 1)), new Date(Date.UTC(2026, 2, 1))),
      });
      expect(result.periods[0]!.counts).toHaveLength(28);
    });

    it(
      'matches the brute-force model on random data, with a breakdown',
      async () => {
        await fc.assert(
          fc.asyncProperty(occurrences(['a', 'b'], 70, -2, 13), async (data) => {
            const e = new Events(backend, {
              now: () => new Date(Date.UTC(2026, 11, 1)),
              resolutions: ['day'],
              prefix: `sticky${namespaces++}`,
            });
            await e.eventMany(data.map(({ name, id, bucket }) => ({ name, id, at: day(bucket) })));
            const result = await stickiness(
              { query: e.get('a'), range: weekrange(midnight(0), midnight(14)), breakdown: [e.get('b')] },
              e,
            );
            const model = new Model(data);
            expect(result.periods.map((p) => p.counts)).toEqual([
              modelStickiness(model, 'a', 0, 7),
              modelStickiness(model, 'a', 7, 7),
            ]);
            const inB = (id: number) => model.buckets(id, 'b', 0, 13).length > 0;
            expect(result.breakdowns[0]!.map((p) => p.counts)).toEqual([
              modelStickiness(model, 'a', 0, 7, inB),
              modelStickiness(model, 'a', 7, 7, inB),
            ]);
          }),
          { numRuns: kind === 'memory' ? 100 : 20 },
        );
      },
      MODEL_TIMEOUT,
    );
  });

  describe('breakdownCounts', () => {
    it('one count per breakdown beside each bucket, in one read', async () => {
      await record(events, [
        ['active', 1, 0],
        ['active', 2, 0],
        ['active', 3, 1],
        ['ios', 1, 1],
        ['ios', 3, 4], // in the range: a segment for every bucket of it
        ['ios', 2, 9], // outside the range
      ]);
      let reads = 0;
      const original = backend.read.bind(backend);
      backend.read = ((ops: never) => {
        reads++;
        return original(ops);
      }) as typeof backend.read;
      const result = await breakdownCounts({
        query: events.get('active'),
        range: days(0, 5),
        breakdown: [events.get('ios')],
      });
      expect(result.map((r) => [r.count, ...r.breakdowns])).toEqual([
        [2, 1],
        [1, 1],
        [0, 0],
        [0, 0],
        [0, 0],
      ]);
      expect(reads).toBe(1);
    });
  });

  describe('bad input is an InvalidArgumentError before any read', () => {
    const cases: Array<[string, () => Promise<unknown>]> = [
      ['retention: periods of 0', () => retention({ start: events.get('a'), range: days(0, 2), periods: 0 })],
      [
        'retention: an unknown kind',
        () => retention({ start: events.get('a'), range: days(0, 2), periods: 2, kind: 'x' as never }),
      ],
      [
        'retention: a unit finer than stored',
        () => retention({ start: events.get('a'), range: days(0, 2), periods: 2, unit: 'hour' }),
      ],
      ['retention: no start query', () => retention({ start: 'a' as never, range: days(0, 2), periods: 2 })],
      ['lifecycle: no range', () => lifecycle({ query: events.get('a'), range: undefined as never })],
      [
        'breakdownCounts: no breakdown',
        () => breakdownCounts({ query: events.get('a'), range: days(0, 2), breakdown: [] }),
      ],
      ['stickiness: a day unit', () => stickiness({ query: events.get('a'), range: days(0, 2) })],
      [
        'stickiness: a breakdown that is no query',
        () =>
          stickiness({
            query: events.get('a'),
            range: weekrange(-1, 0, { now: NOW }),
            breakdown: ['b' as never],
          }),
      ],
    ];
    for (const [label, run] of cases) {
      it(label, async () => {
        let reads = 0;
        const original = backend.read.bind(backend);
        backend.read = ((ops: never) => {
          reads++;
          return original(ops);
        }) as typeof backend.read;
        await expect(run()).rejects.toBeInstanceOf(InvalidArgumentError);
        expect(reads).toBe(0);
      });
    }
  });
});
