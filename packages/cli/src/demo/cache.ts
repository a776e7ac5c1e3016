/**
 * `--demo` seeds 35 days of 100,000 users, which takes seconds; the seeded store is the same
 * every time for the same parameters, so the first call saves it as a snapshot in the OS temp
 * folder and later calls load that instead. The file name carries the CLI version and a hash of
 * everything the data depends on (the demo parameters, the snapshot format, and the code that
 * records it), so a changed demo never reads an old file. Writes go to a temporary file renamed
 * into place, so a concurrent or interrupted run never leaves half a file; a file that does not
 * load (damaged, truncated, another key) is ignored and rebuilt.
 *
 * PORPOISE_DEMO_CACHE=off disables the cache; PORPOISE_DEMO_CACHE_DIR moves it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MemoryBackend, restoreSnapshot, SNAPSHOT_FORMAT_VERSION, snapshotOf } from '@porpoise/storage';
import { VERSION } from '../version.js';
import { DEMO_DAYS, DEMO_NOW, DEMO_SONGS, DEMO_START, seedDemo } from './seed.js';

export interface DemoParameters {
  users: number;
  zone: string;
}

export interface DemoCacheOptions {
  /** Follows the seeding, when there is one to do. */
  onDay?: (done: number, total: number) => void;
  env?: NodeJS.ProcessEnv;
}

/** How the returned backend came to be: loaded from the cache, or seeded (and then saved, or not). */
export type DemoOrigin = 'cache' | 'seeded' | 'seeded-uncached';

const HEADER = 'PORPOISE-DEMO-CACHE\n';

let fingerprint: string | undefined;

/**
 * The code the demo data depends on. Run from source (tsx, the tests), every TypeScript file
 * of the workspace packages, so editing any library invalidates the cache even though the
 * version stays the same; built, the bundle that holds this module (the library packages
 * share the CLI's version).
 */
function codeFingerprint(): string {
  if (fingerprint !== undefined) return fingerprint;
  const hash = createHash('sha256');
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.ts')) {
    const packages = join(dirname(here), '..', '..', '..');
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir).sort()) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (name.endsWith('.ts') || name.endsWith('.lua')) files.push(path);
      }
    };
    for (const name of readdirSync(packages).sort()) {
      const src = join(packages, name, 'src');
      try {
        if (statSync(src).isDirectory()) walk(src);
      } catch {
        // not a package with sources
      }
    }
    for (const file of files) hash.update(file.slice(packages.length)).update(readFileSync(file));
  } else {
    hash.update(readFileSync(here));
  }
  fingerprint = hash.digest('hex');
  return fingerprint;
}

/** Everything the seeded data depends on, as one string. */
export function demoCacheKey(parameters: DemoParameters): string {
  return JSON.stringify({
    cli: VERSION,
    snapshot: SNAPSHOT_FORMAT_VERSION,
    users: parameters.users,
    zone: parameters.zone,
    demo: { days: DEMO_DAYS, songs: DEMO_SONGS, start: DEMO_START, now: DEMO_NOW.toISOString() },
    code: codeFingerprint(),
  });
}

/** Where the snapshot of these parameters lives, or null when the cache is off. */
export function demoCacheFile(
  parameters: DemoParameters,
  env: NodeJS.ProcessEnv = process.env,
): string | null {
  if (env.PORPOISE_DEMO_CACHE === 'off' || env.PORPOISE_DEMO_CACHE === '0') return null;
  const dir = env.PORPOISE_DEMO_CACHE_DIR || join(tmpdir(), 'porpoise-cli');
  const digest = createHash('sha256').update(demoCacheKey(parameters)).digest('hex').slice(0, 16);
  return join(dir, `demo-${VERSION}-${digest}.snapshot`);
}

async function load(file: string, key: string): Promise<MemoryBackend | null> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch {
    return null;
  }
  const header = Buffer.from(`${HEADER}${key}\n`);
  if (bytes.length < header.length || !bytes.subarray(0, header.length).equals(header)) return null;
  try {
    return restoreSnapshot(
      new Uint8Array(bytes.buffer, bytes.byteOffset + header.length, bytes.length - header.length),
    );
  } catch {
    return null;
  }
}

/** Snapshots kept in the folder: other parameters and recent versions, not every old build. */
const KEEP = 8;

async function prune(dir: string, keep: string): Promise<void> {
  const names = await readdir(dir);
  // Temporary files of runs killed mid-write; a live writer renames its own within seconds.
  for (const name of names.filter((n) => n.startsWith('demo-') && n.endsWith('.tmp'))) {
    try {
      if (Date.now() - statSync(join(dir, name)).mtimeMs > 3_600_000)
        await rm(join(dir, name), { force: true });
    } catch {
      // gone already
    }
  }
  const snapshots = names
    .filter((name) => name.startsWith('demo-') && name.endsWith('.snapshot'))
    .map((name) => join(dir, name))
    .filter((path) => path !== keep)
    .map((path) => {
      try {
        return { path, time: statSync(path).mtimeMs };
      } catch {
        return null;
      }
    })
    .filter((entry) => entry !== null)
    .sort((a, b) => b.time - a.time);
  for (const { path } of snapshots.slice(KEEP - 1)) await rm(path, { force: true });
}

async function save(file: string, key: string, backend: MemoryBackend): Promise<boolean> {
  const temporary = `${file}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  try {
    await mkdir(dirname(file), { recursive: true });
    await writeFile(temporary, Buffer.concat([Buffer.from(`${HEADER}${key}\n`), snapshotOf(backend)]));
    await rename(temporary, file);
    await prune(dirname(file), file);
    return true;
  } catch {
    // A read-only or full temp folder only costs the next call a re-seed.
    await rm(temporary, { force: true }).catch(() => {});
    return false;
  }
}

/** The demo month in a MemoryBackend: from the cache when a good snapshot is there, seeded otherwise. */
export async function demoBackend(
  parameters: DemoParameters,
  options: DemoCacheOptions = {},
): Promise<{ backend: MemoryBackend; origin: DemoOrigin }> {
  const file = demoCacheFile(parameters, options.env);
  const key = file === null ? '' : demoCacheKey(parameters);
  if (file !== null) {
    const cached = await load(file, key);
    if (cached) return { backend: cached, origin: 'cache' };
  }
  const backend = new MemoryBackend();
  try {
    await seedDemo(backend, { users: parameters.users, zone: parameters.zone, onDay: options.onDay });
  } catch (error) {
    await backend.close();
    throw error;
  }
  if (file === null) return { backend, origin: 'seeded-uncached' };
  return { backend, origin: (await save(file, key, backend)) ? 'seeded' : 'seeded-uncached' };
}
