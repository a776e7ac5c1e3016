/**
 * Shared pieces of the chaos scenarios: typed-error checks, bounded waits, and the checks
 * every scenario ends with (no temporary keys left).
 */
import { BackendError, PorpoiseError } from '@porpoise/storage';
import { temporaryKeys } from '@porpoise/test-redis/servers';
import type { Redis } from 'ioredis';
import { expect } from 'vitest';

export {
  info,
  resetSlowlog,
  scanKeys,
  slowlog,
  TestServer,
  temporaryKeys,
  watchdog,
} from '@porpoise/test-redis/servers';

/** The code of a typed error, or a description of what was thrown instead. */
export function codeOf(error: unknown): string {
  if (PorpoiseError.isInstance(error)) return (error as PorpoiseError).code;
  return `not a PorpoiseError: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`;
}

/** The rejection of `promise` (fails the test if it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection, but the promise resolved');
}

export function isBackendError(error: unknown, code: string): boolean {
  return BackendError.isInstance(error) && (error as BackendError).code === code;
}

/** Reject with a plain error when `promise` takes longer than `ms` (a hang is a failure, not a timeout of the test). */
export function within<T>(ms: number, promise: Promise<T>, what = 'the operation'): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export async function expectNoTemporaries(client: Redis): Promise<void> {
  expect(await temporaryKeys(client)).toEqual([]);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Ids [from, to). */
export function ids(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}
