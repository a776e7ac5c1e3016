import { describe, expect, it } from 'vitest';
import { progressBar } from '../src/progress.js';
import { runCli } from './support.js';

function terminal(isTTY = true) {
  const frames: string[] = [];
  return { frames, stream: { isTTY, write: (chunk: string) => frames.push(chunk) } };
}

describe('the progress bar', () => {
  it('redraws one line in place on a terminal, then clears it', () => {
    const { frames, stream } = terminal();
    const progress = progressBar(stream, 'work', true, () => 0);
    progress.update(0, 4);
    progress.update(4, 4);
    progress.finish();
    expect(frames).toEqual([
      `\r\x1b[2Kwork ${'░'.repeat(24)} 0/4 0%`,
      `\r\x1b[2Kwork ${'█'.repeat(24)} 4/4 100%`,
      '\r\x1b[2K',
    ]);
  });

  it('draws at most one frame per 80 ms, but always the last one', () => {
    const { frames, stream } = terminal();
    let now = 0;
    const progress = progressBar(stream, 'w', true, () => now);
    for (let done = 1; done <= 10; done++) {
      now += 10;
      progress.update(done, 10);
    }
    expect(frames.map((f) => f.match(/ (\d+)\/10 /)?.[1])).toEqual(['1', '9', '10']);
  });

  it('is silent when stderr is not a terminal, or when disabled (--json)', () => {
    for (const [isTTY, enabled] of [
      [false, true],
      [true, false],
    ] as const) {
      const { frames, stream } = terminal(isTTY);
      const progress = progressBar(stream, 'w', enabled, () => 0);
      progress.update(1, 2);
      progress.finish();
      expect(frames).toEqual([]);
    }
  });
});

describe('progress of long commands', () => {
  const collapse = [
    'activity',
    'collapse',
    '--buckets',
    'web,ios,android',
    '--max-periods',
    '60',
    '--now',
    '2026-12-24',
    '--demo',
    '--users',
    '300',
  ];

  it('activity collapse draws the seeding and the collapse on a terminal stderr, never on stdout', async () => {
    const { code, stdout, stderr } = await runCli(collapse, { tty: true });
    expect(code).toBe(0);
    expect(stderr).toContain('seeding the demo month');
    // The demo collapsed up to the 23rd of November; the 24th to the 23rd of December remain.
    expect(stderr).toMatch(/collapsing daily periods █{24} 30\/30 100%/);
    expect(stderr.endsWith('\r\x1b[2K')).toBe(true);
    expect(stdout).not.toContain('\r');
    expect(stdout).toContain('daily: collapsed 30 periods, oldest first');
  });

  it('draws nothing with --json or when stderr is not a terminal', async () => {
    expect((await runCli([...collapse, '--json'], { tty: true })).stderr).toBe('');
    expect((await runCli(collapse, { tty: false })).stderr).toBe('');
  });
});
