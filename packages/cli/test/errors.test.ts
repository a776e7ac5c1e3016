/**
 * Bad input and unreachable servers: one `porpoise: <message>` line on stderr, nothing on
 * stdout, no stack trace; exit 2 for bad input or usage, 1 for the backend.
 */
import { freePort } from '@porpoise/test-redis/servers';
import { describe, expect, it } from 'vitest';
import { VERSION } from '../src/version.js';
import { MEMORY_DEMO, type Outcome, runCli, spawnCli } from './support.js';

function expectOneLine(outcome: Outcome, code: number, message: RegExp): void {
  expect(outcome.stdout).toBe('');
  expect(outcome.stderr).toMatch(/^porpoise: [^\n]+\n$/);
  expect(outcome.stderr).not.toMatch(/\n\s+at /);
  expect(outcome.stderr).toMatch(message);
  expect(outcome.code).toBe(code);
}

describe.concurrent('the real binary on bad input', () => {
  it('a bad range exits 2', async () => {
    expectOneLine(
      await spawnCli(['events', 'active', '--range', 'day:abc']),
      2,
      /--range "day:abc": the start "abc" is neither/,
    );
  });

  it('an inverted range exits 2', async () => {
    expectOneLine(
      await spawnCli(['counters', 'plays', '--range', 'day:-1..-5']),
      2,
      /--range "day:-1\.\.-5": .*starts after its end/,
    );
  });

  it('an unknown flag exits 2, with a suggestion on the same line', async () => {
    expectOneLine(
      await spawnCli(['events', 'active', '--rnage', 'day:-1']),
      2,
      /unknown option '--rnage' \(Did you mean --range\?\)/,
    );
  });

  it('a NaN id exits 2', async () => {
    expectOneLine(
      await spawnCli(['events', 'active', '--id', 'NaN']),
      2,
      /--id "NaN": must be a whole number from 0 to 4,294,967,295/,
    );
  });

  it('a negative id exits 2', async () => {
    expectOneLine(await spawnCli(['events', 'active', '--id', '-4']), 2, /--id "-4": must be a whole number/);
  });

  it('a negative or NaN count of users exits 2 before recording anything', async () => {
    expectOneLine(
      await spawnCli(['demo', '--users', '-5']),
      2,
      /--users "-5": must be a whole number from 1 to 10,000,000/,
    );
    expectOneLine(await spawnCli(['cohort', '--demo', '--users', 'NaN']), 2, /--users "NaN"/);
  });

  it('an unknown zone exits 2', async () => {
    expectOneLine(
      await spawnCli(['cohort', '--zone', 'Mars/Olympus_Mons']),
      2,
      /--zone "Mars\/Olympus_Mons": unknown time zone/,
    );
  });

  it('an unreachable Redis exits 1 and names the server', async () => {
    const port = await freePort();
    const started = Date.now();
    const outcome = await spawnCli(['events', 'active', '--redis', `redis://127.0.0.1:${port}`]);
    expectOneLine(
      outcome,
      1,
      new RegExp(`Redis at 127\\.0\\.0\\.1:${port} could not be reached: connection refused`),
    );
    // The documented bound for a server that cannot be reached (docs/reliability.md).
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('never prints a password of the Redis URL', async () => {
    const port = await freePort();
    const outcome = await spawnCli([
      'demo',
      '--users',
      '10',
      '--redis',
      `redis://alice:s3cret@127.0.0.1:${port}`,
    ]);
    expectOneLine(outcome, 1, /could not be reached|did not answer/);
    expect(outcome.stderr).not.toContain('s3cret');
  });

  it('no command at all exits 2', async () => {
    expectOneLine(await spawnCli([]), 2, /missing command/);
  });
});

describe('run() on bad input', () => {
  it.each([
    [['events', 'active', '--range', 'fortnight:-1'], /unknown unit "fortnight"/],
    [
      ['events', 'active', '--range', 'minute:-5'],
      /"range\.unit" \("minute"\): cannot be answered from the recorded resolutions/,
    ],
    [['events', 'active', '--ids', '--limit', '-1'], /--limit "-1"/],
    [['events', 'active', '--limit', '3'], /--limit applies to --ids/],
    [['events', ''], /Invalid argument "name" \(""\)/],
    [['events'], /missing required argument 'name'/],
    [['events', 'active', 'extra'], /too many arguments/],
    [['counters', 'plays', '--top', '0'], /--top "0": must be a whole number from 1/],
    [['counters', 'plays', '--top', '1.5'], /--top "1.5"/],
    [['cohort', '--periods', '-2'], /--periods "-2"/],
    [['cohort', '--unit', 'fortnight'], /--unit "fortnight"/],
    [['cohort', '--unit', 'day', '--range', 'week:-3'], /its unit is week, but --unit is day/],
    [['events', 'active', '--now', 'tomorrow'], /--now "tomorrow": not an ISO 8601 date/],
    [['events', 'active', '--users', '10'], /--users needs --demo/],
    [['events', 'active', '--prefix', 'p'], /--prefix is the Redis key prefix and needs --redis/],
    [['events', 'active', '--demo', '--redis', 'redis://127.0.0.1:1'], /--demo seeds the in-memory backend/],
    [['events', 'active', '--redis', 'http://example.com'], /must be a redis:\/\/ or rediss:\/\/ URL/],
    [['activity'], /activity needs a subcommand: lookup or collapse/],
    [
      ['activity', 'lookup', '--period', 'hourly'],
      /--period "hourly": must be one of daily, weekly, monthly/,
    ],
    [['activity', 'lookup', '--aggregate', 'total'], /--aggregate "total": expected <name>=<bucket>/],
    [['activity', 'lookup', '--aggregate', 'all=a', '--aggregate', 'all=b'], /"all" is defined twice/],
    [['activity', 'lookup', '--buckets', 'web,,ios'], /--buckets "web,,ios"/],
    [['activity', 'lookup', '--start', '2026-11-30', '--end', '2026-11-01'], /Invalid argument "start"/],
    [['activity', 'lookup', '--mode', 'fuzzy'], /--mode "fuzzy"/],
    [['activity', 'collapse', '--max-periods', '5'], /required option '--buckets <list>' not specified/],
    [['activity', 'collapse', '--buckets', 'web', '--max-periods', '0'], /--max-periods "0"/],
    [
      ['activity', 'collapse', '--buckets', 'web', '--periods', 'daily,yearly'],
      /--periods "yearly": must be one of daily, weekly, monthly/,
    ],
    [
      ['activity', 'collapse', '--buckets', 'total', '--aggregate', 'total=web'],
      /must not share its name with a bucket/,
    ],
    [['report'], /required option '--out <file>' not specified/],
    [
      ['report', '--out', '/nonexistent-dir/x/report.html'],
      /--out "\/nonexistent-dir\/x\/report.html": cannot write/,
    ],
    [['report', '--out', 'r.html', '--days', '0'], /--days "0"/],
    [['demo', '--keep'], /--keep needs --redis/],
    [['demo', '--demo'], /unknown option '--demo'/],
    [['dmeo'], /unknown command 'dmeo' \(Did you mean demo\?\)/],
    [['help', 'dmeo'], /unknown command 'dmeo'/],
    [['activity', 'lokup'], /unknown activity command "lokup": use lookup or collapse/],
  ])('%j exits 2 with one line', async (args, message) => {
    expectOneLine(await runCli(args), 2, message);
  });

  it('takes the "--" that pnpm passes through (pnpm demo -- --users 50)', async () => {
    for (const args of [
      ['demo', '--', '--users', '50', '--json'],
      ['--', 'demo', '--users', '50', '--json'],
    ]) {
      const { code, stdout } = await runCli(args);
      expect(code).toBe(0);
      expect(JSON.parse(stdout).users).toBe(50);
    }
  });

  it('--help and --version exit 0 on stdout', async () => {
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: porpoise \[options\] \[command\]/);
    expect(help.stdout).toMatch(/EMPTY unless --demo seeds it/);
    expect(help.stderr).toBe('');
    const version = await runCli(['--version']);
    expect(version).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: '' });
    for (const args of [
      ['activity', 'collapse', '--help'],
      ['activity', 'help', 'collapse'],
      ['help', 'activity'],
    ]) {
      const sub = await runCli(args);
      expect(sub.code).toBe(0);
      expect(sub.stderr).toBe('');
      expect(sub.stdout).toMatch(args.includes('collapse') ? /--max-periods <n>/ : /lookup \[options\]/);
    }
  });

  it.each([
    [['events', 'active', '--and', 'bad\u0007name'], /Invalid argument "name"/],
    [['events', 'active', '--range', 'minute:-5'], /cannot be answered from the recorded resolutions/],
    [['counters', 'x\u0000y'], /Invalid argument/],
    [['activity', 'lookup', '--period', 'daily', '--buckets', 'a\u0001'], /Invalid argument "buckets"/],
    [['activity', 'collapse', '--buckets', 'total', '--aggregate', 'total=web'], /must not share its name/],
  ])('with --demo, %j is refused before the seeding starts', async (args, message) => {
    // On a terminal the seeding would draw its progress bar on stderr: one line means it never began.
    const outcome = await runCli([...args, ...MEMORY_DEMO], { tty: true });
    expectOneLine(outcome, 2, message);
  });
});
