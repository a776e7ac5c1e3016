import { ActivityTracker, InvalidArgumentError } from '@porpoise/activity';
import { type Backend, MemoryBackend, RedisBackend } from '@porpoise/storage';
import { hasRedis, redisClient, uniquePrefix } from '@porpoise/test-redis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runNightlyCollapse } from '../src/job.js';

interface Target {
  name: string;
  /** A new connection to the same store each call: two of them are two machines. */
  connect(): Backend;
  cleanup(): Promise<void>;
}

function memoryTarget(): Target {
  const backend = new MemoryBackend();
  return { name: 'memory', connect: () => backend, cleanup: () => backend.close() };
}

function redisTarget(): Target {
  const prefix = uniquePrefix('nightly-collapse');
  const clients: Array<ReturnType<typeof redisClient>> = [];
  return {
    name: 'redis',
    connect: () => {
      const client = redisClient();
      clients.push(client);
      return new RedisBackend(client, { prefix });
    },
    cleanup: async () => {
      const backend = new RedisBackend(clients[0]!, { prefix });
      const keys = await backend.keys();
      if (keys.length > 0) await backend.write([{ op: 'delete', keys }]);
      // A RedisBackend does not own a client it was given.
      await Promise.all(clients.map((client) => client.quit()));
    },
  };
}

const targets: Array<{ name: string; make: () => Target; skip: boolean }> = [
  { name: 'memory', make: memoryTarget, skip: false },
  { name: 'redis', make: redisTarget, skip: !hasRedis() },
];

const sites = { buckets: ['web', 'ios'], aggregateBuckets: { total: ['web', 'ios'] } };
// Wednesday 25 November 2026, 02:00 UTC: the night after the 24th.
const NIGHT = new Date('2026-11-25T02:00:00Z');

