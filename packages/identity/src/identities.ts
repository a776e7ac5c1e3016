import {
  type Backend,
  type DictionaryOptions,
  dictionaryIntegersBelow,
  InvalidArgumentError,
  type LinkResult,
  traced,
  UnsupportedError,
  validateBackend,
  validateDictionaryId,
  validateNamespace,
} from '@porpoise/storage';
import { LRUCache } from 'lru-cache';

/** An external id: a string, or a safe non-negative integer (`123` and `'123'` are one id). */
export type ExternalId = string | number;

export interface IdentitiesOptions {
  /** The dictionary's name: 1-64 characters of [A-Za-z0-9_.-]. Default 'ids'. */
  prefix?: string;
  /** Mappings kept in each direction (id -> integer, integer -> id). Default 100,000; 0 disables. */
  cacheSize?: number;
  /**
   * Milliseconds a cached mapping is trusted. Mappings change only through `link`; another
   * process may see a link that late. Default 60,000; 0 trusts them until evicted.
   */
  cacheTtl?: number;
  /** Clock for cache expiry, in ms (monotonic). Default `performance.now`. */
  now?: () => number;
  /** Shards, used when this creates the dictionary (default 32; the stored count wins after). */
  shards?: number;
  /** Forward buckets per shard, used when this creates the dictionary (default 1,024). */
  buckets?: number;
}

interface Pending {
  readonly keys: string[];
  resolve(found: Array<number | null>): void;
  reject(error: unknown): void;
}

type DictionaryBackend = Backend & Required<Pick<Backend, 'resolveIds' | 'lookupIds' | 'linkIds'>>;

function nonNegativeInteger(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new InvalidArgumentError(name, value, 'must be a non-negative safe integer');
  }
  return value;
}

/** The string an external id is stored under. */
export function canonicalId(id: unknown, argument = 'id'): string {
  if (typeof id === 'number') {
    if (!Number.isSafeInteger(id) || id < 0 || Object.is(id, -0)) {
      throw new InvalidArgumentError(argument, id, 'a numeric id must be a safe non-negative integer');
    }
    return String(id);
  }
  if (typeof id !== 'string') {
    throw new InvalidArgumentError(argument, id, 'an id must be a string or a safe non-negative integer');
  }
  validateDictionaryId(id, argument);
  return id;
}

function toArray<T>(values: Iterable<T>, name: string): readonly T[] {
  if (Array.isArray(values)) return values;
  if (values === null || typeof values !== 'object' || !(Symbol.iterator in values)) {
    throw new InvalidArgumentError(name, values, 'must be an iterable');
  }
  return [...values];
}

/**
 * External ids (UUIDs, emails, snowflakes) as dense integers, the bit offsets of Porpoise
 * bitmaps. The first time an id is resolved it gets the next free integer of its shard; it
 * keeps it for ever (only `link` redirects an anonymous id). Known ids are answered from a
 * bounded in-process cache without a round trip.
 */
export class Identities {
  readonly #backend: DictionaryBackend;
  readonly #name: string;
  readonly #create: DictionaryOptions;
  readonly #forward: LRUCache<string, number> | null;
  readonly #reverse: LRUCache<number, string> | null;
  readonly #assigning: Pending[] = [];
  readonly #peeking: Pending[] = [];

  constructor(backend: Backend, options: IdentitiesOptions = {}) {
    validateBackend(backend);
    if (typeof options !== 'object' || options === null) {
      throw new InvalidArgumentError('options', options, 'must be an options object');
    }
    if (
      typeof backend.resolveIds !== 'function' ||
      typeof backend.lookupIds !== 'function' ||
      typeof backend.linkIds !== 'function'
    ) {
      throw new UnsupportedError(
        `the ${backend.name} backend has no id dictionaries (resolveIds, lookupIds, linkIds)`,
      );
    }
    this.#backend = backend as DictionaryBackend;
    const name = options.prefix ?? 'ids';
    validateNamespace(name);
    this.#name = name;
    const create: { shards?: number; buckets?: number } = {};
    if (options.shards !== undefined) create.shards = options.shards;
    if (options.buckets !== undefined) create.buckets = options.buckets;
    this.#create = { create };
    const size = nonNegativeInteger('cacheSize', options.cacheSize, 100_000);
    const ttl = nonNegativeInteger('cacheTtl', options.cacheTtl, 60_000);
    const now = options.now;
    if (now !== undefined && typeof now !== 'function') {
      throw new InvalidArgumentError('now', now, 'must be a function returning milliseconds');
    }
    // A given clock is read on every check (lru-cache otherwise reuses a reading for 1 ms).
    const clock = now === undefined ? {} : { perf: { now }, ttlResolution: 0 };
    const cache = <K extends {}, V extends {}>() =>
      size === 0 ? null : new LRUCache<K, V>({ max: size, ...(ttl > 0 ? { ttl, ...clock } : {}) });
    this.#forward = cache<string, number>();
    this.#reverse = cache<number, string>();
  }

  /** The dictionary's name. */
  get prefix(): string {
    return this.#name;
  }

