/**
 * Id dictionaries: a persistent map from external ids (strings) to dense integers, the bit
 * offsets of bitmaps. Backends implement a handful of per-shard steps (`DictionaryStore`);
 * everything else lives here, once, so every backend hashes, shards, splits and links the
 * same way and hands out the same integers for the same sequence of calls.
 *
 * A dictionary has S shards (`shards`, fixed when it is created and stored with it, so every
 * process agrees). An id hashes to one shard; shard s hands out s, s + S, s + 2S, … from its
 * own counter, so assignment is atomic per shard (one script call on Redis) with no key that
 * every assignment touches. On a Redis Cluster each shard is one locality group (one slot):
 * the dictionary spreads over the nodes.
 *
 * Logical keys, for dictionary NAME and shard s (group `NAME.s`):
 *   dict:NAME:config:NAME            the parameters: shards, buckets (a hash)
 *   dict:NAME:state:NAME.s           shard s's counter `next` and its parameters (a hash)
 *   dict:NAME:f:<b>:NAME.s           forward bucket b of shard s: id -> integer (a hash)
 *   dict:NAME:r:<r>:NAME.s           reverse bucket r of shard s: k mod 64 -> id, for the
 *                                    shard's k-th integer s + S·k with floor(k / 64) = r
 * Buckets keep every hash small (Redis stores hashes of up to 128 short fields as compact
 * listpacks), which is what keeps a dictionary near 100 bytes per id.
 */
import type { Backend } from './backend.js';
import { InvalidArgumentError } from './errors.js';
import { keyOf, MAX_BIT_OFFSET } from './keys.js';
import { validateName, validateNamespace } from './names.js';

/** The parameters of a dictionary, fixed when it is created. */
export interface DictionaryConfig {
  /** Shards: the unit of atomic assignment and of spreading over a cluster. */
  readonly shards: number;
  /** Forward buckets per shard: size so that ids / (shards × buckets) stays under ~100. */
  readonly buckets: number;
}

export interface DictionaryOptions {
  /**
   * Parameters used when this call creates the dictionary (default 32 shards of 1,024
   * forward buckets, compact up to about 2.5 million ids). An existing dictionary keeps the
   * parameters it was created with: every process uses the stored ones.
   */
  readonly create?: Partial<DictionaryConfig>;
}

export interface ResolveIdsOptions extends DictionaryOptions {
  /** Give ids that have no integer yet the next free one (default true); false only looks. */
  readonly assign?: boolean;
}

/**
 * What a link did. `took-over`: the user id was new and now owns the anonymous id's
 * integer. `redirected`: both had integers; the anonymous id now resolves to the user's, and
 * its old integer stays with its history. `unchanged`: they were linked already.
 */
export interface LinkResult {
  readonly outcome: 'took-over' | 'redirected' | 'unchanged';
  /** The integer both ids resolve to now. */
  readonly id: number;
}

export const DEFAULT_DICTIONARY_CONFIG: DictionaryConfig = { shards: 32, buckets: 1024 };
export const MAX_DICTIONARY_SHARDS = 1024;
export const MAX_DICTIONARY_BUCKETS = 65_536;
/** Fields per reverse bucket: well inside Redis's listpack limit of 128 entries. */
export const REVERSE_BUCKET_SIZE = 64;
/** Ids (or integers) one shard call handles: no call holds a server for long. */
export const DICTIONARY_CALL_ITEMS = 1_000;

/** One per-shard step, as `DictionaryStore.run` receives it. */
export type ShardStep =
  /** For each [bucket, id]: its integer, assigning the next free one when missing and `assign`. */
  | {
      readonly op: 'resolve';
      readonly shard: number;
      readonly entries: ReadonlyArray<readonly [number, string]>;
      readonly assign: boolean;
    }
  /** For each local index k (integer s + S·k): the id that owns it, or null. */
  | { readonly op: 'lookup'; readonly shard: number; readonly locals: readonly number[] }
  /** Map `id` to `value` unless it has an integer; answers the integer it has afterwards. */
  | {
      readonly op: 'claim';
      readonly shard: number;
      readonly bucket: number;
      readonly id: string;
      readonly value: number;
    }
  /** Make local index k owned by `to` when `from` (or `to`) owns it; answers whether `to` owns it. */
  | {
      readonly op: 'rename';
      readonly shard: number;
      readonly local: number;
      readonly from: string;
      readonly to: string;
    }
  /** Map `id` to `value`, whatever it had. */
  | {
      readonly op: 'point';
      readonly shard: number;
      readonly bucket: number;
      readonly id: string;
      readonly value: number;
    }
  /** When `id` maps to `value`, give it a fresh integer of its shard; answers its integer. */
  | {
      readonly op: 'reassign';
      readonly shard: number;
      readonly bucket: number;
      readonly id: string;
      readonly value: number;
    };

