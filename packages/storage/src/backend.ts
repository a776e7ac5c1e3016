/**
 * The one storage interface that events, counters and activity are written against.
 *
 * It is deliberately small: two batch entry points, `read` and `write`, that take lists of
 * logical operations. A whole query or ingest batch is one call, so every backend can turn it
 * into one round trip (a Redis pipeline, a Lua script) or one synchronous step (memory).
 *
 * Keys are logical names made of `:`-separated segments (build them with `keyOf`). The last
 * segment is the key's *locality group*: backends keep keys of one group together (on Redis
 * Cluster, in one hash slot), so operations that combine keys of a single group run where the
 * data lives and can be atomic. Combining keys of different groups always works, but on a
 * cluster it may take more than one round trip.
 */
import type { Bitmap } from './bitmap.js';
import type { DictionaryOptions, LinkResult, ResolveIdsOptions } from './dictionary.js';

/** A bitmap expression: bitwise operations over stored bitmaps, evaluated by the backend. */
export type BitExpr =
  | { readonly op: 'key'; readonly key: string }
  | { readonly op: 'and' | 'or' | 'xor'; readonly args: readonly BitExpr[] }
  /** `args[0] AND NOT args[1]` */
  | { readonly op: 'andnot'; readonly args: readonly [BitExpr, BitExpr] }
  /** NOT within the universe of offsets `[0, bits)`: never yields an offset >= bits. */
  | { readonly op: 'not'; readonly args: readonly [BitExpr]; readonly bits: number };

export type WriteOp =
  /** Set (value true, the default) or clear the given bit offsets. */
  | {
      readonly op: 'setBits';
      readonly key: string;
      readonly offsets: readonly number[];
      readonly value?: boolean;
    }
  /** Add integer increments (may be negative) to hash fields; a field that reaches 0 is kept as 0. */
  | {
      readonly op: 'increment';
      readonly key: string;
      readonly increments: ReadonlyArray<readonly [string, number]>;
    }
  | { readonly op: 'setAdd'; readonly key: string; readonly members: readonly string[] }
  | { readonly op: 'setRemove'; readonly key: string; readonly members: readonly string[] }
  | { readonly op: 'hllAdd'; readonly key: string; readonly members: readonly string[] }
  /** Plain string value. */
  | { readonly op: 'set'; readonly key: string; readonly value: string }
  /** Plain integer value raised to `value` if it is lower or absent (a high-water mark). */
  | { readonly op: 'max'; readonly key: string; readonly value: number }
  /**
   * Store, as a plain integer value at `key`, the cardinality of the union of `sources`
   * (sets when `kind` is 'set', HyperLogLogs when 'hll'). Missing sources count as empty.
   */
  | {
      readonly op: 'storeCardinality';
      readonly key: string;
      readonly kind: 'set' | 'hll';
      readonly sources: readonly string[];
    }
  | { readonly op: 'delete'; readonly keys: readonly string[] }
  /** Expire the key after `seconds` (a positive integer); no effect on a missing key. */
  | { readonly op: 'expire'; readonly key: string; readonly seconds: number };

export interface WriteOptions {
  /**
   * All operations take effect together or not at all, and no other operation observes a
   * partial state. On a Redis Cluster every key of an atomic write must share one locality
   * group (last key segment); otherwise the write is refused before anything is sent.
   */
  readonly atomic?: boolean;
  /**
   * Only with `atomic`: skip the whole write when this key exists (the check and the write are
   * one atomic step). `write` then resolves to `false`.
   */
  readonly unlessExists?: string;
  /**
   * Apply this write at most once: a write retried with the same key (after a timeout, a
   * dropped connection, an out-of-memory refusal) applies only what the earlier attempts did
   * not. Keys are remembered for `idempotencyTtl` seconds (default 86,400), per prefix. With a
   * key, each part of the write (on Redis: each script call, at most one per locality group
   * per round) is applied all or nothing. 1-200 characters, like a name.
   */
  readonly idempotencyKey?: string;
  /** Seconds an idempotency key is remembered: an integer in [1, 2,592,000]. Default 86,400. */
  readonly idempotencyTtl?: number;
}

