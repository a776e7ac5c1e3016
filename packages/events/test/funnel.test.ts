import type { Backend } from '@porpoise/storage';
import { describeEachBackend } from '@porpoise/test-backends';
import { dayrange, hourrange, weekrange } from '@porpoise/timerange';
import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import { Events, funnel, InvalidArgumentError } from '../src/index.js';
import { Model, modelFunnel, occurrences } from './model.js';

const NOW = new Date('2026-12-20T12:00:00Z');
/** Noon of day d of November 2026 (d = 0 is 1 November). */
const day = (d: number) => new Date(Date.UTC(2026, 10, 1 + d, 12));
/** Days [from, to): range ends select buckets whose start lies before them, so use midnights. */
const days = (from: number, to: number) =>
  dayrange(new Date(Date.UTC(2026, 10, 1 + from)), new Date(Date.UTC(2026, 10, 1 + to)), { now: NOW });

describeEachBackend((make, kind) => {
  let backend: Backend;
  let events: Events;
  let namespaces = 0;
  beforeEach(async () => {
    backend = make();
    events = new Events(backend, { now: () => NOW, resolutions: ['day', 'week'] });
    return async () => {
      await backend.close();
    };
  });
  const record = (e: Events, list: Array<[string, number, number]>) =>
    e.eventMany(list.map(([name, id, d]) => ({ name, id, at: day(d) })));

  describe('orders at bucket grain', () => {
    beforeEach(async () => {
      await record(events, [
        ['signup', 1, 0],
        ['play', 1, 0],
        ['buy', 1, 2], // same-day step 2, later step 3
        ['signup', 2, 0],
        ['buy', 2, 1],
        ['play', 2, 3], // steps 2 and 3 reversed
        ['signup', 3, 1],
        ['play', 3, 8], // step 2 outside the window
        ['signup', 4, 2],
        ['play', 4, 3],
        ['buy', 4, 3], // steps 2 and 3 in one bucket
      ]);
    });
    const steps = () => [events.get('signup'), events.get('play'), events.get('buy')];

    it('sequential: same or later bucket', async () => {
      const result = await funnel({ steps: steps(), range: days(0, 3), window: 7 });
      expect(result.steps.map((s) => s.count)).toEqual([4, 3, 2]);
      expect(result.steps[1]).toEqual({ step: 2, count: 3, fromPrevious: 0.75, fromStart: 0.75 });
      expect(result.timeToConvert.map((t) => t.count)).toEqual([0, 1, 1, 0, 0, 0, 0]);
    });

    it('strict: strictly later buckets', async () => {
      const result = await funnel({ steps: steps(), range: days(0, 3), window: 7, order: 'strict' });
      expect(result.steps.map((s) => s.count)).toEqual([4, 2, 0]);
    });

    it('any: steps 2… in any order inside the window', async () => {
      const result = await funnel({ steps: steps(), range: days(0, 3), window: 7, order: 'any' });
      expect(result.steps.map((s) => s.count)).toEqual([4, 3, 3]);
      // user 2 completes on day 3 (play), 3 buckets after signup
      expect(result.timeToConvert.map((t) => t.count)).toEqual([0, 1, 1, 1, 0, 0, 0]);
    });

    it('a window of 1 keeps the start bucket only', async () => {
      const result = await funnel({ steps: steps(), range: days(0, 3), window: 1 });
      expect(result.steps.map((s) => s.count)).toEqual([4, 1, 0]);
    });

    it('a user is counted once per step when several starts qualify', async () => {
      await record(events, [
        ['signup', 1, 1],
        ['play', 1, 1],
      ]);
      const result = await funnel({ steps: steps().slice(0, 2), range: days(0, 3), window: 2 });
      expect(result.steps.map((s) => s.count)).toEqual([4, 2]);
    });
  });

  describe('exclusion', () => {
    it('drops a start with the excluded event between step 1 and its last step, bounds included', async () => {
      await record(events, [
        ['a', 1, 0],
        ['x', 1, 1],
        ['b', 1, 2], // between: dropped
        ['a', 2, 0],
        ['b', 2, 1],
        ['x', 2, 2], // after the last step: kept
        ['x', 3, 0],
        ['a', 3, 1],
        ['b', 3, 1], // before step 1: kept
        ['a', 4, 0],
        ['b', 4, 0],
        ['x', 4, 0], // one bucket: order unknown, dropped
        ['a', 5, 0],
        ['x', 5, 0], // never reached step 2: kept at step 1
      ]);
      const result = await funnel({
        steps: [events.get('a'), events.get('b')],
        range: days(0, 2),
        window: 3,
        exclude: events.get('x'),
      });
      expect(result.steps.map((s) => s.count)).toEqual([3, 2]);
    });
  });

  describe('ranges, units and breakdowns', () => {
    it('a finer unit splits the range; partial while a window runs', async () => {
      await events.eventMany([
        { name: 'a', id: 1, at: new Date('2026-12-20T09:00:00Z') },
        { name: 'b', id: 1, at: new Date('2026-12-20T11:00:00Z') },
      ]);
      const hourly = new Events(backend, { now: () => NOW, resolutions: ['hour', 'day'] });
      await hourly.eventMany([
        { name: 'a', id: 1, at: new Date('2026-12-20T09:00:00Z') },
        { name: 'b', id: 1, at: new Date('2026-12-20T11:00:00Z') },
      ]);
      const result = await funnel(
        { steps: [hourly.get('a'), hourly.get('b')], range: hourrange(-4, 1, { now: NOW }), window: 3 },
        hourly,
      );
      expect(result.steps.map((s) => s.count)).toEqual([1, 1]);
      expect(result.timeToConvert[2]!.count).toBe(1);
      expect(result.partial).toBe(true);
    });

    it('one result per breakdown, restricted to its users', async () => {
      await record(events, [
        ['a', 1, 0],
        ['b', 1, 1],
        ['ios', 1, 0],
        ['a', 2, 0],
        ['ios', 2, 1],
        ['a', 3, 0],
        ['b', 3, 0],
      ]);
      const result = await funnel({
        steps: [events.get('a'), events.get('b')],
        range: days(0, 2),
        window: 2,
        // a breakdown is the users who did it in any bucket of the range
        breakdown: [events.get('ios'), events.get('a').andNot(events.get('ios'))],
      });
      expect(result.steps.map((s) => s.count)).toEqual([3, 2]);
      expect(result.breakdowns.map((b) => b.steps.map((s) => s.count))).toEqual([
        [2, 1],
        [2, 1],
      ]);
    });

    it('an empty funnel is zeros', async () => {
      const result = await funnel({
        steps: [events.get('a'), events.get('b')],
        range: days(0, 3),
        window: 2,
      });
      expect(result.steps).toEqual([
        { step: 1, count: 0, fromPrevious: 0, fromStart: 0 },
        { step: 2, count: 0, fromPrevious: 0, fromStart: 0 },
      ]);
      expect(result.partial).toBe(false);
    });
  });

  it('matches the brute-force model on random data', async () => {
    const names = ['a', 'b', 'c', 'x'];
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.constantFrom('a', 'b', 'c'), { minLength: 1, maxLength: 4 }),
        fc.constantFrom('sequential' as const, 'strict' as const, 'any' as const),
        fc.boolean(),
        occurrences(names, 6, -1, 8),
        async (starts, window, steps, order, withExclusion, data) => {
          const e = new Events(backend, {
            now: () => NOW,
            resolutions: ['day'],
            prefix: `funnel${namespaces++}`,
          });
          await e.eventMany(data.map(({ name, id, bucket }) => ({ name, id, at: day(bucket) })));
          const result = await funnel(
            {
              steps: steps.map((name) => e.get(name)),
              range: days(0, starts),
              window,
              order,
              exclude: withExclusion ? e.get('x') : undefined,
              breakdown: [e.get('c')],
            },
            e,
          );
          const model = new Model(data);
          const expected = modelFunnel(model, steps, starts, window, order, withExclusion ? 'x' : undefined);
          expect(result.steps.map((s) => s.count)).toEqual(expected.counts);
          expect(result.timeToConvert.map((t) => t.count)).toEqual(expected.timeToConvert);
          const inC = (id: number) => model.buckets(id, 'c', 0, starts - 1).length > 0;
          const segment = modelFunnel(
            model,
            steps,
            starts,
            window,
            order,
            withExclusion ? 'x' : undefined,
            inC,
          );
          expect(result.breakdowns[0]!.steps.map((s) => s.count)).toEqual(segment.counts);
          expect(result.breakdowns[0]!.timeToConvert.map((t) => t.count)).toEqual(segment.timeToConvert);
        },
      ),
      { numRuns: kind === 'memory' ? 300 : 40 },
    );
  });

  describe('bad input is an InvalidArgumentError before any read', () => {
    const cases: Array<[string, () => object]> = [
      ['no steps', () => ({ steps: [], range: days(0, 3), window: 7 })],
      ['a window of 0', () => ({ steps: [events.get('a')], range: days(0, 3), window: 0 })],
      ['a fractional window', () => ({ steps: [events.get('a')], range: days(0, 3), window: 1.5 })],
      [
        'a unit finer than stored',
        () => ({ steps: [events.get('a')], range: days(0, 3), window: 2, unit: 'hour' }),
      ],
      [
        'a unit coarser than the range',
        () => ({ steps: [events.get('a')], range: days(0, 3), window: 2, unit: 'week' }),
      ],
      [
        'an unknown order',
        () => ({ steps: [events.get('a')], range: days(0, 3), window: 2, order: 'random' }),
      ],
      ['a step that is no query', () => ({ steps: ['a'], range: days(0, 3), window: 2 })],
      ['a range past the bound', () => ({ steps: [events.get('a')], range: days(-400_000, 0), window: 7 })],
      [
        'too long a window',
        () => ({ steps: [events.get('a')], range: weekrange(-2, 0, { now: NOW }), window: 5000 }),
      ],
    ];
    for (const [label, options] of cases) {
      it(label, async () => {
        let reads = 0;
        const original = backend.read.bind(backend);
        backend.read = ((ops: never) => {
          reads++;
          return original(ops);
        }) as typeof backend.read;
        await expect(funnel(options() as never)).rejects.toBeInstanceOf(InvalidArgumentError);
        expect(reads).toBe(0);
      });
    }
  });
});
