/** Compile-time contracts, checked by `tsc` (typecheck covers test/) and run as plain tests. */
import { MemoryBackend } from '@porpoise/storage';
import type { Bucket } from '@porpoise/timerange';
import { dayrange } from '@porpoise/timerange';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { Events, type IdSet, InvalidArgumentError } from '../src/index.js';

const NOW = new Date('2026-11-24T12:00:00Z');

describe('IdSet types', () => {
  it('over() yields IdSets whose bucket is never null', async () => {
    const events = new Events(new MemoryBackend(), { now: () => NOW });
    await events.event('login', 1);
    for await (const ids of events.get('login').over(dayrange(-1, 1, { now: NOW }))) {
      expectTypeOf(ids.bucket).toEqualTypeOf<Bucket>();
      expect(ids.bucket.key).toMatch(/^2026112[34]$/);
    }
  });

  it('union() gives an IdSet whose bucket is null', async () => {
    const events = new Events(new MemoryBackend(), { now: () => NOW });
    const union = await events.get('login').union(dayrange(-1, 0, { now: NOW }));
    expectTypeOf(union).toEqualTypeOf<IdSet<null>>();
    expect(union.bucket).toBeNull();
  });
});

describe('combining a query with something else', () => {
  const events = new Events(new MemoryBackend(), { now: () => NOW });

  it('is an InvalidArgumentError that says how to make a query from a name', () => {
    let error: unknown;
    try {
      // @ts-expect-error a name is not a query
      events.get('active').and('login');
    } catch (e) {
      error = e;
    }
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect((error as Error).message).toBe(
      'Invalid argument "other" ("login"): must be an EventQuery, not an event name: make one with events.get("login")',
    );
  });

  it('is an InvalidArgumentError for any other value', () => {
    // @ts-expect-error not a query
    expect(() => events.get('active').or(5)).toThrow(
      `must be an EventQuery: make one with events.get(name), e.g. events.get('login')`,
    );
  });

  it('is an InvalidArgumentError for a query of another Events', () => {
    const other = new Events(new MemoryBackend());
    expect(() => events.get('active').andNot(other.get('login'))).toThrow(
      'must come from the same Events instance as this query',
    );
  });
});
