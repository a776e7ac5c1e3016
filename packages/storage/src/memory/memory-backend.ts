/**
 * The embedded backend: pure TypeScript, zero setup, exact. Every `read` and `write` runs
 * synchronously inside one call, so concurrent async callers never observe each other's
 * partial work. Semantics mirror Redis (the conformance suite holds both to the same
 * answers), including WRONGTYPE errors and the deletion of sets that become empty.
 */
import type { Backend, BitExpr, Feature, ReadOp, ReadResults, WriteOp, WriteOptions } from '../backend.js';
import { Bitmap } from '../bitmap.js';
import { BackendError } from '../errors.js';
import { exprKeys, validateReadOps, validateWriteOps } from '../validate.js';
import { HyperLogLog } from './hyperloglog.js';

export interface MemoryBackendOptions {
  /** Clock for expiry, in epoch ms. Default `Date.now`. */
  now?: () => number;
}

type Entry =
  | { kind: 'bitmap'; value: Bitmap; expiresAt?: number }
  | { kind: 'hash'; value: Map<string, number>; expiresAt?: number }
  | { kind: 'set'; value: Set<string>; expiresAt?: number }
  | { kind: 'hll'; value: HyperLogLog; expiresAt?: number }
  | { kind: 'string'; value: string; expiresAt?: number };

type Kind = Entry['kind'];
type EntryOf<K extends Kind> = Extract<Entry, { kind: K }>;

function wrongType(key: string, expected: Kind, actual: Kind): BackendError {
  return new BackendError(
    `WRONGTYPE Operation against a key holding the wrong kind of value: "${key}" holds a ${actual}, not a ${expected}`,
  );
}

function cloneEntry(entry: Entry): Entry {
  switch (entry.kind) {
    case 'bitmap':
      return { ...entry, value: entry.value.clone() };
    case 'hash':
      return { ...entry, value: new Map(entry.value) };
    case 'set':
      return { ...entry, value: new Set(entry.value) };
    case 'hll':
      return { ...entry, value: entry.value.clone() };
    case 'string':
      return { ...entry };
  }
}

const INTEGER = /^-?(0|[1-9][0-9]*)$/;

export class MemoryBackend implements Backend {
  readonly name = 'memory';
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry>();
  /** Prior state of keys touched by the atomic write in progress, for rollback. */
  #undo: Map<string, Entry | undefined> | null = null;
  #closed = false;

  constructor(options: MemoryBackendOptions = {}) {
    this.#now = options.now ?? Date.now;
  }

