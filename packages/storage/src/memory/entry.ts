/**
 * What the memory backend stores under a key, and the errors that depend on it. The error
 * messages follow Redis's ('WRONGTYPE …', 'ERR …') so callers can match either backend.
 */
import type { Bitmap } from '../bitmap.js';
import { BackendError } from '../errors.js';
import type { HyperLogLog } from './hyperloglog.js';

/** Every entry may carry an expiry: epoch ms after which it no longer exists (Redis's rule). */
export type Entry =
  | { readonly kind: 'bitmap'; readonly value: Bitmap; expiresAt?: number }
  | { readonly kind: 'hash'; readonly value: Map<string, number>; expiresAt?: number }
  | { readonly kind: 'set'; readonly value: Set<string>; expiresAt?: number }
  | { readonly kind: 'hll'; readonly value: HyperLogLog; expiresAt?: number }
  | { readonly kind: 'string'; readonly value: string; expiresAt?: number };

export type Kind = Entry['kind'];
export type EntryOf<K extends Kind> = Extract<Entry, { kind: K }>;

const KIND_NAMES: Record<Kind, string> = {
  bitmap: 'a bitmap',
  hash: 'a hash',
  set: 'a set',
  hll: 'a HyperLogLog',
  string: 'a plain value',
};

/** Redis's integer check for values `max` raises (the Redis backend's `^%-?%d+$`). */
export const INTEGER_VALUE = /^-?[0-9]+$/;

export function wrongType(key: string, wanted: Kind, actual: Kind): BackendError {
  return new BackendError(
    `WRONGTYPE Operation against a key holding the wrong kind of value: "${key}" holds ${KIND_NAMES[actual]}, not ${KIND_NAMES[wanted]}`,
  );
}

export function notAnInteger(key: string, value: string): BackendError {
  return new BackendError(
    `ERR value is not an integer: "${key}" holds ${JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}...` : value)}`,
  );
}

/** Counters are JavaScript numbers: past 2^53 they would silently lose precision. */
export function incrementOverflow(key: string, field: string): BackendError {
  return new BackendError(
    `ERR increment or decrement would overflow: "${key}" field ${JSON.stringify(field)} would leave the safe integer range`,
  );
}
