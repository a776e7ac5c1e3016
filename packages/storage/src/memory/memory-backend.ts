/**
 * The embedded backend: pure TypeScript, zero setup, exact.
 *
 * Every `read` and `write` runs synchronously from start to finish (there is no `await`
 * inside), so concurrent async callers never observe each other's partial work: a read sees
 * one snapshot and a write is one step. The clock is read once per call, so a key cannot
 * expire halfway through one.
 *
 * Semantics mirror Redis, because the conformance suite holds both backends to the same
 * answers: a key holds one kind of value (using it as another is a WRONGTYPE error), a set
 * emptied by removal is deleted, `set` clears an expiry, `max` keeps it, and HyperLogLog
 * estimates are Redis's own, digit for digit.
 */
import type { Backend, BitExpr, Feature, ReadOp, ReadResults, WriteOp, WriteOptions } from '../backend.js';
import { Bitmap } from '../bitmap.js';
import {
  type DictionaryOptions,
  type LinkResult,
  linkIdsWith,
  lookupIdsWith,
  type ResolveIdsOptions,
  resolveIdsWith,
} from '../dictionary.js';
import { BackendError } from '../errors.js';
import { noteKeys } from '../telemetry.js';
import { exprKeys, validateReadOps, validateWriteOps } from '../validate.js';
import { MemoryDictionaries } from './dictionary.js';
import { dryRun, sumIncrements } from './dry-run.js';
import {
  type Entry,
  type EntryOf,
  INTEGER_VALUE,
  incrementOverflow,
  type Kind,
  notAnInteger,
  wrongType,
} from './entry.js';
import { HyperLogLog } from './hyperloglog.js';

export interface MemoryBackendOptions {
  /** Clock for expiry, in epoch ms. Default `Date.now`. */
  now?: () => number;
}

const FEATURES: ReadonlySet<Feature> = new Set<Feature>(['bitmaps', 'hyperloglog']);
const EMPTY_SET: ReadonlySet<string> = new Set();