  async read<const T extends readonly ReadOp[]>(ops: T): Promise<ReadResults<T>> {
    this.#assertOpen();
    validateReadOps(ops);
    return ops.map((op) => this.#readOne(op)) as ReadResults<T>;
  }

  async write(ops: readonly WriteOp[], options: WriteOptions = {}): Promise<boolean> {
    this.#assertOpen();
    validateWriteOps(ops, options);
    if (options.atomic) {
      if (options.unlessExists !== undefined && this.#live(options.unlessExists)) return false;
      this.#undo = new Map();
      try {
        for (const op of ops) this.#writeOne(op);
      } catch (error) {
        for (const [key, entry] of this.#undo) {
          if (entry) this.#entries.set(key, entry);
          else this.#entries.delete(key);
        }
        throw error;
      } finally {
        this.#undo = null;
      }
      return true;
    }
    // Like a Redis pipeline: every operation runs; the first failure is reported.
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

  async supports(_feature: Feature): Promise<boolean> {
    return true;
  }

  async keys(): Promise<string[]> {
    this.#assertOpen();
    const out: string[] = [];
    for (const key of [...this.#entries.keys()]) if (this.#live(key)) out.push(key);
    return out.sort();
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #assertOpen(): void {
    if (this.#closed) throw new BackendError('the memory backend is closed');
  }

  /** The entry at `key`, dropping it first if it has expired. */
  #live(key: string): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry?.expiresAt !== undefined && entry.expiresAt <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  #get<K extends Kind>(key: string, kind: K): EntryOf<K> | undefined {
    const entry = this.#live(key);
    if (entry && entry.kind !== kind) throw wrongType(key, kind, entry.kind);
    return entry as EntryOf<K> | undefined;
  }

  /** Remember a key's prior state before the first change inside an atomic write. */
  #touch(key: string): void {
    if (this.#undo && !this.#undo.has(key)) {
      const entry = this.#live(key);
      this.#undo.set(key, entry && cloneEntry(entry));
    }
  }

  #create<K extends Kind>(key: string, kind: K, make: () => EntryOf<K>['value']): EntryOf<K> {
    this.#touch(key);
    const existing = this.#get(key, kind);
    if (existing) return existing;
    const entry = { kind, value: make() } as unknown as EntryOf<K>;
    this.#entries.set(key, entry);
    return entry;
  }

  #bitmapResolver = (key: string): Bitmap | undefined => this.#get(key, 'bitmap')?.value;

  #checkBitmapKeys(expr: BitExpr): void {
    for (const key of exprKeys(expr)) this.#get(key, 'bitmap');
  }

  #readOne(op: ReadOp): unknown {
    switch (op.op) {
      case 'getBit':
        return this.#get(op.key, 'bitmap')?.value.has(op.offset) ?? false;
      case 'bitCount':
        this.#checkBitmapKeys(op.expr);
        return Bitmap.count(op.expr, this.#bitmapResolver);
      case 'bitmap':
        this.#checkBitmapKeys(op.expr);
        return Bitmap.evaluate(op.expr, this.#bitmapResolver);
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
        return this.#mergedSketch(op.keys).count();
      case 'get': {
        const entry = this.#live(op.key);
        if (entry && entry.kind !== 'string') throw wrongType(op.key, 'string', entry.kind);
        return entry?.value ?? null;
      }
      case 'exists':
        return this.#live(op.key) !== undefined;
      case 'ttl': {
        const entry = this.#live(op.key);
        return entry?.expiresAt === undefined ? null : entry.expiresAt - this.#now();
      }
    }
  }

  #union(keys: readonly string[]): Set<string> {
    const sets = keys.map((key) => this.#get(key, 'set')?.value ?? new Set<string>());
    if (sets.length === 1) return sets[0]!;
    const out = new Set<string>();
    for (const set of sets) for (const member of set) out.add(member);
    return out;
  }

  #mergedSketch(keys: readonly string[]): HyperLogLog {
    const sketches: HyperLogLog[] = [];
    for (const key of keys) {
      const entry = this.#get(key, 'hll');
      if (entry) sketches.push(entry.value);
    }
    return HyperLogLog.merge(sketches);
  }

  #writeOne(op: WriteOp): void {
    switch (op.op) {
      case 'setBits': {
        const value = op.value ?? true;
        if (op.offsets.length === 0) return;
        if (!value) {
          const existing = this.#get(op.key, 'bitmap');
          if (!existing) return;
          this.#touch(op.key);
          for (const offset of op.offsets) existing.value.set(offset, false);
          return;
        }
        const bitmap = this.#create(op.key, 'bitmap', Bitmap.empty).value;
        for (const offset of op.offsets) bitmap.set(offset, true);
        return;
      }
      case 'increment': {
        if (op.increments.length === 0) return;
        const hash = this.#create(op.key, 'hash', () => new Map<string, number>()).value;
        for (const [field, by] of op.increments) {
          const next = (hash.get(field) ?? 0) + by;
          if (!Number.isSafeInteger(next)) {
            throw new BackendError(`ERR increment or decrement would overflow: "${op.key}" field "${field}"`);
          }
          hash.set(field, next);
        }
        return;
      }
      case 'setAdd': {
        if (op.members.length === 0) return;
        const set = this.#create(op.key, 'set', () => new Set<string>()).value;
        for (const member of op.members) set.add(member);
        return;
      }
      case 'setRemove': {
        const existing = this.#get(op.key, 'set');
        if (!existing) return;
        this.#touch(op.key);
        for (const member of op.members) existing.value.delete(member);
        if (existing.value.size === 0) this.#entries.delete(op.key);
        return;
      }
      case 'hllAdd': {
        const sketch = this.#create(op.key, 'hll', () => new HyperLogLog()).value;
        for (const member of op.members) sketch.add(member);
        return;
      }
      case 'set':
        this.#touch(op.key);
        this.#entries.set(op.key, { kind: 'string', value: op.value });
        return;
      case 'max': {
        const existing = this.#get(op.key, 'string');
        if (existing && !INTEGER.test(existing.value)) {
          throw new BackendError(`ERR value is not an integer: "${op.key}"`);
        }
        if (existing && Number(existing.value) >= op.value) return;
        this.#touch(op.key);
        this.#entries.set(op.key, {
          kind: 'string',
          value: String(op.value),
          expiresAt: existing?.expiresAt,
        });
        return;
      }
      case 'storeCardinality': {
        const count =
          op.kind === 'set' ? this.#union(op.sources).size : this.#mergedSketch(op.sources).count();
        this.#touch(op.key);
        this.#entries.set(op.key, { kind: 'string', value: String(count) });
        return;
      }
      case 'delete':
        for (const key of op.keys) {
          this.#touch(key);
          this.#entries.delete(key);
        }
        return;
      case 'expire': {
        const entry = this.#live(op.key);
        if (!entry) return;
        this.#touch(op.key);
        entry.expiresAt = this.#now() + op.seconds * 1000;
        return;
      }
    }
  }
}
