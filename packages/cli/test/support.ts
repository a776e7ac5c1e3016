/**
 * Test helpers: the real `porpoise` binary spawned through tsx (as `pnpm porpoise` runs it),
 * the same command line run in-process, and the demo month seeded straight through the
 * library so tests can compute expected numbers without the CLI.
 */
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ActivityTracker } from '@porpoise/activity';
import { Counters } from '@porpoise/counters';
import { Events } from '@porpoise/events';
import { MemoryBackend } from '@porpoise/storage';
import { DEMO_NOW, seedDemo } from '../src/demo/seed.js';
import type { Io } from '../src/io.js';
import { run } from '../src/run.js';

export const CLI_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));
/** The repository's tmp/ (gitignored; CI keeps it as an artifact): reports and the screenshot go here. */
export const TMP = fileURLToPath(new URL('../../../tmp/', import.meta.url));
mkdirSync(TMP, { recursive: true });
/** Small enough for a second or so per seeded run, large enough for every table to have rows. */
export const USERS = 2000;
export const MEMORY_DEMO = ['--demo', '--users', String(USERS)];
export const NOW_ISO = DEMO_NOW.toISOString();

export interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** The real binary: node with tsx on src/bin.ts, a fresh process, its exit code. */
export function spawnCli(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv } = {},
): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', '--conditions=@porpoise/source', 'src/bin.ts', ...args],
      {
        cwd: CLI_ROOT,
        env: { ...process.env, ...options.env },
        timeout: 60_000,
        maxBuffer: 64 * 1024 * 1024,
        encoding: 'utf8',
      },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') {
          reject(error);
          return;
        }
        resolve({ code: error ? (error.code as number) : 0, stdout, stderr });
      },
    );
  });
}

/** The same command line in this process, through the exported run(). */
export async function runCli(args: readonly string[], options: { tty?: boolean } = {}): Promise<Outcome> {
  let stdout = '';
  let stderr = '';
  const io: Io = {
    stdout: { write: (chunk: string) => (stdout += chunk) },
    stderr: { write: (chunk: string) => (stderr += chunk), isTTY: options.tty === true },
  };
  const code = await run(args, io);
  return { code, stdout, stderr };
}

/** Parsed --json output without `source` (which names the backend and so differs by design). */
export function jsonOf(outcome: Outcome): Record<string, unknown> {
  if (outcome.code !== 0) throw new Error(`exit ${outcome.code}: ${outcome.stderr}`);
  const { source: _source, ...rest } = JSON.parse(outcome.stdout) as Record<string, unknown>;
  return rest;
}

/** The demo month in a MemoryBackend, with the library's own objects to query it. */
export async function demoLibrary(users = USERS) {
  const backend = new MemoryBackend();
  await seedDemo(backend, { users });
  const now = () => DEMO_NOW;
  return {
    backend,
    events: new Events(backend, { now }),
    counters: new Counters(backend, { now }),
    activity: new ActivityTracker(backend, { periods: ['daily', 'weekly', 'monthly'], now }),
    at: { now: DEMO_NOW },
  };
}

/** Timings are the only part of the demo's output that may differ between runs. */
export function maskTimings(text: string): string {
  return text
    .replace(/in \d+\.\d+ s\./g, 'in X s.')
    .replace(/in \d+ ms;/g, 'in X ms;')
    .replace(/Ingest \d+\.\d+ s · all queries \d+ ms/g, 'Ingest X s · all queries X ms');
}
