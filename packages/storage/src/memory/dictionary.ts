/**
 * Id dictionaries on the memory backend: the per-shard steps of ../dictionary.ts, on
 * ordinary entries under the same logical keys the Redis backend uses, so `keys()`, `delete`
 * and snapshots treat them like any other data. Forward buckets, the config and each shard's
 * state are hashes. A reverse bucket is a plain value: its ids joined by '\n' in the order
 * the shard handed their integers out (ids are names, which never hold control characters),
 * because memory hashes hold integers only.
 *
 * Each `run` is one synchronous step, so its steps are atomic as Redis script calls are.
 */
import {
  type DictionaryConfig,
  type DictionaryStore,
  dictionaryKeys,
  integerOf,
  MAX_DICTIONARY_INTEGER,
  REVERSE_BUCKET_SIZE,
  type ShardStep,
} from '../dictionary.js';
import { BackendError } from '../errors.js';
import type { Entry, EntryOf, Kind } from './entry.js';

/** What the dictionary needs of the backend's store (see MemoryBackend). */
export interface DictionaryEntries {
  /** Start a call: the closed check and the clock. */
  begin(): void;
  /** The live entry at `key`; a WRONGTYPE error when it holds another kind. */
  get<K extends Kind>(key: string, kind: K): EntryOf<K> | undefined;
  set(key: string, entry: Entry): void;
}

const SEPARATOR = '\n';

function mismatch(name: string, stored: DictionaryConfig, used: DictionaryConfig): BackendError {
  return new BackendError(
    `ERR dictionary ${name} has ${stored.shards} shards of ${stored.buckets} buckets, not ${used.shards} of ${used.buckets} (it was recreated under a running process?)`,
  );
}

export class MemoryDictionaries implements DictionaryStore {
  readonly #entries: DictionaryEntries;

  constructor(entries: DictionaryEntries) {
    this.#entries = entries;
  }

  async config(name: string, wanted: DictionaryConfig): Promise<DictionaryConfig> {
    this.#entries.begin();
    const key = dictionaryKeys.config(name);
    const stored = this.#entries.get(key, 'hash')?.value;
    if (stored?.has('shards')) return { shards: stored.get('shards')!, buckets: stored.get('buckets')! };
    this.#hash(key).set('shards', wanted.shards).set('buckets', wanted.buckets);
    return wanted;
  }

  async run(name: string, config: DictionaryConfig, steps: readonly ShardStep[]): Promise<unknown[]> {
    this.#entries.begin();
    return steps.map((step) => this.#step(name, config, step));
  }

  #hash(key: string): Map<string, number> {
    const existing = this.#entries.get(key, 'hash');
    if (existing) return existing.value;
    const value = new Map<string, number>();
    this.#entries.set(key, { kind: 'hash', value });
    return value;
  }

  /** The shard's state, checked against the parameters the caller used. */
  #state(name: string, config: DictionaryConfig, shard: number): Map<string, number> | undefined {
    const state = this.#entries.get(dictionaryKeys.state(name, shard), 'hash')?.value;
    if (
      state?.has('shards') &&
      (state.get('shards') !== config.shards || state.get('buckets') !== config.buckets)
    ) {
      throw mismatch(name, { shards: state.get('shards')!, buckets: state.get('buckets')! }, config);
    }
    return state;
  }

  #reverse(name: string, shard: number, local: number): string[] {
    const key = dictionaryKeys.reverse(name, shard, Math.floor(local / REVERSE_BUCKET_SIZE));
    const text = this.#entries.get(key, 'string')?.value;
    return text === undefined ? [] : text.split(SEPARATOR);
  }

  #setReverse(name: string, shard: number, local: number, ids: readonly string[]): void {
    const key = dictionaryKeys.reverse(name, shard, Math.floor(local / REVERSE_BUCKET_SIZE));
    this.#entries.set(key, { kind: 'string', value: ids.join(SEPARATOR) });
  }

  /** Give `id` the shard's next integer (overwriting what it maps to). */
  #assign(name: string, config: DictionaryConfig, shard: number, bucket: number, id: string): number {
    const state = this.#state(name, config, shard);
    const local = state?.get('next') ?? 0;
    const value = integerOf(shard, local, config);
    if (value > MAX_DICTIONARY_INTEGER) throw full(name);
    this.#hash(dictionaryKeys.forward(name, shard, bucket)).set(id, value);
    const ids = local % REVERSE_BUCKET_SIZE === 0 ? [] : this.#reverse(name, shard, local);
    ids.push(id);
    this.#setReverse(name, shard, local, ids);
    this.#hash(dictionaryKeys.state(name, shard))
      .set('next', local + 1)
      .set('shards', config.shards)
      .set('buckets', config.buckets);
    return value;
  }

  #step(name: string, config: DictionaryConfig, step: ShardStep): unknown {
    const forward = (bucket: number) =>
      this.#entries.get(dictionaryKeys.forward(name, step.shard, bucket), 'hash')?.value;
    switch (step.op) {
      case 'resolve': {
        const state = this.#state(name, config, step.shard);
        if (step.assign) {
          // Checked before anything is written: a full shard assigns nothing.
          const last = integerOf(step.shard, (state?.get('next') ?? 0) + step.entries.length - 1, config);
          if (last > MAX_DICTIONARY_INTEGER && step.entries.some(([b, id]) => !forward(b)?.has(id))) {
            throw full(name);
          }
        }
        return step.entries.map(([bucket, id]) => {
          const known = forward(bucket)?.get(id);
          if (known !== undefined) return known;
          return step.assign ? this.#assign(name, config, step.shard, bucket, id) : null;
        });
      }
      case 'lookup': {
        this.#state(name, config, step.shard);
        return step.locals.map(
          (local) => this.#reverse(name, step.shard, local)[local % REVERSE_BUCKET_SIZE] ?? null,
        );
      }
      case 'claim': {
        const known = forward(step.bucket)?.get(step.id);
        if (known !== undefined) return known;
        this.#hash(dictionaryKeys.forward(name, step.shard, step.bucket)).set(step.id, step.value);
        return step.value;
      }
      case 'rename': {
        const ids = this.#reverse(name, step.shard, step.local);
        const i = step.local % REVERSE_BUCKET_SIZE;
        if (ids[i] !== step.from && ids[i] !== step.to) return false;
        ids[i] = step.to;
        this.#setReverse(name, step.shard, step.local, ids);
        return true;
      }
      case 'point':
        this.#hash(dictionaryKeys.forward(name, step.shard, step.bucket)).set(step.id, step.value);
        return null;
      case 'reassign': {
        const known = forward(step.bucket)?.get(step.id);
        if (known !== undefined && known !== step.value) return known;
        return this.#assign(name, config, step.shard, step.bucket, step.id);
      }
    }
  }
}

function full(name: string): BackendError {
  return new BackendError(
    `ERR dictionary ${name} is full: its next integer would pass ${MAX_DICTIONARY_INTEGER}, the largest bit offset`,
  );
}
