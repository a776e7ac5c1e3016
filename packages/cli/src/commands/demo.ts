/**
 * `porpoise demo`: the quick start. On memory by default; with --redis it writes under a
 * random prefix and deletes its keys afterwards, or with --keep under --prefix (default
 * "porpoise-demo") and leaves them for the other commands to query.
 */
import { randomBytes } from 'node:crypto';
import { RedisBackend } from '@porpoise/analytics';
import { runDemo } from '../demo/demo.js';
import { UsageError } from '../errors.js';
import { toJson } from '../format/json.js';
import type { Io } from '../io.js';
import { type CommonFlags, openBackend, redactUrl, settingsOf } from '../session.js';

export interface DemoFlags extends CommonFlags {
  keep?: boolean;
}

export const DEMO_PREFIX = 'porpoise-demo';

export async function demoCommand(flags: DemoFlags, io: Io): Promise<void> {
  if (flags.demo)
    throw new UsageError('--demo is for the query commands; porpoise demo always records the demo');
  const settings = settingsOf(flags, { demoCommand: true });
  if (settings.redis === undefined) {
    if (flags.keep) throw new UsageError('--keep needs --redis: the memory backend ends with the process');
    if (flags.prefix !== undefined)
      throw new UsageError('--prefix is the Redis key prefix and needs --redis');
  }
  const base = flags.prefix ?? DEMO_PREFIX;
  const prefix = flags.keep ? base : `${base}-${randomBytes(3).toString('hex')}`;
  const backend = await openBackend(settings, prefix);
  const temporary = backend instanceof RedisBackend && !flags.keep;
  try {
    if (backend instanceof RedisBackend && flags.keep) {
      // Recording twice would double every counter: the demo only writes into an empty prefix.
      const existing = await backend.keys();
      if (existing.length > 0) {
        throw new UsageError(
          `--prefix "${prefix}" already holds ${existing.length} keys on ${redactUrl(settings.redis!)}: choose another --prefix (the demo never writes over data)`,
        );
      }
    }
    const print = settings.json ? undefined : (line: string) => io.stdout.write(`${line}\n`);
    const result = await runDemo(
      backend,
      { users: settings.users, zone: settings.zone, now: settings.now },
      print,
    );
    if (settings.json) {
      const where = backend instanceof RedisBackend ? { prefix, kept: flags.keep === true } : {};
      io.stdout.write(toJson({ command: 'demo', ...where, ...result }));
    }
  } catch (error) {
    // The first error is the one to report; cleaning up after it is best effort.
    if (temporary) await deleteAll(backend).catch(() => {});
    await backend.close();
    throw error;
  }
  try {
    if (temporary) await deleteAll(backend);
  } finally {
    await backend.close();
  }
}

async function deleteAll(backend: RedisBackend): Promise<void> {
  const keys = await backend.keys();
  if (keys.length > 0) await backend.write([{ op: 'delete', keys }]);
}