for (const { name, make, skip } of targets) {
  describe.skipIf(skip)(`on ${name}`, () => {
    let target: Target;
    let tracker: ActivityTracker;

    beforeEach(() => {
      target = make();
      tracker = new ActivityTracker(target.connect(), { periods: ['daily', 'monthly'] });
    });

    afterEach(() => target.cleanup());

    async function seed(): Promise<void> {
      await tracker.trackMany([
        { id: 'ann', bucket: 'web', date: '2026-11-23T09:00:00Z' },
        { id: 'ann', bucket: 'web', date: '2026-11-24T09:00:00Z' },
        { id: 'bob', bucket: 'web', date: '2026-11-24T10:00:00Z' },
        { id: 'bob', bucket: 'ios', date: '2026-11-24T11:00:00Z' },
        { id: 'cy', bucket: 'ios', date: '2026-11-24T12:00:00Z' },
        // Tonight, in the open day: live, never collapsed by this run.
        { id: 'dee', bucket: 'ios', date: '2026-11-25T01:00:00Z' },
      ]);
    }

    it('turns the closed days final with the counts they had live', async () => {
      await seed();
      const report = await runNightlyCollapse({
        tracker,
        ...sites,
        maxPeriods: 3,
        date: NIGHT,
        periods: ['daily'],
      });

      expect(report.periods).toHaveLength(1);
      // The 22nd is before the first day tracked: nothing to finalise there.
      expect(report.periods[0]!.collapsed).toEqual([
        { date: '2026-11-23', before: { web: 1, ios: 0, total: 1 }, after: { web: 1, ios: 0, total: 1 } },
        { date: '2026-11-24', before: { web: 2, ios: 2, total: 3 }, after: { web: 2, ios: 2, total: 3 } },
      ]);
      expect(report.periods[0]!.rows.at(-1)).toEqual({
        date: '2026-11-25',
        counts: { web: 0, ios: 1, total: 1 },
        final: false,
      });
    });

    it('counts an aggregate as the exact union of its buckets, not their sum', async () => {
      await tracker.trackMany(
        ['u1', 'u2', 'u3', 'u4', 'u5'].flatMap((id, i) => [
          ...(i < 4 ? [{ id, bucket: 'web', date: '2026-11-24T08:00:00Z' }] : []),
          ...(i > 0 ? [{ id, bucket: 'ios', date: '2026-11-24T20:00:00Z' }] : []),
        ]),
      );
      const report = await runNightlyCollapse({ tracker, ...sites, date: NIGHT, periods: ['daily'] });

      const day = report.periods[0]!.collapsed.find((period) => period.date === '2026-11-24');
      // web {u1..u4}, ios {u2..u5}: five people, though 4 + 4 = 8.
      expect(day?.after).toEqual({ web: 4, ios: 4, total: 5 });
    });

    it('collapses the closed month too, leaving the open one live', async () => {
      await seed();
      await tracker.track({ id: 'eve', bucket: 'web', date: '2026-10-31T23:00:00Z' });
      const report = await runNightlyCollapse({
        tracker,
        ...sites,
        maxPeriods: 2,
        date: NIGHT,
        periods: ['monthly'],
      });

      // September is before the first month tracked: it stays untouched.
      expect(report.periods[0]!.collapsed).toEqual([
        { date: '2026-10-01', before: { web: 1, ios: 0, total: 1 }, after: { web: 1, ios: 0, total: 1 } },
      ]);
      expect(report.periods[0]!.rows.at(-1)).toEqual({
        date: '2026-11-01',
        counts: { web: 2, ios: 3, total: 4 },
        final: false,
      });
    });

    it('is idempotent: a second run collapses nothing and changes no count', async () => {
      await seed();
      const first = await runNightlyCollapse({ tracker, ...sites, maxPeriods: 5, date: NIGHT });
      const second = await runNightlyCollapse({ tracker, ...sites, maxPeriods: 5, date: NIGHT });

      // From the first period tracked: the 23rd and the 24th; November, the first month, is open.
      expect(first.periods.map((p) => p.collapsed.length)).toEqual([2, 0]);
      expect(second.periods.map((p) => p.collapsed)).toEqual([[], []]);
      expect(second.periods.map((p) => p.rows)).toEqual(first.periods.map((p) => p.rows));
    });

    it('catches up on missed nights, back to the last period already collapsed', async () => {
      await seed();
      await runNightlyCollapse({ tracker, ...sites, maxPeriods: 1, date: new Date('2026-11-24T02:00:00Z') });
      await tracker.track({ id: 'ann', bucket: 'web', date: '2026-11-26T09:00:00Z' });
      // Two nights were missed; this run covers the 24th, 25th and 26th and stops at the 23rd.
      const report = await runNightlyCollapse({
        tracker,
        ...sites,
        date: new Date('2026-11-27T02:00:00Z'),
        periods: ['daily'],
      });

      expect(report.periods[0]!.collapsed.map(({ date, after }) => [date, after.total])).toEqual([
        ['2026-11-24', 3],
        ['2026-11-25', 1],
        ['2026-11-26', 1],
      ]);
    });

    it('stores each count once when two machines run it at the same time', async () => {
      await seed();
      const other = new ActivityTracker(target.connect(), { periods: ['daily', 'monthly'] });
      const [a, b] = await Promise.all([
        runNightlyCollapse({ tracker, ...sites, maxPeriods: 3, date: NIGHT }),
        runNightlyCollapse({ tracker: other, ...sites, maxPeriods: 3, date: NIGHT }),
      ]);

      // Whichever wrote a period, the stored counts are the live ones, not the empty sets the
      // loser would have counted after the winner deleted the raw ids.
      const days = await tracker.lookupDaily({ start: '2026-11-23', end: '2026-11-25', ...sites });
      expect(days).toEqual([
        { date: '2026-11-23', counts: { web: 1, ios: 0, total: 1 }, final: true },
        { date: '2026-11-24', counts: { web: 2, ios: 2, total: 3 }, final: true },
      ]);
      expect(a.periods[0]!.rows).toEqual(b.periods[0]!.rows);
    });

    it('rejects invalid arguments before writing anything', async () => {
      await seed();
      const backend = target.connect();
      const keys = await backend.keys();
      await expect(
        runNightlyCollapse({ tracker, ...sites, maxPeriods: 0, date: NIGHT }),
      ).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(
        runNightlyCollapse({ tracker, buckets: ['web'], aggregateBuckets: { web: ['ios'] }, date: NIGHT }),
      ).rejects.toThrow(/aggregateBuckets/);
      await expect(
        runNightlyCollapse({ tracker, ...sites, periods: ['weekly'], date: NIGHT }),
      ).rejects.toThrow(/weekly/);
      expect(await backend.keys()).toEqual(keys);
    });
  });
}
