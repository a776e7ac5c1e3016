/**
 * Logical key names. Callers build keys from segments with `keyOf`; user-supplied names go
 * through `encodeKeySegment`, so a name containing `:` (like `song:played`) can never
 * collide with another key's structure.
 */
import { InvalidArgumentError } from './errors.js';

export const KEY_SEPARATOR = ':';
export const MAX_KEY_LENGTH = 1024;
/** Largest bit offset a bitmap accepts: ids in [0, 2^32) are supported on every backend. */
export const MAX_BIT_OFFSET = 2 ** 32 - 1;

// Braces are reserved for backends (Redis Cluster hash tags); whitespace and control
// characters make keys unreadable in tooling and are never needed.
const FORBIDDEN_IN_KEY = /[\u0000-\u0020\u007f{}]/u;
const ESCAPED_IN_SEGMENT = /[%:{}\u0000-\u0020\u007f]/gu;

/** Percent-encode the characters that have a meaning in keys, so any text is a safe segment. */
export function encodeKeySegment(text: string): string {
  return text.replace(
    ESCAPED_IN_SEGMENT,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`,
  );
}

/** Join already-safe segments into a key. Each segment must be non-empty and free of `:`. */
export function keyOf(...segments: string[]): string {
  for (const segment of segments) {
    if (segment.length === 0 || segment.includes(KEY_SEPARATOR)) {
      throw new InvalidArgumentError(
        'segments',
        segments,
        'each key segment must be non-empty and contain no ":"',
      );
    }
  }
  const key = segments.join(KEY_SEPARATOR);
  validateKey(key);
  return key;
}

/** The key's locality group: its last segment. Keys of one group are stored together. */
export function localityGroup(key: string): string {
  return key.slice(key.lastIndexOf(KEY_SEPARATOR) + 1);
}

export function validateKey(key: unknown, argument = 'key'): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) {
    throw new InvalidArgumentError(argument, key, 'a key must be a non-empty string');
  }
  if (key.length > MAX_KEY_LENGTH) {
    throw new InvalidArgumentError(argument, key, `a key must be at most ${MAX_KEY_LENGTH} characters`);
  }
  if (!key.isWellFormed()) {
    throw new InvalidArgumentError(
      argument,
      key,
      'a key must be well-formed Unicode (it contains a lone surrogate)',
    );
  }
  if (FORBIDDEN_IN_KEY.test(key)) {
    throw new InvalidArgumentError(
      argument,
      key,
      'a key must not contain braces, whitespace or control characters',
    );
  }
  if (key.startsWith(KEY_SEPARATOR) || key.endsWith(KEY_SEPARATOR) || key.includes('::')) {
    throw new InvalidArgumentError(argument, key, 'a key must not have empty segments');
  }
}

export function validateBitOffset(offset: unknown, argument = 'offset'): asserts offset is number {
  // `>>> 0` maps exactly the integers of [0, 2^32) to themselves (MAX_BIT_OFFSET is 2^32 - 1).
  if (typeof offset !== 'number' || offset >>> 0 !== offset) {
    throw new InvalidArgumentError(argument, offset, `must be an integer in [0, ${MAX_BIT_OFFSET}]`);
  }
}