export type ShardStepResult<S extends ShardStep> = S extends { op: 'resolve' }
  ? Array<number | null>
  : S extends { op: 'lookup' }
    ? Array<string | null>
    : S extends { op: 'rename' }
      ? boolean
      : S extends { op: 'point' }
        ? null
        : number;

/**
 * What a backend implements. Each step is atomic on its own (on Redis, one script call in
 * the shard's slot); a `run` may execute its steps in any order and in parallel, as they
 * never depend on each other.
 */
export interface DictionaryStore {
  /** The stored parameters, creating the dictionary with `wanted` when it does not exist. */
  config(name: string, wanted: DictionaryConfig): Promise<DictionaryConfig>;
  run(name: string, config: DictionaryConfig, steps: readonly ShardStep[]): Promise<unknown[]>;
}

export function validateDictionaryName(name: unknown): asserts name is string {
  validateNamespace(name, 'dictionary');
}

/** Ids are names: non-empty, at most 200 characters, no control characters, well-formed. */
export function validateDictionaryId(id: unknown, argument: string): asserts id is string {
  validateName(id, argument);
  if (!id.isWellFormed()) {
    throw new InvalidArgumentError(
      argument,
      id,
      'must be well-formed Unicode (it contains a lone surrogate)',
    );
  }
}

function validateIds(ids: unknown): asserts ids is readonly string[] {
  if (!Array.isArray(ids)) throw new InvalidArgumentError('ids', ids, 'must be an array of strings');
  for (let i = 0; i < ids.length; i++) validateDictionaryId(ids[i], `ids[${i}]`);
}

function validateConfig(options: unknown): DictionaryConfig {
  if (options === undefined) return DEFAULT_DICTIONARY_CONFIG;
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError('options', options, 'must be an options object');
  }
  const create = (options as DictionaryOptions).create;
  if (create === undefined) return DEFAULT_DICTIONARY_CONFIG;
  if (typeof create !== 'object' || create === null) {
    throw new InvalidArgumentError('create', create, 'must be { shards?, buckets? }');
  }
  const integer = (name: string, value: unknown, fallback: number, max: number): number => {
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
      throw new InvalidArgumentError(name, value, `must be an integer in [1, ${max}]`);
    }
    return value;
  };
  return {
    shards: integer('shards', create.shards, DEFAULT_DICTIONARY_CONFIG.shards, MAX_DICTIONARY_SHARDS),
    buckets: integer('buckets', create.buckets, DEFAULT_DICTIONARY_CONFIG.buckets, MAX_DICTIONARY_BUCKETS),
  };
}

/**
 * 32-bit FNV-1a over UTF-16 code units, finished with murmur3's mixer so that both the low
 * and the high bits are uniform (shard and bucket use different ones).
 */