export type ReadOp =
  | { readonly op: 'getBit'; readonly key: string; readonly offset: number }
  /** Number of set bits in the expression's result. Counted where the data lives. */
  | { readonly op: 'bitCount'; readonly expr: BitExpr }
  /** The expression's result as a bitmap. */
  | { readonly op: 'bitmap'; readonly expr: BitExpr }
  /** Every field of a hash with its integer value (empty map for a missing key). */
  | { readonly op: 'hashGetAll'; readonly key: string }
  /** One hash field's value, 0 when absent. */
  | { readonly op: 'hashGet'; readonly key: string; readonly field: string }
  /** Cardinality of the union of the sets. */
  | { readonly op: 'setCardinality'; readonly keys: readonly string[] }
  /** Members of the union of the sets, sorted by code unit. */
  | { readonly op: 'setMembers'; readonly keys: readonly string[] }
  | { readonly op: 'setHas'; readonly key: string; readonly member: string }
  /** Estimated cardinality of the union of the HyperLogLogs. */
  | { readonly op: 'hllCount'; readonly keys: readonly string[] }
  /** Plain value, null when absent. */
  | { readonly op: 'get'; readonly key: string }
  | { readonly op: 'exists'; readonly key: string }
  /** Remaining time to live in milliseconds; null when the key is missing or never expires. */
  | { readonly op: 'ttl'; readonly key: string };

export type ReadResult<O extends ReadOp> = O extends { op: 'getBit' | 'setHas' | 'exists' }
  ? boolean
  : O extends { op: 'bitCount' | 'hashGet' | 'setCardinality' | 'hllCount' }
    ? number
    : O extends { op: 'bitmap' }
      ? Bitmap
      : O extends { op: 'hashGetAll' }
        ? Map<string, number>
        : O extends { op: 'setMembers' }
          ? string[]
          : O extends { op: 'get' }
            ? string | null
            : O extends { op: 'ttl' }
              ? number | null
              : never;

export type ReadResults<T extends readonly ReadOp[]> = { -readonly [K in keyof T]: ReadResult<T[K]> };

/** Optional abilities a backend may lack (e.g. a Redis emulator without BITOP). */
export type Feature = 'bitmaps' | 'hyperloglog';

export interface Backend {
  /** A short name for messages and test titles, e.g. 'memory' or 'redis'. */
  readonly name: string;
  /**
   * Run reads as one batch (one round trip where the backend allows it). Results come back
   * in the order of `ops`. Reads of a single call are not guaranteed to see one snapshot
   * unless the backend says so (memory does).
   */
  read<const T extends readonly ReadOp[]>(ops: T): Promise<ReadResults<T>>;
  /**
   * Apply writes in order as one batch. Every operation is validated before anything is
   * written. Without `atomic`, a failure midway may leave earlier operations applied (the
   * promise rejects); with it, nothing is applied. Resolves to false only when
   * `unlessExists` skipped the write.
   */
  write(ops: readonly WriteOp[], options?: WriteOptions): Promise<boolean>;
  /** Whether this backend supports an optional feature. */
  supports(feature: Feature): Promise<boolean>;
  /** Every logical key currently stored, sorted. For tests and tooling, not for hot paths. */
  keys(): Promise<string[]>;
  /**
   * Id dictionaries (see ./dictionary.ts): the integers of external ids in dictionary
   * `dictionary` (a namespace-like name), in input order, assigning the next free integer to
   * ids without one unless `assign` is false (they answer null). One call per shard per batch;
   * assignment is atomic per shard. Optional so that wrappers written before dictionaries keep
   * compiling; both built-in backends have all three methods.
   */
  resolveIds?(
    dictionary: string,
    ids: readonly string[],
    options?: ResolveIdsOptions,
  ): Promise<Array<number | null>>;
  /** The ids owning the integers (null for one never handed out), in input order. */
  lookupIds?(
    dictionary: string,
    ints: readonly number[],
    options?: DictionaryOptions,
  ): Promise<Array<string | null>>;
  /** Link an anonymous id to a user id: idempotent, completes an interrupted link. */
  linkIds?(dictionary: string, from: string, to: string, options?: DictionaryOptions): Promise<LinkResult>;
  close(): Promise<void>;
}