  /**
   * The integers of `ids`, in input order, assigning the next free integer to each id seen
   * for the first time (atomically: every process agrees). One round trip for all the ids
   * not in the cache; none when all are. Every id is checked before anything is assigned.
   */
  async resolve(ids: Iterable<ExternalId>): Promise<number[]> {
    return (await this.#resolve(ids, true)) as number[];
  }

  /** The integer of one id, assigning one if it has none. */
  async resolveOne(id: ExternalId): Promise<number> {
    return (await this.resolve([id]))[0]!;
  }

  /** Like `resolve`, but never assigns: null for an id without an integer. */
  peek(ids: Iterable<ExternalId>): Promise<Array<number | null>> {
    return this.#resolve(ids, false);
  }

  /**
   * The ids owning the integers, in input order (null for an integer never handed out). Ids
   * come back as the strings they are stored under: `123` resolved as a number reads `'123'`.
   */
  lookup(ints: Iterable<number>): Promise<Array<string | null>> {
    return traced('identity.lookup', this.#backend.name, async (op) => {
      const list = toArray(ints, 'ints');
      const out = new Array<string | null>(list.length);
      const missing: number[] = [];
      const reverse = this.#reverse;
      for (let i = 0; i < list.length; i++) {
        const n = list[i]!;
        const known = reverse?.get(n);
        if (known !== undefined) out[i] = known;
        else missing.push(n);
      }
      if (missing.length === 0) return out;
      op.attributes({ 'porpoise.ids': missing.length });
      const found = await this.#backend.lookupIds(this.#name, missing, this.#create);
      const byInt = new Map<number, string | null>();
      for (let i = 0; i < missing.length; i++) {
        byInt.set(missing[i]!, found[i]!);
        if (found[i] !== null) reverse?.set(missing[i]!, found[i]!);
      }
      for (let i = 0; i < list.length; i++) if (out[i] === undefined) out[i] = byInt.get(list[i]!) ?? null;
      return out;
    });
  }

  /**
   * Link an anonymous id to the user it turned out to be (at login, say). When `userId` is
   * new it takes over the anonymous id's integer: the visitor's history becomes the user's,
   * no data moves, and lookups report the user. When both have integers, later resolves of
   * the anonymous id give the user's integer; what was recorded under the anonymous integer
   * stays there (still reported as the anonymous id). Idempotent; an interrupted link is
   * completed by running it again. Other processes' caches see the change within `cacheTtl`.
   */
  link(anonymousId: ExternalId, userId: ExternalId): Promise<LinkResult> {
    return traced('identity.link', this.#backend.name, async () => {
      const from = canonicalId(anonymousId, 'anonymousId');
      const to = canonicalId(userId, 'userId');
      const before = this.#forward?.get(from);
      const result = await this.#backend.linkIds(this.#name, from, to, this.#create);
      if (before !== undefined) this.#reverse?.delete(before);
      this.#reverse?.delete(result.id);
      this.#forward?.set(from, result.id);
      this.#forward?.set(to, result.id);
      return result;
    });
  }

  /**
   * How many integers below `bound` have been handed out (one read of the shards' counters).
   * Events use it to leave integers no id owns yet out of counts of `not()` queries.
   */
  integersBelow(bound: number): Promise<number> {
    return dictionaryIntegersBelow(this.#backend, this.#name, bound);
  }

  /** Forget every cached mapping (the next calls ask the backend). */
  clearCache(): void {
    this.#forward?.clear();
    this.#reverse?.clear();
  }

  /**
   * The backend's answer for `keys`. Calls made in the same tick share one backend call (one
   * round trip), so 10k concurrent `event()`s of new ids cost one batch, not 10k.
   */
  #fetch(keys: string[], assign: boolean): Promise<Array<number | null>> {
    const queue = assign ? this.#assigning : this.#peeking;
    return new Promise((resolve, reject) => {
      queue.push({ keys, resolve, reject });
      if (queue.length > 1) return;
      queueMicrotask(() => {
        const requests = queue.splice(0);
        const all = requests.length === 1 ? requests[0]!.keys : [...new Set(requests.flatMap((r) => r.keys))];
        traced(assign ? 'identity.resolve' : 'identity.peek', this.#backend.name, async (op) => {
          op.attributes({ 'porpoise.ids': all.length });
          return this.#backend.resolveIds(this.#name, all, { ...this.#create, assign });
        }).then(
          (found) => {
            if (requests.length === 1) return requests[0]!.resolve(found);
            const byKey = new Map(all.map((key, i) => [key, found[i] ?? null]));
            for (const r of requests) r.resolve(r.keys.map((key) => byKey.get(key) ?? null));
          },
          (error: unknown) => {
            for (const r of requests) r.reject(error);
          },
        );
      });
    });
  }

  async #resolve(ids: Iterable<ExternalId>, assign: boolean): Promise<Array<number | null>> {
    const list = toArray(ids, 'ids');
    const out = new Array<number | null>(list.length);
    const keys = new Array<string | undefined>(list.length);
    const missing: string[] = [];
    const forward = this.#forward;
    for (let i = 0; i < list.length; i++) {
      const id = list[i];
      // A cached id was checked when it was cached: only misses need the full check.
      if (typeof id === 'string') {
        const cached = forward?.get(id);
        if (cached !== undefined) {
          out[i] = cached;
          continue;
        }
      }
      const key = canonicalId(id, `ids[${i}]`);
      const known = typeof id === 'number' ? forward?.get(key) : undefined;
      if (known !== undefined) out[i] = known;
      else {
        keys[i] = key;
        missing.push(key);
      }
    }
    if (missing.length === 0) return out;
    const found = await this.#fetch(missing, assign);
    const byId = new Map<string, number | null>();
    for (let i = 0; i < missing.length; i++) {
      const n = found[i] ?? null;
      byId.set(missing[i]!, n);
      if (n !== null) forward?.set(missing[i]!, n);
    }
    for (let i = 0; i < list.length; i++) {
      const key = keys[i];
      if (key !== undefined) out[i] = byId.get(key) ?? null;
    }
    return out;
  }
}
