/** mode: 'approximate' keeps HyperLogLogs instead of sets. */
import type { Backend } from '@porpoise/storage';
import { describeEachBackend } from '@porpoise/test-backends';
import { beforeEach, describe, expect, it } from 'vitest';
import { type ActivityTracker, InvalidArgumentError, UnsupportedError } from '../src/index.js';
import { trackerOn } from './support.js';

const relativeError = (estimate: number, truth: number) => Math.abs(estimate - truth) / truth;

describeEachBackend(
  (make, kind) => {
    let backend: Backend;
    let tracker: ActivityTracker;
    beforeEach(() => {
      backend = make();
      tracker = trackerOn(backend, { mode: 'approximate', periods: ['daily'] });
      return () => backend.close();
    });

    describe.skipIf(kind === 'ioredis-mock')('approximate mode', () => {
      it('stays within 3% on 100k ids, with aggregates by merge', async () => {
        const date = '2026-11-23T10:00:00Z';
        // web: user-0 .. user-59999; ios: user-40000 .. user-99999; the union is 100,000.
        for (let from = 0; from < 100_000; from += 10_000) {
          await tracker.trackMany(
            Array.from({ length: 10_000 }, (_, i) => from + i).flatMap((n) => [
              ...(n < 60_000 ? [{ id: `user-${n}`, bucket: 'web', date }] : []),
              ...(n >= 40_000 ? [{ id: `user-${n}`, bucket: 'ios', date }] : []),
            ]),
          );
        }
        await tracker.track({ id: 'user-1', bucket: 'web', date });
        await tracker.collapse({ buckets: ['web', 'ios'], aggregateBuckets: { total: ['web', 'ios'] } });
        const [row] = await tracker.lookupDaily({
          start: '2026-11-23',
          end: '2026-11-24',
          buckets: ['web', 'ios', 'total'],
        });
        const counts = row?.counts ?? {};
        const errors = {
          web: relativeError(counts.web ?? 0, 60_000),
          ios: relativeError(counts.ios ?? 0, 60_000),
          total: relativeError(counts.total ?? 0, 100_000),
        };
        console.log(
          `approximate mode on ${kind}: web ${counts.web}/60000 (${(errors.web * 100).toFixed(3)}%), ` +
            `ios ${counts.ios}/60000 (${(errors.ios * 100).toFixed(3)}%), ` +
            `total ${counts.total}/100000 (${(errors.total * 100).toFixed(3)}%)`,
        );
        expect(row?.final).toBe(true);
        expect(Math.max(errors.web, errors.ios, errors.total)).toBeLessThan(0.03);
      });

      it('counts small sets exactly, live and collapsed', async () => {
        for (const id of ['a', 'b', 'c', 123, '123'])
          await tracker.track({ id, date: '2026-11-23T10:00:00Z' });
        await tracker.track({ id: 'x' });
        const before = await tracker.lookupDaily({ start: '2026-11-23' });
        await tracker.collapse();
        const after = await tracker.lookupDaily({ start: '2026-11-23' });
        expect(before.map((r) => [r.counts.all, r.final])).toEqual([
          [4, false],
          [1, false],
        ]);
        expect(after.map((r) => [r.counts.all, r.final])).toEqual([
          [4, true],
          [1, false],
        ]);
      });

      it('computes live aggregates by merge', async () => {
        await tracker.track({ id: 'x', bucket: 'web' });
        await tracker.track({ id: 'x', bucket: 'ios' });
        await tracker.track({ id: 'y', bucket: 'ios' });
        const [row] = await tracker.lookupDaily({
          start: '2026-11-24',
          buckets: ['web', 'ios'],
          aggregateBuckets: { total: ['web', 'ios'] },
        });
        expect(row?.counts).toEqual({ web: 1, ios: 2, total: 2 });
      });

      it.each([
        [{ oldId: 'session-1' }, 'oldId'],
        [{ oldBucket: 'anon' }, 'oldBucket'],
      ])('refuses replacement %j: a HyperLogLog cannot forget an id', async (replacement, argument) => {
        await tracker.track({ id: 'session-1', bucket: 'anon' });
        const keys = await backend.keys();
        const error = await tracker
          .track({ id: 'u', bucket: 'auth', ...replacement })
          .catch((e: unknown) => e);
        expect(InvalidArgumentError.isInstance(error) && error.argument).toBe(argument);
        expect(String(error)).toMatch(/exact mode/);
        expect(await backend.keys()).toEqual(keys);
      });
    });

    it.runIf(kind === 'ioredis-mock')(
      'is refused by a backend without HyperLogLog, before writing',
      async () => {
        expect(await backend.supports('hyperloglog')).toBe(false);
        const error = await tracker.track({ id: 'a' }).catch((e: unknown) => e);
        expect(UnsupportedError.isInstance(error)).toBe(true);
        expect(await backend.keys()).toEqual([]);
      },
    );
  },
  { mock: true },
);