export function hashId(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export function shardOf(hash: number, config: DictionaryConfig): number {
  return hash % config.shards;
}

export function bucketOf(hash: number, config: DictionaryConfig): number {
  return Math.floor(hash / config.shards) % config.buckets;
}

/** The locality group of shard `shard`: every key of a shard lives in it. */
export function shardGroup(name: string, shard: number): string {
  return `${name}.${shard}`;
}

export const dictionaryKeys = {
  config: (name: string) => keyOf('dict', name, 'config', name),
  state: (name: string, shard: number) => keyOf('dict', name, 'state', shardGroup(name, shard)),
  forward: (name: string, shard: number, bucket: number) =>
    keyOf('dict', name, 'f', String(bucket), shardGroup(name, shard)),
  reverse: (name: string, shard: number, bucket: number) =>
    keyOf('dict', name, 'r', String(bucket), shardGroup(name, shard)),
};

/** The integer a shard hands out as its k-th (from 0). */
export function integerOf(shard: number, local: number, config: DictionaryConfig): number {
  return shard + config.shards * local;
}

/**
 * The ids' integers (null for an id without one when `assign` is false), in input order. All
 * ids are validated before anything is sent; a repeated id is sent once.
 */
export async function resolveIdsWith(
  store: DictionaryStore,
  name: string,
  ids: readonly string[],
  options?: ResolveIdsOptions,
): Promise<Array<number | null>> {
  validateDictionaryName(name);
  validateIds(ids);
  const wanted = validateConfig(options);
  const assign = options?.assign ?? true;
  if (typeof assign !== 'boolean') throw new InvalidArgumentError('assign', assign, 'must be a boolean');
  if (ids.length === 0) return [];
  const config = await store.config(name, wanted);
  const distinct = new Map<string, number>();
  const perShard: Array<Array<readonly [number, string]>> = Array.from({ length: config.shards }, () => []);
  for (const id of ids) {
    if (distinct.has(id)) continue;
    distinct.set(id, -1);
    const hash = hashId(id);
    perShard[shardOf(hash, config)]!.push([bucketOf(hash, config), id]);
  }
  const steps: ShardStep[] = [];
  perShard.forEach((entries, shard) => {
    for (let i = 0; i < entries.length; i += DICTIONARY_CALL_ITEMS) {
      steps.push({ op: 'resolve', shard, entries: entries.slice(i, i + DICTIONARY_CALL_ITEMS), assign });
    }
  });
  const results = await store.run(name, config, steps);
  const found = new Map<string, number | null>();
  steps.forEach((step, i) => {
    const values = results[i] as Array<number | null>;
    const entries = (step as Extract<ShardStep, { op: 'resolve' }>).entries;
    for (let j = 0; j < entries.length; j++) found.set(entries[j]![1], values[j] ?? null);
  });
  return ids.map((id) => found.get(id) ?? null);
}

/** The ids owning the integers (null for an integer never handed out), in input order. */
export async function lookupIdsWith(
  store: DictionaryStore,
  name: string,
  ints: readonly number[],
  options?: DictionaryOptions,
): Promise<Array<string | null>> {
  validateDictionaryName(name);
  if (!Array.isArray(ints)) throw new InvalidArgumentError('ints', ints, 'must be an array of integers');
  for (let i = 0; i < ints.length; i++) {
    const n = ints[i];
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
      throw new InvalidArgumentError(`ints[${i}]`, n, 'must be a non-negative safe integer');
    }
  }
  const wanted = validateConfig(options);
  if (ints.length === 0) return [];
  const config = await store.config(name, wanted);
  const perShard: number[][] = Array.from({ length: config.shards }, () => []);
  const distinct = new Set<number>();
  for (const n of ints) {
    if (distinct.has(n)) continue;
    distinct.add(n);
    perShard[n % config.shards]!.push(n);
  }
  const steps: Array<Extract<ShardStep, { op: 'lookup' }>> = [];
  const owners: number[][] = [];
  perShard.forEach((list, shard) => {
    for (let i = 0; i < list.length; i += DICTIONARY_CALL_ITEMS) {
      const slice = list.slice(i, i + DICTIONARY_CALL_ITEMS);
      owners.push(slice);
      steps.push({ op: 'lookup', shard, locals: slice.map((n) => (n - shard) / config.shards) });
    }
  });
  const results = await store.run(name, config, steps);
  const found = new Map<number, string | null>();
  owners.forEach((list, i) => {
    const values = results[i] as Array<string | null>;
    for (let j = 0; j < list.length; j++) found.set(list[j]!, values[j] ?? null);
  });
  return ints.map((n) => found.get(n) ?? null);
}

/**
 * Link an anonymous id to a user id, as a sequence of per-shard steps that are each atomic
 * and idempotent, so a link interrupted midway (a crash, a timeout) is completed by running
 * it again, and concurrent links of one pair agree:
 *
 * 1. `from` is resolved (assigned if new) and `to` peeked.
 * 2. `to` new and `from` still owning its integer n: `to` claims n (an atomic
 *    set-if-absent in `to`'s shard), then n's reverse entry is renamed from `from` to `to`.
 *    Both now resolve to n and n is reported as `to`: the history recorded under n is the
 *    user's. Had another link taken n in between, `to` gets a fresh integer instead (step 3).
 * 3. Otherwise (`to` has its own integer m, or `from` was linked away before): `from` is
 *    pointed at m. Its old integer keeps its history and is still reported as `from`.
 */
