/**
 * What the backend must know about the server before it relies on it: the version (script
 * flags need Redis 7), and the eviction policy (under `allkeys-*` Redis may evict any one key
 * of a chunked bitmap and leave the rest: answers would then be silently wrong).
 */
import { BackendError, UnsupportedError } from '../errors.js';

export interface ServerFacts {
  /** e.g. [7, 0, 15]; from the first master. */
  readonly version: readonly [number, number, number];
  /** Each master's maxmemory-policy. */
  readonly policies: readonly string[];
}

function field(info: string, name: string): string | undefined {
  return new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim();
}

export function parseServerFacts(infos: readonly string[], where: string): ServerFacts {
  const first = infos[0] ?? '';
  const text = field(first, 'redis_version') ?? field(first, 'valkey_version');
  if (text === undefined) {
    throw new BackendError(`Redis at ${where} answered INFO without a redis_version: is it a Redis server?`, {
      code: 'CONNECTION_ERROR',
    });
  }
  const [major = 0, minor = 0, patch = 0] = text.split('.').map((part) => Number.parseInt(part, 10) || 0);
  if (major < 7) {
    throw new UnsupportedError(
      `Porpoise needs Redis 7.0 or later (script flags keep out-of-memory writes from being half-applied); ${where} runs ${text}`,
    );
  }
  return {
    version: [major, minor, patch],
    policies: infos.map((info) => field(info, 'maxmemory_policy') ?? 'noeviction'),
  };
}

/**
 * The error for a policy that may evict single keys of a bitmap, or null when it is safe.
 * `expiring`: the write gives bitmaps an expiry, which a volatile-* policy may then evict.
 */
export function evictionProblem(facts: ServerFacts, where: string, expiring: boolean): BackendError | null {
  const bad = facts.policies.find(
    (policy) => policy.startsWith('allkeys-') || (expiring && policy.startsWith('volatile-')),
  );
  if (bad === undefined) return null;
  const what = bad.startsWith('allkeys-') ? 'any one key' : 'any one key with an expiry';
  return new BackendError(
    `Redis at ${where} has maxmemory-policy ${bad}: it may evict ${what} of a chunked bitmap and leave the rest, ` +
      'so answers could be silently wrong. Set maxmemory-policy to noeviction (or, for bitmaps without an expiry, a ' +
      'volatile-* policy), or pass allowEviction: true to accept the risk.',
    { code: 'CONFIG_ERROR' },
  );
}
