/**
 * Output that is not a terminal carries no escape codes: no colour, no line redraws, from any
 * writer (stdout tables, stderr errors and progress, commander's help and suggestions).
 */
import { describe, expect, it } from 'vitest';
import { isTerminal } from '../src/terminal.js';
import { MEMORY_DEMO, runCli, spawnCli } from './support.js';

const ESCAPE = '\x1b';

const COMMANDS: string[][] = [
  ['--help'],
  ['events', '--help'],
  ['dmeo'],
  ['counters', 'song:played', '--tpo', '3'],
  ['events', 'active', '--range', 'day:-3..-7'],
  ['demo', '--users', '200'],
  ['events', 'active', '--and', 'login', '--range', 'day:-7', '--ids', ...MEMORY_DEMO],
  ['counters', 'song:played', '--range', 'day:-2', ...MEMORY_DEMO],
  ['cohort', '--periods', '4', ...MEMORY_DEMO],
  ['activity', 'lookup', '--start', '2026-11-19', '--end', '2026-11-25', ...MEMORY_DEMO],
  [
    'activity',
    'collapse',
    '--buckets',
    'web,ios,android',
    '--max-periods',
    '60',
    '--date',
    '2026-12-01',
    ...MEMORY_DEMO,
  ],
];

describe('output that is not a terminal', () => {
  it.each(COMMANDS.map((args) => [args.join(' '), args] as const))(
    'has no escape codes in run(): %s',
    async (_, args) => {
      const outcome = await runCli(args);
      expect(outcome.stdout + outcome.stderr).not.toContain(ESCAPE);
    },
  );

  it('has no escape codes from the real binary on pipes, even with FORCE_COLOR set', async () => {
    const env = { FORCE_COLOR: '1' };
    const help = await spawnCli(['--help'], { env });
    const collapse = await spawnCli(
      ['activity', 'collapse', '--buckets', 'web', '--max-periods', '30', '--demo', '--users', '200'],
      { env },
    );
    expect(help.code).toBe(0);
    expect(collapse.code).toBe(0);
    for (const outcome of [help, collapse]) expect(outcome.stdout + outcome.stderr).not.toContain(ESCAPE);
  });

  it('still draws the progress bar when stderr is a terminal (and stdout is not)', async () => {
    const outcome = await runCli(
      ['activity', 'collapse', '--buckets', 'web', '--max-periods', '30', '--demo', '--users', '200'],
      { tty: true },
    );
    expect(outcome.stderr).toContain(`\r${ESCAPE}[2K`);
    expect(outcome.stdout).not.toContain(ESCAPE);
  });
});

describe('isTerminal', () => {
  it('is true only for a TTY that does not ask for plain text', () => {
    const tty = { isTTY: true, write: () => true };
    expect(isTerminal(tty, {})).toBe(true);
    expect(isTerminal({ write: () => true }, {})).toBe(false);
    expect(isTerminal({ isTTY: false, write: () => true }, {})).toBe(false);
    expect(isTerminal(tty, { TERM: 'dumb' })).toBe(false);
    expect(isTerminal(tty, { NO_COLOR: '1' })).toBe(false);
    expect(isTerminal(tty, { NO_COLOR: '' })).toBe(true);
  });
});