export class MemoryBackend implements Backend {
  readonly name = 'memory';
  readonly #clock: () => number;
  readonly #entries = new Map<string, Entry>();
  /** Idempotency keys of applied writes, with the instant they are forgotten. */
  readonly #applied = new Map<string, number>();
  /** The clock's reading for the call in progress. */
  #now = 0;
  #closed = false;
  readonly #dictionaries = new MemoryDictionaries({
    begin: () => this.#begin(),
    get: (key, kind) => this.#get(key, kind),
    set: (key, entry) => this.#entries.set(key, entry),
  });

  constructor(options: MemoryBackendOptions = {}) {
    this.#clock = options.now ?? Date.now;
  }

  async read<const T extends readonly ReadOp[]>(ops: T): Promise<ReadResults<T>> {
    this.#begin();
    validateReadOps(ops);
    noteKeys(ops);
    return ops.map((op) => this.#readOne(op)) as ReadResults<T>;
  }

  /**
   * Without `atomic`, operations are applied in order like a Redis pipeline: one that fails
   * at run time (WRONGTYPE, `max` on a non-integer) does not stop the others, and the write
   * rejects with the first failure, so operations of the batch may have been applied. With
   * `atomic`, the whole write is checked first (see ./dry-run.ts) and applied only if every
   * operation would succeed.
   */
  async write(ops: readonly WriteOp[], options: WriteOptions = {}): Promise<boolean> {
    this.#begin();
    validateWriteOps(ops, options);
    noteKeys(ops);
    const key = options.idempotencyKey;
    if (key !== undefined) {
      const until = this.#applied.get(key);
      if (until !== undefined && this.#now <= until) return true;
    }
    // An idempotent write is applied whole or not at all, so a retry never repeats a part.
    if (options.atomic || key !== undefined) {
      if (options.unlessExists !== undefined && this.#live(options.unlessExists)) return false;
      dryRun(ops, (k) => this.#live(k));
      for (const op of ops) this.#writeOne(op);
      if (key !== undefined) this.#remember(key, options.idempotencyTtl ?? 86_400);
      return true;
    }
    let failure: unknown;
    for (const op of ops) {
      try {
        this.#writeOne(op);
      } catch (error) {
        failure ??= error;
      }
    }
    if (failure !== undefined) throw failure;
    return true;
  }

  #remember(key: string, seconds: number): void {
    this.#applied.set(key, this.#now + seconds * 1000);
    // Forget expired keys now and then, so the map stays as small as the live ones.
    if (this.#applied.size % 1024 === 0) {
      for (const [k, until] of this.#applied) if (this.#now > until) this.#applied.delete(k);
    }
  }

  resolveIds(dictionary: string, ids: readonly string[], options?: ResolveIdsOptions) {
    return resolveIdsWith(this.#dictionaries, dictionary, ids, options);
  }

  lookupIds(dictionary: string, ints: readonly number[], options?: DictionaryOptions) {
    return lookupIdsWith(this.#dictionaries, dictionary, ints, options);
  }

  linkIds(dictionary: string, from: string, to: string, options?: DictionaryOptions): Promise<LinkResult> {
    return linkIdsWith(this.#dictionaries, dictionary, from, to, options);
  }

  async supports(feature: Feature): Promise<boolean> {
    this.#begin();
    return FEATURES.has(feature);
  }

  async keys(): Promise<string[]> {
    this.#begin();
    const out: string[] = [];
    for (const key of [...this.#entries.keys()]) if (this.#live(key)) out.push(key);
    return out.sort();
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#entries.clear();
  }

  /**
   * @internal For ./snapshot.ts only (not exported by the package): the live entries in store
   * order, expired ones dropped. The entries are the store's own; the caller must not change them.
   */
  static entriesOf(backend: MemoryBackend): Array<readonly [string, Entry]> {
    backend.#begin();
    const out: Array<readonly [string, Entry]> = [];
    for (const key of [...backend.#entries.keys()]) {
      const entry = backend.#live(key);
      if (entry) out.push([key, entry]);
    }
    return out;
  }

  /** @internal For ./snapshot.ts only: stores an entry as is, replacing any at its key. */
  static loadEntry(backend: MemoryBackend, key: string, entry: Entry): void {
    backend.#begin();
    backend.#entries.set(key, entry);
  }

  #begin(): void {
    if (this.#closed) throw new BackendError('the memory backend is closed');
    this.#now = this.#clock();
  }

  /** The entry at `key`, dropping it first if it has expired (Redis: expired once now > deadline). */
  #live(key: string): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry?.expiresAt !== undefined && this.#now > entry.expiresAt) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  #get<K extends Kind>(key: string, kind: K): EntryOf<K> | undefined {
    const entry = this.#live(key);
    if (entry !== undefined && entry.kind !== kind) throw wrongType(key, kind, entry.kind);
    return entry as EntryOf<K> | undefined;
  }

  #getOrCreate<K extends Kind>(key: string, kind: K, make: () => EntryOf<K>['value']): EntryOf<K> {
    const existing = this.#get(key, kind);
    if (existing) return existing;
    const entry = { kind, value: make() } as unknown as EntryOf<K>;
    this.#entries.set(key, entry);
    return entry;
  }

  // Only called after #checkBitmaps, so every key resolves to a bitmap or nothing.
  readonly #resolveBitmap = (key: string): Bitmap | undefined => this.#get(key, 'bitmap')?.value;

  /** Type-check every key of an expression, also those evaluation would skip. */
  #checkBitmaps(expr: BitExpr): void {
    for (const key of exprKeys(expr)) this.#get(key, 'bitmap');
  }

  #readOne(op: ReadOp): unknown {
    switch (op.op) {
      case 'getBit':
        return this.#get(op.key, 'bitmap')?.value.has(op.offset) ?? false;
      case 'bitCount':
        this.#checkBitmaps(op.expr);
        return Bitmap.count(op.expr, this.#resolveBitmap);
      case 'bitmap':
        // Bitmap.evaluate copies every chunk it returns: the result never aliases the store.
        this.#checkBitmaps(op.expr);
        return Bitmap.evaluate(op.expr, this.#resolveBitmap);
      case 'hashGetAll':
        return new Map(this.#get(op.key, 'hash')?.value);
      case 'hashGet':
        return this.#get(op.key, 'hash')?.value.get(op.field) ?? 0;
      case 'setCardinality':
        return this.#union(op.keys).size;
      case 'setMembers':
        return [...this.#union(op.keys)].sort();
      case 'setHas':
        return this.#get(op.key, 'set')?.value.has(op.member) ?? false;
      case 'hllCount':
        return this.#countUnion(op.keys);
      case 'get':
        return this.#get(op.key, 'string')?.value ?? null;
      case 'exists':
        return this.#live(op.key) !== undefined;
      case 'ttl': {
        const expiresAt = this.#live(op.key)?.expiresAt;
        return expiresAt === undefined ? null : expiresAt - this.#now;
      }
    }
  }

  /** The union of sets; a single set is returned as stored, so callers must not keep it. */
  #union(keys: readonly string[]): ReadonlySet<string> {
    const sets = keys.map((key) => this.#get(key, 'set')?.value ?? EMPTY_SET);
    if (sets.length === 1) return sets[0]!;
    const out = new Set<string>();
    for (const set of sets) for (const member of set) out.add(member);
    return out;
  }

  #countUnion(keys: readonly string[]): number {
    const sketches: HyperLogLog[] = [];
    for (const key of new Set(keys)) {
      const entry = this.#get(key, 'hll');
      if (entry) sketches.push(entry.value);
    }
    return HyperLogLog.countUnion(sketches);
  }

  /** Apply one operation. ./dry-run.ts mirrors every way this can throw. */
  #writeOne(op: WriteOp): void {
    switch (op.op) {
      case 'setBits': {
        if (op.offsets.length === 0) return;
        if (op.value === false) {
          // Clearing bits of a missing bitmap creates nothing (the Redis backend agrees).
          const bitmap = this.#get(op.key, 'bitmap')?.value;
          bitmap?.setMany(op.offsets, false);
          return;
        }
        this.#getOrCreate(op.key, 'bitmap', Bitmap.empty).value.setMany(op.offsets, true);
        return;
      }
      case 'increment': {
        if (op.increments.length === 0) return;
        const sums = sumIncrements(op.increments);
        const current = this.#get(op.key, 'hash')?.value;
        // Every field is checked before any is changed: an overflow writes nothing.
        for (const [field, sum] of sums) {
          if (!Number.isSafeInteger((current?.get(field) ?? 0) + sum)) throw incrementOverflow(op.key, field);
        }
        const hash = current ?? this.#getOrCreate(op.key, 'hash', () => new Map<string, number>()).value;
        for (const [field, sum] of sums) hash.set(field, (hash.get(field) ?? 0) + sum);
        return;
      }
      case 'setAdd': {
        if (op.members.length === 0) return;
        const set = this.#getOrCreate(op.key, 'set', () => new Set<string>()).value;
        for (const member of op.members) set.add(member);
        return;
      }
      case 'setRemove': {
        if (op.members.length === 0) return;
        const set = this.#get(op.key, 'set')?.value;
        if (!set) return;
        for (const member of op.members) set.delete(member);
        if (set.size === 0) this.#entries.delete(op.key);
        return;
      }
      case 'hllAdd': {
        if (op.members.length === 0) return;
        const sketch = this.#getOrCreate(op.key, 'hll', () => new HyperLogLog()).value;
        for (const member of op.members) sketch.add(member);
        return;
      }
      case 'set':
        // A fresh entry: SET replaces any kind of value and clears the expiry.
        this.#entries.set(op.key, { kind: 'string', value: op.value });
        return;
      case 'max': {
        const current = this.#get(op.key, 'string');
        if (current === undefined) {
          this.#entries.set(op.key, { kind: 'string', value: String(op.value) });
          return;
        }
        if (!INTEGER_VALUE.test(current.value)) throw notAnInteger(op.key, current.value);
        if (Number(current.value) >= op.value) return;
        // Raising keeps the expiry (the Redis backend's SET … KEEPTTL).
        this.#entries.set(op.key, { kind: 'string', value: String(op.value), expiresAt: current.expiresAt });
        return;
      }
      case 'storeCardinality': {
        const count = op.kind === 'set' ? this.#union(op.sources).size : this.#countUnion(op.sources);
        this.#entries.set(op.key, { kind: 'string', value: String(count) });
        return;
      }
      case 'delete':
        for (const key of op.keys) this.#entries.delete(key);
        return;
      case 'expire': {
        const entry = this.#live(op.key);
        if (entry) entry.expiresAt = this.#now + op.seconds * 1000;
        return;
      }
    }
  }
}
