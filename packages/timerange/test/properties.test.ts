import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bucketOf, range, type Unit } from '../src/index.js';

const zones = ['UTC', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe'];
const units: Unit[] = ['minute', 'hour', 'day', 'week', 'month', 'year'];
const instant = fc.integer({ min: Date.UTC(1990, 0, 1), max: Date.UTC(2100, 0, 1) });

describe.each(zones)('in %s', (zone) => {
  it.each(units)('%s buckets contain their instant and tile time with no gap or overlap', (unit) => {
    fc.assert(
      fc.property(instant, (t) => {
        const bucket = bucketOf(t, unit, { zone });
        expect(bucket.startMs).toBeLessThanOrEqual(t);
        expect(bucket.endMs).toBeGreaterThan(t);
        const next = bucketOf(bucket.endMs, unit, { zone });
        const previous = bucketOf(bucket.startMs - 1, unit, { zone });
        expect(next.startMs).toBe(bucket.endMs);
        expect(previous.endMs).toBe(bucket.startMs);
        expect(bucketOf(bucket.startMs, unit, { zone }).key).toBe(bucket.key);
      }),
      { numRuns: 200 },
    );
  });

  it.each(units)('%s keys are unique and sort in time order', (unit) => {
    const spans: Record<Unit, number> = {
      minute: 3 * 3_600_000,
      hour: 4 * 86_400_000,
      day: 90 * 86_400_000,
      week: 400 * 86_400_000,
      month: 3 * 365 * 86_400_000,
      year: 30 * 365 * 86_400_000,
    };
    fc.assert(
      fc.property(instant, (t) => {
        const keys = [...range(unit, new Date(t), new Date(t + spans[unit]), { zone })].map((b) => b.key);
        expect(new Set(keys).size).toBe(keys.length);
        expect([...keys].sort()).toEqual(keys);
      }),
      { numRuns: unit === 'minute' ? 50 : 100 },
    );
  });

  it('split covers exactly the same span', () => {
    const pairs: Array<[Unit, Unit]> = [
      ['year', 'month'],
      ['month', 'day'],
      ['week', 'day'],
      ['day', 'hour'],
      ['hour', 'minute'],
    ];
    fc.assert(
      fc.property(
        instant,
        fc.integer({ min: 1, max: 3 }),
        fc.constantFrom(...pairs),
        (t, n, [coarse, fine]) => {
          const outer = range(coarse, 0, n, { zone, now: t });
          const parts = outer.split(fine);
          expect(parts.startMs).toBe(outer.startMs);
          expect(parts.endMs).toBe(outer.endMs);
          let total = 0;
          for (const bucket of outer) total += range(fine, bucket.start, bucket.end, { zone }).size;
          expect(parts.size).toBe(total);
          const buckets = [...parts];
          expect(buckets[0]?.startMs).toBe(outer.startMs);
          expect(buckets.at(-1)?.endMs).toBe(outer.endMs);
          expect(buckets).toHaveLength(parts.size);
        },
      ),
      { numRuns: 200 },
    );
  });
});
