/**
 * Where a command's data lives. With --redis: a RedisBackend on that server (keys under
 * --prefix). Without: a fresh in-process MemoryBackend, empty unless --demo seeds it with the
 * demo's synthetic month (then --now defaults to the demo's clock).
 */
import { Analytics, type Backend, MemoryBackend, type Period, RedisBackend } from '@porpoise/analytics';
import { parseInstant, parseWholeNumber, parseZone } from './args/values.js';
import { demoBackend } from './demo/cache.js';
import { DEMO_NOW, DEMO_USERS } from './demo/seed.js';
import { UsageError } from './errors.js';
import { fmt } from './format/text.js';
import type { Io } from './io.js';
import { progressBar } from './progress.js';

/** The flags every command takes, as commander hands them over (strings, unparsed). */
export interface CommonFlags {
  redis?: string;
  prefix?: string;
  zone?: string;
  now?: string;
  json?: boolean;
  demo?: boolean;
  users?: string;
}

export const MAX_DEMO_USERS = 10_000_000;

export interface Settings {
  redis: string | undefined;
  prefix: string | undefined;
  zone: string;
  now: Date;
  json: boolean;
  demo: boolean;
  users: number;
}

/** Checks the common flags and their combinations, before any backend is opened. */
export function settingsOf(flags: CommonFlags, options: { demoCommand?: boolean } = {}): Settings {
  const demoCommand = options.demoCommand === true;
  if (!demoCommand) {
    if (flags.demo && flags.redis !== undefined) {
      throw new UsageError(
        '--demo seeds the in-memory backend and cannot be combined with --redis (seed Redis with: porpoise demo --redis <url> --keep)',
      );
    }
    if (flags.users !== undefined && !flags.demo) throw new UsageError('--users needs --demo');
    if (flags.prefix !== undefined && flags.redis === undefined) {
      throw new UsageError('--prefix is the Redis key prefix and needs --redis');
    }
  }
  const zone = flags.zone === undefined ? 'UTC' : parseZone(flags.zone);
  const demoClock = demoCommand || flags.demo === true;
  const now =
    flags.now === undefined ? (demoClock ? DEMO_NOW : new Date()) : parseInstant(flags.now, '--now', zone);
  const users =
    flags.users === undefined ? DEMO_USERS : parseWholeNumber(flags.users, '--users', 1, MAX_DEMO_USERS);
  return {
    redis: flags.redis,
    prefix: flags.prefix,
    zone,
    now,
    json: flags.json === true,
    demo: flags.demo === true,
    users,
  };
}

/** The server part of a Redis URL: never print a password. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`;
  } catch {
    return 'redis';
  }
}

export interface Session {
  readonly settings: Settings;
  readonly backend: Backend;
  readonly analytics: Analytics;
  /** For --json: where the data came from. */
  readonly source: { backend: string; demo: boolean; users?: number; prefix?: string };
  /** One line for the table header: "memory backend (demo, 2,000 users)". */
  describe(): string;
  close(): Promise<void>;
}

/** The backend of the settings; for Redis, connected (one probe) so an unreachable server fails here, by name. */
export async function openBackend(settings: Settings, prefix = settings.prefix): Promise<Backend> {
  if (settings.redis === undefined) return new MemoryBackend();
  const backend = RedisBackend.fromUrl(settings.redis, prefix === undefined ? {} : { prefix });
  try {
    // A plain read: it fails in one round of retries, where the feature probe would take several.
    await backend.read([{ op: 'exists', key: 'cli:connect' }]);
  } catch (error) {
    await backend.close();
    // The backend's message names host:port and the cause (never the URL's password).
    throw error;
  }
  return backend;
}

function analyticsOn(
  backend: Backend,
  settings: Settings,
  mode: 'exact' | 'approximate',
  clock?: () => Date,
): Analytics {
  const pinned = settings.now;
  return new Analytics(backend, {
    zone: settings.zone,
    now: clock ?? (() => pinned),
    // Every period, so any can be looked up; collapse picks its own (default daily).
    activity: { periods: ['daily', 'weekly', 'monthly'] satisfies Period[], mode },
  });
}

export interface SessionOptions {
  mode?: 'exact' | 'approximate';
  /**
   * The command's queries, run first on an empty memory backend when --demo is given: a bad
   * name or range is then refused at once instead of after seconds of seeding. `empty` is
   * true there: a query that refuses unknown names (activity buckets) must allow them then.
   */
  check?: (analytics: Analytics, empty: boolean) => Promise<unknown>;
  /** The library's clock instead of the pinned settings.now: a long-running server's "today" moves on. */
  clock?: () => Date;
}

export async function openSession(
  settings: Settings,
  io: Io,
  options: SessionOptions = {},
): Promise<Session> {
  const mode = options.mode ?? 'exact';
  if (settings.demo && options.check) {
    const probe = analyticsOn(new MemoryBackend(), settings, mode);
    try {
      await options.check(probe, true);
    } finally {
      await probe.close();
    }
  }
  let backend: Backend;
  if (settings.demo) {
    const progress = progressBar(io.stderr, 'seeding the demo month', !settings.json);
    try {
      ({ backend } = await demoBackend(
        { users: settings.users, zone: settings.zone },
        { onDay: (done, total) => progress.update(done, total) },
      ));
    } finally {
      progress.finish();
    }
  } else {
    backend = await openBackend(settings);
  }
  const analytics = analyticsOn(backend, settings, mode, options.clock);
  const prefix = backend instanceof RedisBackend ? backend.prefix : undefined;
  return {
    settings,
    backend,
    analytics,
    source: {
      backend: backend.name,
      demo: settings.demo,
      ...(settings.demo ? { users: settings.users } : {}),
      ...(prefix === undefined ? {} : { prefix }),
    },
    describe() {
      if (settings.redis !== undefined) return `redis ${redactUrl(settings.redis)}, prefix ${prefix}`;
      if (settings.demo) return `memory backend (demo month, ${fmt(settings.users)} users)`;
      return 'memory backend (empty: pass --redis <url>, or --demo for the synthetic month)';
    },
    close: () => backend.close(),
  };
}