export async function linkIdsWith(
  store: DictionaryStore,
  name: string,
  from: string,
  to: string,
  options?: DictionaryOptions,
): Promise<LinkResult> {
  validateDictionaryName(name);
  validateDictionaryId(from, 'from');
  validateDictionaryId(to, 'to');
  if (from === to) throw new InvalidArgumentError('to', to, 'must differ from the anonymous id');
  const wanted = validateConfig(options);
  const config = await store.config(name, wanted);
  const place = (id: string) => {
    const hash = hashId(id);
    return { shard: shardOf(hash, config), bucket: bucketOf(hash, config) };
  };
  const f = place(from);
  const t = place(to);
  const one = async <S extends ShardStep>(step: S): Promise<ShardStepResult<S>> =>
    (await store.run(name, config, [step]))[0] as ShardStepResult<S>;
  const [n] = await one({ op: 'resolve', shard: f.shard, entries: [[f.bucket, from]], assign: true });
  const [m] = await one({ op: 'resolve', shard: t.shard, entries: [[t.bucket, to]], assign: false });
  const owner = async (value: number) => {
    const shard = value % config.shards;
    const [id] = await one({ op: 'lookup', shard, locals: [(value - shard) / config.shards] });
    return id;
  };
  const rename = (value: number) => {
    const shard = value % config.shards;
    return one({ op: 'rename', shard, local: (value - shard) / config.shards, from, to });
  };
  const redirect = async (value: number): Promise<LinkResult> => {
    await one({ op: 'point', ...f, id: from, value });
    return { outcome: 'redirected', id: value };
  };
  if (n === null || n === undefined) throw new Error('resolve with assign answered no integer');
  if (m !== null && m !== undefined) {
    if (m !== n) return redirect(m);
    // Both on n already: complete a takeover a failure interrupted (a no-op when done).
    if ((await owner(n)) === from) await rename(n);
    return { outcome: 'unchanged', id: n };
  }
  if ((await owner(n)) !== from) {
    // `from` was linked away earlier: its integer is not its own to hand over.
    const [fresh] = await one({ op: 'resolve', shard: t.shard, entries: [[t.bucket, to]], assign: true });
    return redirect(fresh!);
  }
  const claimed = await one({ op: 'claim', ...t, id: to, value: n });
  if (claimed !== n) return redirect(claimed);
  if (await rename(n)) return { outcome: 'took-over', id: n };
  // Another link took n between the steps: `to` gets an integer of its own.
  const own = await one({ op: 'reassign', ...t, id: to, value: n });
  return redirect(own);
}

/** Largest integer a dictionary may hand out: it must be a bit offset. */
export const MAX_DICTIONARY_INTEGER = MAX_BIT_OFFSET;

/**
 * How many integers below `bound` dictionary `name` has handed out (0 for a dictionary that
 * does not exist), from the shards' counters: two reads of ordinary hash fields. Integers
 * below the largest one handed out that no id owns yet are `bound` minus this.
 */
export async function dictionaryIntegersBelow(
  backend: Backend,
  name: string,
  bound: number,
): Promise<number> {
  validateDictionaryName(name);
  if (typeof bound !== 'number' || !Number.isSafeInteger(bound) || bound < 0) {
    throw new InvalidArgumentError('bound', bound, 'must be a non-negative safe integer');
  }
  const [shards] = await backend.read([{ op: 'hashGet', key: dictionaryKeys.config(name), field: 'shards' }]);
  if (shards === 0 || bound === 0) return 0;
  const counts = await backend.read(
    Array.from({ length: shards }, (_, s) => ({
      op: 'hashGet' as const,
      key: dictionaryKeys.state(name, s),
      field: 'next',
    })),
  );
  let total = 0;
  counts.forEach((count, s) => {
    // Shard s hands out s, s + S, …: those below `bound` are its first ceil((bound - s) / S).
    if (bound > s) total += Math.min(count, Math.ceil((bound - s) / shards));
  });
  return total;
}
