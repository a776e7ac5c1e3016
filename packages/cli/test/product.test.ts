/**
 * porpoise funnel, retention, lifecycle and stickiness on the demo month: --json equals what
 * the library computes on the same data; tables print; bad input is one line, exit 2.
 */
import { type Events, funnel, lifecycle, retention, stickiness } from '@porpoise/events';
import { dayrange, weekrange } from '@porpoise/timerange';
import { beforeAll, describe, expect, it } from 'vitest';
import { funnelJson } from '../src/commands/funnel.js';
import { lifecycleJson } from '../src/commands/lifecycle.js';
import { retentionJson } from '../src/commands/retention.js';
import { stickinessJson } from '../src/commands/stickiness.js';
import { demoLibrary, jsonOf, MEMORY_DEMO, runCli } from './support.js';

let lib: Awaited<ReturnType<typeof demoLibrary>>;
let events: Events;
beforeAll(async () => {
  lib = await demoLibrary();
  events = lib.events;
});
const plain = <T>(value: T): T => JSON.parse(JSON.stringify(value));

describe('porpoise funnel', () => {
  it('--json is the library funnel', async () => {
    const out = jsonOf(
      await runCli([
        'funnel',
        'signup',
        'song:played',
        'login',
        '--range',
        'day:-14',
        '--window',
        '3',
        '--json',
        ...MEMORY_DEMO,
      ]),
    );
    const expected = await funnel(
      {
        steps: ['signup', 'song:played', 'login'].map((n) => events.get(n)),
        range: dayrange(-14, 0, lib.at),
        window: 3,
      },
      events,
    );
    expect(out).toMatchObject(plain(funnelJson(expected)));
    expect(expected.steps[2]!.count).toBeGreaterThan(0);
  });

  it('prints the steps, their conversion and the time to convert', async () => {
    const { code, stdout, stderr } = await runCli([
      'funnel',
      'signup',
      'song:played',
      '--order',
      'strict',
      ...MEMORY_DEMO,
    ]);
    expect(code).toBe(0);
    expect(stderr).toBe('');
    expect(stdout).toMatch(/^Funnel: signup → song:played\n/);
    expect(stdout).toContain('strict, within 7 days');
    expect(stdout).toMatch(/from previous\s+from step 1/);
    expect(stdout).toContain('Time to convert (days from step 1 to step 2');
  });
});

describe('porpoise retention', () => {
  it('--json is the library grid and curve, for each kind', async () => {
    for (const kind of ['exact', 'on-or-after'] as const) {
      const out = jsonOf(
        await runCli(['retention', '--periods', '4', '--kind', kind, '--json', ...MEMORY_DEMO]),
      );
      const expected = await retention(
        {
          start: events.get('signup'),
          returning: events.get('active'),
          range: weekrange(-4, 1, lib.at),
          periods: 4,
          kind,
        },
        events,
      );
      expect(out).toMatchObject(plain(retentionJson(expected)));
    }
  });

  it('prints a grid with an average row', async () => {
    const { code, stdout } = await runCli([
      'retention',
      '--cohort',
      'first-time',
      '--periods',
      '3',
      ...MEMORY_DEMO,
    ]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Retention \(exact, first-time cohorts\): signup → active, by week/);
    expect(stdout).toMatch(/\naverage +[\d,]+ +\d/);
  });
});

describe('porpoise lifecycle and stickiness', () => {
  it('lifecycle --json is the library lifecycle', async () => {
    const out = jsonOf(
      await runCli(['lifecycle', '--unit', 'day', '--range', 'day:-7', '--json', ...MEMORY_DEMO]),
    );
    const expected = await lifecycle({ query: events.get('active'), range: dayrange(-7, 0, lib.at) }, events);
    expect(out.periods).toEqual(plain(lifecycleJson(expected.periods)));
  });

  it('stickiness --json is the library histogram', async () => {
    const out = jsonOf(await runCli(['stickiness', '--range', 'week:-2', '--json', ...MEMORY_DEMO]));
    const expected = await stickiness(
      { query: events.get('active'), range: weekrange(-2, 0, lib.at) },
      events,
    );
    expect(out.periods).toEqual(plain(stickinessJson(expected.periods)));
  });

  it('prints tables', async () => {
    expect((await runCli(['lifecycle', ...MEMORY_DEMO])).stdout).toMatch(
      /new +returning +resurrecting +dormant +active/,
    );
    expect((await runCli(['stickiness', ...MEMORY_DEMO])).stdout).toMatch(/\n7 +[\d,]+ +\d+\.\d%/);
  });
});

describe('bad input: one line on stderr, exit 2', () => {
  it.each([
    [['funnel'], /missing required argument|at least one step/],
    [['funnel', 'a', '--window', '0'], /--window "0"/],
    [['funnel', 'a', '--order', 'random'], /--order "random"/],
    [['funnel', 'a', '--range', 'day:-5', '--window', '3000'], /--window "3000"/],
    [['retention', '--periods', '0'], /--periods "0"/],
    [['retention', '--kind', 'x'], /--kind "x"/],
    [['stickiness', '--unit', 'day'], /--unit "day"/],
    [['lifecycle', '--unit', 'minute', '--range', 'minute:-5'], /unit/],
  ])('%j', async (args, message) => {
    const outcome = await runCli(args);
    expect(outcome.code).toBe(2);
    expect(outcome.stdout).toBe('');
    expect(outcome.stderr).toMatch(/^porpoise: [^\n]+\n$/);
    expect(outcome.stderr).toMatch(message);
  });
});
