/** Validation of user-facing names and namespaces, shared by the packages built on storage. */
import type { Backend } from './backend.js';
import { InvalidArgumentError } from './errors.js';

export const MAX_NAME_LENGTH = 200;
const CONTROL = /[\u0000-\u001f\u007f]/u;
const NAMESPACE = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * A user-supplied name (event name, counter key, bucket label, counter id): a non-empty
 * string of at most 200 characters without control characters. Any other character is
 * allowed; keys encode it (`encodeKeySegment`), so names cannot collide.
 */
export function validateName(value: unknown, argument: string): asserts value is string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidArgumentError(argument, value, 'must be a non-empty string');
  }
  if (value.length > MAX_NAME_LENGTH) {
    throw new InvalidArgumentError(argument, value, `must be at most ${MAX_NAME_LENGTH} characters`);
  }
  if (CONTROL.test(value))
    throw new InvalidArgumentError(argument, value, 'must not contain control characters');
  validateWellFormed(value, argument);
}

/**
 * A string must be well-formed UTF-16: a lone surrogate has no UTF-8 encoding, so Redis
 * would store U+FFFD in its place and two different names could become one key.
 */
export function validateWellFormed(value: string, argument: string): void {
  // String.prototype.isWellFormed is Node 20's (ES2024), newer than the ES2023 lib we type against.
  if (!(value as string & { isWellFormed(): boolean }).isWellFormed()) {
    const index = loneSurrogateIndex(value);
    throw new InvalidArgumentError(
      argument,
      value,
      `must be well-formed UTF-16: a lone surrogate (\\u${value.charCodeAt(index).toString(16)}) was found at index ${index}`,
    );
  }
}

function loneSurrogateIndex(value: string): number {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff) {
      const next = value.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      return i;
    }
    if (code >= 0xdc00 && code <= 0xdfff) return i;
  }
  return -1;
}

/** A namespace (`prefix` option): 1-64 characters of A-Z, a-z, 0-9, `_`, `.`, `-`. */
export function validateNamespace(value: unknown, argument = 'prefix'): asserts value is string {
  if (typeof value !== 'string' || !NAMESPACE.test(value)) {
    throw new InvalidArgumentError(
      argument,
      value,
      'must be 1-64 characters of A-Z, a-z, 0-9, "_", "." or "-"',
    );
  }
}

/** The `backend` argument of a recorder's constructor, checked once. */
export function validateBackend(backend: unknown): asserts backend is Backend {
  if (typeof backend !== 'object' || backend === null || typeof (backend as Backend).write !== 'function') {
    throw new InvalidArgumentError('backend', backend, 'must be a Backend (e.g. new MemoryBackend())');
  }
}

/**
 * Visit a batch of records (an iterable of objects) with `visit`, which validates each one;
 * callers write only after the whole batch was visited, so a bad record writes nothing.
 */
export function forEachRecord<R extends object>(
  records: unknown,
  shape: string,
  visit: (record: R) => void,
): void {
  if (records === null || typeof records !== 'object' || !(Symbol.iterator in records)) {
    throw new InvalidArgumentError('records', records, `must be an iterable of ${shape}`);
  }
  for (const record of records as Iterable<unknown>) {
    if (typeof record !== 'object' || record === null) {
      throw new InvalidArgumentError('records', record, `each record must be an object ${shape}`);
    }
    visit(record as R);
  }
}

/** `forEachRecord`, collecting what `map` returns for each record. */
export function mapRecords<R extends object, T>(records: unknown, shape: string, map: (record: R) => T): T[] {
  const out: T[] = [];
  forEachRecord(records, shape, (record: R) => {
    out.push(map(record));
  });
  return out;
}

/**
 * An entity id given as a string or a number, as the string it is stored under: numbers are
 * stringified (so 123 and '123' are one entity). A numeric id must be a safe integer
 * (negative allowed, not -0): past 2^53 a number no longer names one id (2^53 + 1 arrives as
 * 2^53), and a fraction's decimal form is not one the caller chose (0.1 + 0.2 is
 * '0.30000000000000004'); pass such ids as strings. Strings follow `validateName`.
 */
export function stringId(value: unknown, argument: string): string {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || Object.is(value, -0)) {
      throw new InvalidArgumentError(
        argument,
        value,
        'a numeric id must be a safe integer (-(2^53 - 1) to 2^53 - 1, not -0); pass other ids as strings',
      );
    }
    return String(value);
  }
  validateName(value, argument);
  return value;
}

/** Options of a batch write (`eventMany`, `countMany`, `trackMany`). */
export interface BatchOptions {
  /**
   * Apply this batch at most once: retried with the same key after a failure (a timeout, a
   * dropped connection, an out-of-memory refusal) it applies only what earlier attempts did
   * not. See `WriteOptions.idempotencyKey`.
   */
  idempotencyKey?: string;
  /** Seconds the key is remembered. Default 86,400. */
  idempotencyTtl?: number;
}

/** The backend write options of a batch's options (checked further by the backend). */
export function batchWriteOptions(options: unknown): { idempotencyKey?: string; idempotencyTtl?: number } {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError(
      'options',
      options,
      'must be an options object { idempotencyKey?, idempotencyTtl? }',
    );
  }
  const { idempotencyKey, idempotencyTtl } = options as BatchOptions;
  return {
    ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
    ...(idempotencyTtl === undefined ? {} : { idempotencyTtl }),
  };
}
