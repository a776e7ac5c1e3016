/**
 * The real binary on the memory backend seeded with --demo: every command's numbers equal
 * what the library computes on the same synthetic month.
 */
import { ActivityTracker } from '@porpoise/activity';
import { cohort } from '@porpoise/events';
import { dayrange, hourrange, weekrange } from '@porpoise/timerange';
import { beforeAll, describe, expect, it } from 'vitest';
import { fmt } from '../src/format/text.js';
import { demoLibrary, jsonOf, MEMORY_DEMO, spawnCli } from './support.js';

type Lib = Awaited<ReturnType<typeof demoLibrary>>;
let lib: Lib;
beforeAll(async () => {
  lib = await demoLibrary();
});

describe('porpoise events (memory, --demo)', () => {
  it('counts an expression folded left in the order given, per bucket', async () => {
    const out = jsonOf(
      await spawnCli([
        'events',
        'login',
        '--and',
        'song:played',
        '--or',
        'signup',
        '--not',
        'active',
        '--range',
        'day:-10..-3',
        '--json',
        ...MEMORY_DEMO,
      ]),
    );
    const e = (name: string) => lib.events.get(name);
    const expected = await e('login')
      .and(e('song:played'))
      .or(e('signup'))
      .andNot(e('active'))
      .counts(dayrange(-10, -3, lib.at));
    expect(out.expression).toBe('((login AND song:played) OR signup) AND NOT active');
    expect(out.buckets).toEqual(
      expected.map(({ bucket, count, recorded }) => ({
        key: bucket.key,
        start: bucket.start.toISO(),
        count,
        recorded,
      })),
    );
    expect(expected.some((b) => b.count > 0)).toBe(true);
  });

  it('prints a table with a bar per bucket and a trend line', async () => {
    const { code, stdout, stderr } = await spawnCli([
      'events',
      'active',
      '--range',
      'day:-7',
      ...MEMORY_DEMO,
    ]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const dau = await lib.events.get('active').counts(dayrange(-7, 0, lib.at));
    for (const { bucket, count } of dau) {
      expect(stdout).toMatch(
        new RegExp(`^${bucket.key}  ${bucket.start.toFormat('ccc dd LLL')} +${fmt(count)}  [█░]{30}$`, 'm'),
      );
    }
    expect(stdout).toMatch(/^trend [ ▁▂▃▄▅▆▇█]{7}$/m);
    expect(stdout).toContain('memory backend (demo month, 2,000 users)');
  });

  it('--ids lists the first ids of each bucket and says how many were left out; --id marks membership', async () => {
    const out = jsonOf(
      await spawnCli([
        'events',
        'active',
        '--xor',
        'login',
        '--range',
        'day:-3',
        '--ids',
        '--limit',
        '7',
        '--id',
        '1',
        '--json',
        ...MEMORY_DEMO,
      ]),
    );
    const rows = out.buckets as Array<{
      key: string;
      count: number;
      ids: number[];
      more: number;
      member: boolean;
    }>;
    const expected = [];
    for await (const set of lib.events
      .get('active')
      .xor(lib.events.get('login'))
      .over(dayrange(-3, 0, lib.at))) {
      expected.push({
        key: set.bucket!.key,
        count: set.size,
        ids: set.toArray().slice(0, 7),
        more: Math.max(0, set.size - 7),
        member: set.has(1),
      });
    }
    expect(rows.map(({ key, count, ids, more, member }) => ({ key, count, ids, more, member }))).toEqual(
      expected,
    );
    expect(expected.some((r) => r.more > 0)).toBe(true);
  });
});

describe('porpoise counters (memory, --demo)', () => {
  it('sums the top ids over the range and totals each bucket', async () => {
    const out = jsonOf(
      await spawnCli([
        'counters',
        'song:played',
        '--range',
        'hour:-24',
        '--top',
        '5',
        '--json',
        ...MEMORY_DEMO,
      ]),
    );
    const query = lib.counters.get('song:played');
    const range = hourrange(-24, 0, lib.at);
    const sum = await query.sum(range);
    expect(out.top).toEqual(sum.top(5).map(([id, count]) => ({ id, count })));
    expect(out.total).toBe(sum.total);
    expect(out.ids).toBe(sum.values.size);
    const perBucket = [];
    for await (const snapshot of query.over(range))
      perBucket.push({ key: snapshot.bucket!.key, total: snapshot.total });
    expect(
      (out.buckets as Array<{ key: string; total: number }>).map(({ key, total }) => ({ key, total })),
    ).toEqual(perBucket);
    expect(perBucket).toHaveLength(24);
  });
});

describe('porpoise cohort (memory, --demo)', () => {
  it('prints the retention grid of the library', async () => {
    const out = jsonOf(
      await spawnCli([
        'cohort',
        '--cohort',
        'signup',
        '--activity',
        'active',
        '--unit',
        'week',
        '--periods',
        '5',
        '--json',
        ...MEMORY_DEMO,
      ]),
    );
    const rows = await cohort({
      cohort: lib.events.get('signup'),
      activity: lib.events.get('active'),
      range: weekrange(-5, 0, lib.at),
      periods: 5,
    });
    expect(out.rows).toEqual(
      rows.map((r) => ({
        key: r.bucket.key,
        start: r.bucket.start.toISO(),
        size: r.size,
        retained: r.retained,
        rates: r.rates,
        partial: r.partial,
        partialPeriods: r.cells.map((c) => c.partial),
      })),
    );
    expect(rows.filter((r) => r.size > 0).length).toBeGreaterThan(2);
  });

  it('marks the cells of the running week with a star in the table', async () => {
    const { stdout } = await spawnCli(['cohort', '--unit', 'week', '--periods', '2', ...MEMORY_DEMO]);
    // The demo clock is Tuesday of 2026W48: week 1 of the 2026W47 cohort is still running.
    const lastRow = stdout.split('\n').find((line) => line.startsWith('2026W47'));
    expect(lastRow).toMatch(/^2026W47\s+[\d,]+\s+[\d.]+%\*$/);
    const earlier = stdout.split('\n').find((line) => line.startsWith('2026W46'));
    expect(earlier).toMatch(/^2026W46\s+[\d,]+\s+[\d.]+%\s+[\d.]+%\*$/);
    expect(stdout).toContain('*: that week has not ended, so far');
  });
});

describe('porpoise activity (memory, --demo)', () => {
  it('lookup reports the tracker rows with the aggregates given', async () => {
    const out = jsonOf(
      await spawnCli([
        'activity',
        'lookup',
        '--period',
        'monthly',
        '--buckets',
        'web,ios,total',
        '--aggregate',
        'total=web,ios',
        '--start',
        '2026-09-01',
        '--json',
        ...MEMORY_DEMO,
      ]),
    );
    expect(out.rows).toEqual(
      await lib.activity.lookupMonthly({
        start: '2026-09-01',
        buckets: ['web', 'ios', 'total'],
        aggregateBuckets: { total: ['web', 'ios'] },
      }),
    );
  });

  it('collapse turns the pending closed days into final counts and shows them', async () => {
    const out = jsonOf(
      await spawnCli([
        'activity',
        'collapse',
        '--max-periods',
        '60',
        '--buckets',
        'web,ios,android',
        '--aggregate',
        'total=web,ios,android',
        '--periods',
        'daily,monthly',
        '--now',
        '2026-12-03',
        '--json',
        ...MEMORY_DEMO,
      ]),
    );
    // The demo collapsed up to the 23rd of November: the 24th to the 2nd of December remain, and November.
    const platforms = {
      buckets: ['web', 'ios', 'android'],
      aggregateBuckets: { total: ['web', 'ios', 'android'] },
    };
    const later = new ActivityTracker(lib.backend, {
      periods: ['daily', 'weekly', 'monthly'],
      now: () => new Date('2026-12-03T00:00:00Z'),
    });
    await later.collapse({
      maxPeriods: 60,
      periods: ['daily', 'monthly'],
      ...platforms,
    });
    const names = ['web', 'ios', 'android', 'total'];
    expect(out.periods).toEqual([
      {
        period: 'daily',
        collapsed: 9,
        rows: await lib.activity.lookupDaily({ start: '2026-11-24', end: '2026-12-03', buckets: names }),
      },
      {
        period: 'monthly',
        collapsed: 1,
        rows: await lib.activity.lookupMonthly({ start: '2026-11-01', end: '2026-12-01', buckets: names }),
      },
    ]);
    const periods = out.periods as Array<{ rows: Array<{ final: boolean }> }>;
    expect(periods.flatMap((p) => p.rows).every((r) => r.final)).toBe(true);
  });
});
