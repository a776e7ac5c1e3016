/** Collapses that race each other, race tracks, or die halfway: counts once, lose nothing. */
import type { Backend } from '@porpoise/storage';
import { describeEachBackend } from '@porpoise/test-backends';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ActivityTracker } from '../src/index.js';
import { FaultyBackend, RecordingBackend, trackerOn, twinOf } from './support.js';

const platforms = {
  buckets: ['web', 'ios'],
  aggregateBuckets: { total: ['web', 'ios'] },
  maxPeriods: 3,
  periods: ['daily' as const],
};
const buckets = ['web', 'ios', 'total'];

describeEachBackend(
  (make, kind) => {
    let backend: Backend;
    let tracker: ActivityTracker;
    beforeEach(async () => {
      backend = make();
      tracker = trackerOn(backend);
      // Three closed days (21st to 23rd) with web {a, b, day}, ios {b, c}; the 24th is open.
      await tracker.trackMany(
        ['2026-11-21', '2026-11-22', '2026-11-23', '2026-11-24'].flatMap((date) => [
          { id: 'a', bucket: 'web', date: `${date}T10:00:00Z` },
          { id: 'b', bucket: 'web', date: `${date}T10:00:00Z` },
          { id: date, bucket: 'web', date: `${date}T10:00:00Z` },
          { id: 'b', bucket: 'ios', date: `${date}T10:00:00Z` },
          { id: 'c', bucket: 'ios', date: `${date}T10:00:00Z` },
        ]),
      );
      return () => backend.close();
    });

    const rows = () =>
      tracker.lookupDaily({
        start: '2026-11-21',
        end: '2026-11-25',
        buckets,
        aggregateBuckets: platforms.aggregateBuckets,
      });
    const expected = (finalDays: number) =>
      ['2026-11-21', '2026-11-22', '2026-11-23', '2026-11-24'].map((date, i) => ({
        date,
        counts: { web: 3, ios: 2, total: 4 },
        final: i >= 3 - finalDays && i < 3,
      }));

    describe('concurrent collapses', () => {
      it('on one backend apply each period exactly once', async () => {
        const recording = new RecordingBackend(backend);
        const racer = trackerOn(recording);
        await Promise.all([racer.collapse(platforms), racer.collapse(platforms), racer.collapse(platforms)]);
        expect(await rows()).toEqual(expected(3));
        const applied = recording.guarded.filter((w) => w.applied).map((w) => w.marker);
        expect(applied.sort()).toEqual([
          'activity:done:d20261121',
          'activity:done:d20261122',
          'activity:done:d20261123',
        ]);
      });

      it('from two connections (two processes) count once', async () => {
        const twin = twinOf(backend, kind);
        try {
          const other = trackerOn(twin.backend);
          await Promise.all([tracker.collapse(platforms), other.collapse(platforms)]);
          expect(await rows()).toEqual(expected(3));
          const seen = await trackerOn(twin.backend).lookupDaily({
            start: '2026-11-21',
            buckets,
            aggregateBuckets: platforms.aggregateBuckets,
          });
          expect(seen).toEqual(await rows());
        } finally {
          await twin.close();
        }
      });

      it('racing tracks into the collapsed day either count them or keep them raw', async () => {
        const late = Array.from({ length: 200 }, (_, i) => `late-${i}`);
        await Promise.all([
          ...late.map((id) =>
            tracker.track({ id, bucket: 'web', date: '2026-11-23T20:00:00Z', periods: ['daily'] }),
          ),
          tracker.collapse(platforms),
          tracker.collapse(platforms),
        ]);
        const [[counted], [leftRaw]] = await Promise.all([
          backend.read([{ op: 'get', key: 'activity:n:web:d20261123' }]),
          backend.read([{ op: 'setCardinality', keys: ['activity:raw:web:d20261123'] }]),
        ]);
        expect(Number(counted) + leftRaw).toBe(3 + late.length);
      });
    });

    describe('a collapse that fails', () => {
      it('before its write is applied loses nothing, and a re-run counts right', async () => {
        const broken = trackerOn(new FaultyBackend(backend, { when: 'before' }));
        await expect(broken.collapse(platforms)).rejects.toThrow(/injected/);
        expect(await rows()).toEqual(expected(0));
        await tracker.collapse(platforms);
        expect(await rows()).toEqual(expected(3));
      });

      it('after its write is applied leaves the counts, and a re-run changes nothing', async () => {
        const broken = trackerOn(new FaultyBackend(backend, { when: 'after', at: 1 }));
        await expect(broken.collapse(platforms)).rejects.toThrow(/injected/);
        // The oldest day of the window went first and is final.
        expect(await rows()).toEqual(expected(0).map((r) => ({ ...r, final: r.date === '2026-11-21' })));
        const keys = await backend.keys();
        await tracker.collapse(platforms);
        expect(await rows()).toEqual(expected(3));
        expect((await backend.keys()).filter((k) => !keys.includes(k))).toEqual([
          // The catalogue learns the aggregate when a collapse finishes.
          'activity:aggregate:total:catalogue',
          'activity:aggregates:catalogue',
          'activity:done:d20261122',
          'activity:done:d20261123',
          'activity:n:ios:d20261122',
          'activity:n:ios:d20261123',
          'activity:n:total:d20261122',
          'activity:n:total:d20261123',
          'activity:n:web:d20261122',
          'activity:n:web:d20261123',
        ]);
      });

      it.each([1, 2, 3])('at write %i of a three-day window is finished by the next run', async (at) => {
        const broken = trackerOn(new FaultyBackend(backend, { when: 'before', at }));
        await expect(broken.collapse(platforms)).rejects.toThrow(/injected/);
        await tracker.collapse(platforms);
        expect(await rows()).toEqual(expected(3));
        expect((await backend.keys()).filter((k) => k.includes(':raw:') && k.includes(':d')).sort()).toEqual([
          'activity:raw:ios:d20261124',
          'activity:raw:web:d20261124',
        ]);
      });
    });
  },
  { mock: true },
);
