/** Test helpers: a fixed clock, fault injection and a second connection to the same store. */
import type { Backend, Feature, ReadOp, ReadResults, WriteOp, WriteOptions } from '@porpoise/storage';
import { RedisBackend } from '@porpoise/storage';
import type { BackendKind } from '@porpoise/test-backends';
import { clusterClient, redisClient } from '@porpoise/test-redis';
import { ActivityTracker, type ActivityTrackerOptions } from '../src/index.js';

/** Tuesday of ISO week 2026W48; "yesterday" is Monday 2026-11-23, the week's first day. */
export const NOW = new Date('2026-11-24T12:00:00Z');

export function trackerOn(backend: Backend, options: ActivityTrackerOptions = {}): ActivityTracker {
  return new ActivityTracker(backend, {
    periods: ['daily', 'weekly', 'monthly'],
    now: () => NOW,
    ...options,
  });
}

/** Delegates to `inner`; `write` calls can be made to fail before or after they are applied. */
export class FaultyBackend implements Backend {
  readonly name: string;
  /** How many writes were attempted. */
  writes = 0;
  readonly #inner: Backend;
  readonly #fault: { when: 'before' | 'after'; at?: number };

  /** `at`: the 1-based write that fails; every write fails when omitted. */
  constructor(inner: Backend, fault: { when: 'before' | 'after'; at?: number }) {
    this.#inner = inner;
    this.#fault = fault;
    this.name = `faulty ${inner.name}`;
  }

  read<const T extends readonly ReadOp[]>(ops: T): Promise<ReadResults<T>> {
    return this.#inner.read(ops);
  }

  async write(ops: readonly WriteOp[], options?: WriteOptions): Promise<boolean> {
    this.writes++;
    const failing = this.#fault.at === undefined || this.#fault.at === this.writes;
    if (failing && this.#fault.when === 'before')
      throw new Error('injected: connection lost before the write');
    const applied = await this.#inner.write(ops, options);
    if (failing && this.#fault.when === 'after') throw new Error('injected: connection lost after the write');
    return applied;
  }

  supports(feature: Feature): Promise<boolean> {
    return this.#inner.supports(feature);
  }

  keys(): Promise<string[]> {
    return this.#inner.keys();
  }

  async close(): Promise<void> {}
}

/** Records every guarded (collapse) write and whether it was applied. */
export class RecordingBackend extends FaultyBackend {
  readonly guarded: Array<{ marker: string; applied: boolean }> = [];

  constructor(inner: Backend) {
    super(inner, { when: 'before', at: -1 });
  }

  override async write(ops: readonly WriteOp[], options?: WriteOptions): Promise<boolean> {
    const applied = await super.write(ops, options);
    if (options?.unlessExists !== undefined) this.guarded.push({ marker: options.unlessExists, applied });
    return applied;
  }
}

/**
 * A second backend on the same data through its own connection, as a second process would
 * have.
 */
export function twinOf(backend: Backend, kind: BackendKind): { backend: Backend; close(): Promise<void> } {
  // Memory and ioredis-mock live in this process: a second process cannot see them.
  if (kind === 'memory' || kind === 'ioredis-mock') return { backend, close: async () => {} };
  const prefix = (backend as RedisBackend).prefix;
  const client = kind === 'redis' || kind === 'node-redis' ? redisClient() : clusterClient();
  return {
    backend: new RedisBackend(client, { prefix }),
    close: async () => {
      await client.quit();
    },
  };
}
