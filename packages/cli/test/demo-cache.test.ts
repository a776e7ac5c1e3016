/**
 * --demo loads the seeded month from a snapshot in the temp folder after the first call: the
 * same data as a fresh seed, rebuilt when the file is damaged or belongs to other parameters.
 */
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryBackend, snapshotOf } from '@porpoise/storage';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { demoBackend, demoCacheFile } from '../src/demo/cache.js';
import { seedDemo } from '../src/demo/seed.js';
import { runCli } from './support.js';

const PARAMETERS = { users: 60, zone: 'UTC' };
let dir: string;
let env: NodeJS.ProcessEnv;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'porpoise-demo-cache-test-'));
  env = { PORPOISE_DEMO_CACHE_DIR: dir };
});
afterEach(() => {
  vi.unstubAllEnvs();
  rmSync(dir, { recursive: true, force: true });
});

/** Byte equality without vitest's element-by-element diff, which is slow on large arrays. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(
    Buffer.from(b.buffer, b.byteOffset, b.byteLength),
  );
}

let seeded: Uint8Array | undefined;

/** The snapshot of a fresh seed, without any cache. */
async function freshSeed(): Promise<Uint8Array> {
  if (seeded === undefined) {
    const backend = new MemoryBackend();
    await seedDemo(backend, PARAMETERS);
    seeded = snapshotOf(backend);
  }
  return seeded;
}

describe('the --demo cache', () => {
  it('seeds and saves on the first call, loads the same store on the next', async () => {
    const first = await demoBackend(PARAMETERS, { env });
    expect(first.origin).toBe('seeded');
    const file = demoCacheFile(PARAMETERS, env)!;
    expect(readdirSync(dir)).toEqual([file.slice(dir.length + 1)]);
    const second = await demoBackend(PARAMETERS, { env });
    expect(second.origin).toBe('cache');
    const expected = await freshSeed();
    expect(sameBytes(snapshotOf(first.backend), expected)).toBe(true);
    expect(sameBytes(snapshotOf(second.backend), expected)).toBe(true);
  });

  it('names the file by the CLI version and a hash of the parameters', () => {
    const file = demoCacheFile(PARAMETERS, env)!;
    expect(file).toMatch(/demo-\d+\.\d+\.\d+[^/]*-[0-9a-f]{16}\.snapshot$/);
    expect(demoCacheFile({ users: 61, zone: 'UTC' }, env)).not.toBe(file);
    expect(demoCacheFile({ users: 60, zone: 'Europe/Paris' }, env)).not.toBe(file);
    expect(demoCacheFile(PARAMETERS, { ...env, PORPOISE_DEMO_CACHE: 'off' })).toBeNull();
  });

  it.each([
    ['garbage', () => Buffer.from('not a snapshot')],
    ['an empty file', () => Buffer.alloc(0)],
    ['a truncated snapshot', (good: Buffer) => good.subarray(0, good.length - 100)],
    [
      'a flipped byte',
      (good: Buffer) => Buffer.from(good.map((b, i) => (i === good.length >> 1 ? b ^ 1 : b))),
    ],
    [
      'a snapshot of other data under the right name',
      (good: Buffer) => Buffer.from(good.toString('latin1').replace('"users":60', '"users":999'), 'latin1'),
    ],
  ])('ignores %s and rebuilds it', async (_, damage) => {
    await demoBackend(PARAMETERS, { env });
    const file = demoCacheFile(PARAMETERS, env)!;
    const good = readFileSync(file);
    writeFileSync(file, damage(good));
    const rebuilt = await demoBackend(PARAMETERS, { env });
    expect(rebuilt.origin).toBe('seeded');
    expect(sameBytes(snapshotOf(rebuilt.backend), await freshSeed())).toBe(true);
    expect(sameBytes(readFileSync(file), good)).toBe(true);
    expect((await demoBackend(PARAMETERS, { env })).origin).toBe('cache');
  });

  it('leaves no temporary file behind, and works where the folder cannot be written', async () => {
    await demoBackend(PARAMETERS, { env });
    expect(readdirSync(dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    const blocked = join(dir, 'a-file');
    writeFileSync(blocked, '');
    const result = await demoBackend(PARAMETERS, { env: { PORPOISE_DEMO_CACHE_DIR: join(blocked, 'sub') } });
    expect(result.origin).toBe('seeded-uncached');
    expect(sameBytes(snapshotOf(result.backend), await freshSeed())).toBe(true);
  });

  it('removes temporary files of runs killed mid-write, once they are an hour old', async () => {
    const stale = join(dir, 'demo-0.0.0-0000000000000000.snapshot.1-dead.tmp');
    const fresh = join(dir, 'demo-0.0.0-0000000000000000.snapshot.2-live.tmp');
    writeFileSync(stale, 'half');
    writeFileSync(fresh, 'half');
    const hoursAgo = new Date(Date.now() - 2 * 3_600_000);
    utimesSync(stale, hoursAgo, hoursAgo);
    await demoBackend(PARAMETERS, { env });
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(fresh)).toBe(true);
  });

  it('keeps at most 8 snapshots in the folder', async () => {
    for (let users = 1; users <= 10; users++) await demoBackend({ users, zone: 'UTC' }, { env });
    expect(readdirSync(dir).filter((name) => name.endsWith('.snapshot'))).toHaveLength(8);
  });

  it('gives two command-line calls identical JSON, equal to an uncached run', async () => {
    vi.stubEnv('PORPOISE_DEMO_CACHE', '');
    vi.stubEnv('PORPOISE_DEMO_CACHE_DIR', dir);
    const args = [
      'events',
      'active',
      '--and',
      'login',
      '--range',
      'day:-7',
      '--ids',
      '--json',
      '--demo',
      '--users',
      '300',
    ];
    const first = await runCli(args);
    expect(readdirSync(dir)).toHaveLength(1);
    const second = await runCli(args);
    expect(first.code).toBe(0);
    expect(second).toEqual(first);
    vi.stubEnv('PORPOISE_DEMO_CACHE', 'off');
    expect(await runCli(args)).toEqual(first);
  });
});
