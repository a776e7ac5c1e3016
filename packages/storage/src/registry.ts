/**
 * The write-time registry of a time-series recorder (events, counters): which names were
 * recorded, and in which buckets, kept in the backend next to the data so listing and deleting
 * never need KEYS or SCAN. The same pass turns retention into an `expire` on each new key.
 *
 * Each process caches what it has registered, so the hot path pays the registry only for what
 * is new to this process: one `setAdd` per batch with new names, one per name with new buckets
 * (a new hour, a new day), and one `expire` per new key when retention is set, all inside the
 * same backend write as the data. The cache is filled only once a write succeeded, so two
 * overlapping writes of a new key both carry its registry and expiry ops (harmless: they are
 * idempotent, and the expiry deadline is absolute) and a failed write never leaves a key that
 * the cache believes expiring.
 */
import { isUnit, type Unit } from '@porpoise/timerange';
import type { Backend, WriteOp } from './backend.js';
import { InvalidArgumentError } from './errors.js';
import { type Retention, secondsToKeep } from './retention.js';

/** Where a recorder keeps its registry. */
export interface RegistryLayout {
  /** The set of every name recorded. */
  readonly names: string;
  /** The set of `${unit}:${bucketKey}` members a name was recorded in. */
  bucketsOf(name: string): string;
  /** The data key of a name in one bucket. */
  dataKey(name: string, unit: Unit, bucket: string): string;
}

/** A key a write touches, with what the registry needs to know about it. */
export interface WrittenKey {
  readonly key: string;
  readonly name: string;
  readonly unit: Unit;
  readonly bucket: string;
  /** Any instant inside the bucket (to find its end when retention is set). */
  readonly ms: number;
}

/** The registry's part of one write. */
export interface RegistryPlan {
  /** Ops to append to the write (after the data ops: an expire of a missing key does nothing). */
  readonly ops: WriteOp[];
  /** Keys whose bucket is already past its retention: leave them out of the write. */
  readonly expired: ReadonlySet<string>;
  /** Call once the write succeeded. */
  commit(): void;
}

/** Distinct keys and names remembered per process before the caches start over. */
const MAX_CACHED = 200_000;

const NO_EXPIRED: ReadonlySet<string> = new Set();

export class WriteRegistry {
  readonly #layout: RegistryLayout;
  readonly #retention: Retention;
  readonly #bucketEnd: (ms: number, unit: Unit) => number;
  readonly #names = new Set<string>();
  readonly #keys = new Set<string>();

  constructor(layout: RegistryLayout, retention: Retention, bucketEnd: (ms: number, unit: Unit) => number) {
    this.#layout = layout;
    this.#retention = retention;
    this.#bucketEnd = bucketEnd;
  }

  /** Whether this process has registered `key` (then a write of it needs nothing more). */
  knows(key: string): boolean {
    return this.#keys.has(key);
  }

