/** What every part of the conformance suite shares: the running backend and small assertions. */
import { expect, type TestContext } from 'vitest';
import type { Backend, Feature, WriteOp } from '../backend.js';
import { BackendError, InvalidArgumentError } from '../errors.js';

/** The suite as its parts see it. */
export interface Suite {
  /** The suite's title for the backend, e.g. 'redis'. */
  readonly name: string;
  /** The fresh backend of the running test. */
  readonly backend: Backend;
  /** Skip the running test, with the reason, unless the backend supports `feature`. */
  requires(ctx: TestContext, feature: Feature): Promise<void>;
  /** Whether the backend supports `feature` (and it is not declared unsupported). */
  supported(feature: Feature): Promise<boolean>;
}

export const FEATURES: readonly Feature[] = ['bitmaps', 'hyperloglog'];

/** The largest bit offset, 2^32 - 1. */
export const TOP = 2 ** 32 - 1;

/** The error a promise rejects with; fails the test if it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject, but it resolved');
}

export function expectWrongType(error: unknown): void {
  expect(BackendError.isInstance(error), `expected a BackendError, got ${String(error)}`).toBe(true);
  expect((error as Error).message).toMatch(/^WRONGTYPE/);
}

export function expectInvalidArgument(error: unknown): void {
  expect(
    InvalidArgumentError.isInstance(error),
    `expected an InvalidArgumentError, got ${String(error)}`,
  ).toBe(true);
  expect((error as InvalidArgumentError).code).toBe('INVALID_ARGUMENT');
}

export function sum(values: Iterable<number>): number {
  let total = 0;
  for (const value of values) total += value;
  return total;
}

export function sorted<T>(values: Iterable<T>): T[] {
  return [...values].sort();
}

/** The operations of `ops` that touch only keys of locality group `group` (their last segment). */
export function inGroup(ops: readonly WriteOp[], group: string): WriteOp[] {
  const mine = (key: string) => key.endsWith(`:${group}`);
  const out: WriteOp[] = [];
  for (const op of ops) {
    if (op.op === 'delete') out.push({ op: 'delete', keys: op.keys.filter(mine) });
    else if ('key' in op && mine(op.key)) out.push(op);
  }
  return out;
}
