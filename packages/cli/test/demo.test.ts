import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { demoLibrary, jsonOf, maskTimings, runCli, spawnCli, USERS } from './support.js';

// The quick start's output for --users 2000, saved from examples/quickstart before it moved
// into the CLI, then given the signup funnel section (the sections before it are unchanged):
// porpoise demo must print it byte for byte, timings aside.
const ORIGINAL = readFileSync(new URL('./fixtures/quickstart-2000.txt', import.meta.url), 'utf8');

describe('porpoise demo', () => {
  it('prints the original quick start byte for byte, apart from the timings', async () => {
    const { code, stdout, stderr } = await spawnCli(['demo', '--users', String(USERS)]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(maskTimings(stdout)).toBe(maskTimings(ORIGINAL));
    // The masking hides only the figures: the lines themselves are there.
    expect(stdout).toMatch(/^Recorded 53,207 events and counts in \d+\.\d\d s\.$/m);
    expect(stdout).toMatch(/^Ingest \d+\.\d\d s · all queries \d+ ms \(memory backend\)$/m);
  });

  it('--json has the numbers of the tables, as the library computes them', async () => {
    const demo = jsonOf(await runCli(['demo', '--users', String(USERS), '--json']));
    const lib = await demoLibrary();
    const { dayrange, weekrange } = await import('@porpoise/timerange');
    const dau = await lib.events.get('active').counts(dayrange(-14, 0, lib.at));
    expect(demo.dailyActive).toEqual(dau.map(({ bucket, count }) => ({ day: bucket.key, count })));
    const weeks = await lib.events.get('active').counts(weekrange(-4, 0, lib.at));
    expect((demo.weeklyUnique as Array<{ count: number }>).map((w) => w.count)).toEqual(
      weeks.map((w) => w.count),
    );
    const songs = await lib.counters.get('song:played').sum(dayrange(-1, 0, lib.at));
    expect(demo.topSongsYesterday).toEqual({
      top: songs.top(10).map(([song, plays]) => ({ song, plays })),
      plays: songs.total,
      songs: songs.values.size,
    });
    expect(demo.recorded).toBe(53_207);
    const { funnel } = await import('@porpoise/events');
    const steps = ['signup', 'first-play', 'playlist:created', 'subscribed'].map((name) =>
      lib.events.get(name),
    );
    const expected = await funnel({ steps, range: dayrange(-28, 0, lib.at), window: 7 }, lib.events);
    expect((demo.funnel as { steps: Array<{ users: number }> }).steps.map((s) => s.users)).toEqual(
      expected.steps.map((s) => s.count),
    );
    expect(demo.backend).toBe('memory');
  });

  it('refuses --keep and --prefix without --redis, before recording anything', async () => {
    for (const args of [['--keep'], ['--prefix', 'x']]) {
      const { code, stdout, stderr } = await runCli(['demo', '--users', '10', ...args]);
      expect(code).toBe(2);
      expect(stdout).toBe('');
      expect(stderr).toMatch(/^porpoise: --(keep|prefix) [^\n]*needs --redis[^\n]*\n$/);
    }
  });
});