  /** The registry ops for the keys of a write that this process has not registered yet. */
  plan(fresh: Iterable<WrittenKey>, nowMs: number): RegistryPlan {
    const names: string[] = [];
    const buckets = new Map<string, string[]>();
    const expires: WriteOp[] = [];
    const learnt: string[] = [];
    let expired: Set<string> | undefined;
    for (const written of fresh) {
      if (this.#keys.has(written.key)) continue;
      const seconds =
        this.#retention.size === 0
          ? null
          : secondsToKeep(this.#retention, written.unit, this.#bucketEnd(written.ms, written.unit), nowMs);
      if (seconds !== null && seconds <= 0) {
        (expired ??= new Set()).add(written.key);
        continue;
      }
      if (!this.#names.has(written.name) && !names.includes(written.name)) names.push(written.name);
      let members = buckets.get(written.name);
      if (!members) buckets.set(written.name, (members = []));
      members.push(`${written.unit}:${written.bucket}`);
      if (seconds !== null) expires.push({ op: 'expire', key: written.key, seconds });
      learnt.push(written.key);
    }
    const ops: WriteOp[] = [];
    if (names.length > 0) ops.push({ op: 'setAdd', key: this.#layout.names, members: names });
    for (const [name, members] of buckets)
      ops.push({ op: 'setAdd', key: this.#layout.bucketsOf(name), members });
    ops.push(...expires);
    return {
      ops,
      expired: expired ?? NO_EXPIRED,
      commit: () => {
        if (this.#keys.size + learnt.length > MAX_CACHED) this.#keys.clear();
        if (this.#names.size + names.length > MAX_CACHED) this.#names.clear();
        for (const key of learnt) this.#keys.add(key);
        for (const name of names) this.#names.add(name);
      },
    };
  }

  /** Forget what this process registered (after a delete: the next write registers again). */
  forget(): void {
    this.#keys.clear();
    this.#names.clear();
  }
}

/** Keys deleted per backend write by `deleteRecorded`: bounded batches, however large a name. */
export const DELETE_BATCH = 500;

/** Options of `names()` / `keys()`. */
export interface ListOptions {
  /** Only names starting with this text. */
  prefix?: string;
}

/** The recorded names, sorted by code unit, optionally only those starting with `prefix`. */
export async function listRecorded(backend: Backend, key: string, options: unknown): Promise<string[]> {
  const prefix = listPrefix(options);
  const [names] = await backend.read([{ op: 'setMembers', keys: [key] }] as const);
  return prefix === '' ? names : names.filter((name) => name.startsWith(prefix));
}

function listPrefix(options: unknown): string {
  if (options === undefined) return '';
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError('options', options, 'must be an options object { prefix? }');
  }
  const { prefix } = options as ListOptions;
  if (prefix === undefined) return '';
  if (typeof prefix !== 'string') throw new InvalidArgumentError('prefix', prefix, 'must be a string');
  return prefix;
}

/** One stored bucket of a name, as the registry lists it. */
export interface RecordedBucket {
  readonly unit: Unit;
  readonly bucket: string;
  readonly key: string;
}

/** The buckets the registry lists for each name, in the order of `names`. */
export async function recordedBuckets(
  backend: Backend,
  layout: RegistryLayout,
  names: readonly string[],
): Promise<RecordedBucket[][]> {
  if (names.length === 0) return [];
  const members = await backend.read(
    names.map((name) => ({ op: 'setMembers' as const, keys: [layout.bucketsOf(name)] })),
  );
  return names.map((name, i) =>
    (members[i] as string[]).flatMap((member) => {
      const at = member.indexOf(':');
      const unit = member.slice(0, at);
      const bucket = member.slice(at + 1);
      // Members are written by this module only; anything else is not ours to follow.
      if (at < 0 || !isUnit(unit) || bucket.length === 0) return [];
      return [{ unit, bucket, key: layout.dataKey(name, unit, bucket) }];
    }),
  );
}

/** Progress of a long delete: keys deleted so far, and the total found. */
export type DeleteProgress = (done: number, total: number) => void;

export interface DeleteOptions {
  /** Called after each batch of keys is deleted. */
  onProgress?: DeleteProgress;
}

export function deleteProgress(options: unknown): DeleteProgress | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError('options', options, 'must be an options object { onProgress? }');
  }
  const { onProgress } = options as DeleteOptions;
  if (onProgress !== undefined && typeof onProgress !== 'function') {
    throw new InvalidArgumentError('onProgress', onProgress, 'must be a function (done, total) => void');
  }
  return onProgress;
}

/**
 * Delete every key the registry lists for `names`, in batches of DELETE_BATCH keys, then the
 * names' registry entries (last, so a delete that fails midway is finished by running it again),
 * then `extra` keys. Resolves to the number of data keys deleted (listed keys already expired
 * count too: the backend cannot tell them apart cheaply).
 */
export async function deleteRecorded(
  backend: Backend,
  layout: RegistryLayout,
  names: readonly string[],
  onProgress?: DeleteProgress,
  extra: readonly string[] = [],
): Promise<number> {
  const perName = await recordedBuckets(backend, layout, names);
  const keys = perName.flat().map((bucket) => bucket.key);
  let done = 0;
  for (let at = 0; at < keys.length; at += DELETE_BATCH) {
    const batch = keys.slice(at, at + DELETE_BATCH);
    await backend.write([{ op: 'delete', keys: batch }]);
    done += batch.length;
    onProgress?.(done, keys.length);
  }
  for (let at = 0; at < names.length; at += DELETE_BATCH) {
    const batch = names.slice(at, at + DELETE_BATCH);
    await backend.write([
      { op: 'delete', keys: batch.map((name) => layout.bucketsOf(name)) },
      { op: 'setRemove', key: layout.names, members: batch },
    ]);
  }
  if (extra.length > 0) await backend.write([{ op: 'delete', keys: [...extra] }]);
  if (keys.length === 0) onProgress?.(0, 0);
  return keys.length;
}

/** Keys checked per read by `pruneRecorded`. */
const PRUNE_PAGE = 500;

/**
 * Remove from the registry the buckets whose key no longer exists (expired by retention, or
 * lost), so the per-name sets do not grow forever under retention. Safe while recording runs
 * under the same retention: an expired bucket is never written again (data past its retention
 * is not stored). Resolves to the number of entries removed.
 */
export async function pruneRecorded(
  backend: Backend,
  layout: RegistryLayout,
  names: readonly string[],
  onProgress?: DeleteProgress,
): Promise<number> {
  const perName = await recordedBuckets(backend, layout, names);
  const all = perName.flatMap((buckets, i) => buckets.map((bucket) => ({ name: names[i]!, ...bucket })));
  let removed = 0;
  for (let at = 0; at < all.length; at += PRUNE_PAGE) {
    const page = all.slice(at, at + PRUNE_PAGE);
    const exists = await backend.read(page.map(({ key }) => ({ op: 'exists' as const, key })));
    const gone = new Map<string, string[]>();
    page.forEach(({ name, unit, bucket }, i) => {
      if (exists[i] === true) return;
      let members = gone.get(name);
      if (!members) gone.set(name, (members = []));
      members.push(`${unit}:${bucket}`);
    });
    if (gone.size > 0) {
      await backend.write(
        [...gone].map(([name, members]) => ({
          op: 'setRemove' as const,
          key: layout.bucketsOf(name),
          members,
        })),
      );
      for (const members of gone.values()) removed += members.length;
    }
    onProgress?.(Math.min(at + PRUNE_PAGE, all.length), all.length);
  }
  return removed;
}
