import {
  type Backend,
  type BatchOptions,
  batchWriteOptions,
  Coalescer,
  checkRange,
  type DeleteOptions,
  deleteProgress,
  deleteRecorded,
  encodeKeySegment,
  keyOf,
  type ListOptions,
  listRecorded,
  mapRecords,
  pruneRecorded,
  type RegistryLayout,
  type ResolvedSeriesOptions,
  recordedBuckets,
  recordingTime,
  resolveSeriesOptions,
  type SeriesOptions,
  stringId,
  traced,
  validateBackend,
  validateName,
  type WriteOp,
  type WriteOptions,
  WriteRegistry,
  type WrittenKey,
} from '@porpoise/storage';
import {
  type Bucket,
  BucketKeyer,
  bucketOf,
  bucketsWithin,
  type Instant,
  InvalidArgumentError,
  range,
  resolutionFor,
  type TimeInput,
  type TimeRange,
  toEpochMs,
  type Unit,
} from '@porpoise/timerange';
import { CounterSnapshot } from './snapshot.js';

/**
 * Options of `Counters`: resolutions, zone, week start, prefix, clock, and `retention` (per
 * recorded unit, how long a bucket's hash is kept after the bucket ends).
 */
export type CountersOptions = SeriesOptions;

/** What a delete removed. */
export interface DeleteResult {
  /** Hashes deleted (one per counter key, resolution and bucket). */
  keys: number;
  /** Counter keys removed from the catalogue. */
  names: number;
}

/** `counters.stats()`: per counter key and resolution. */
export interface CounterStatsRow {
  key: string;
  unit: Unit;
  /** Hashes that exist (listed ones that expired are not counted). */
  keys: number;
  /** Buckets the catalogue lists (including hashes already expired). */
  listed: number;
  /** Hash fields (ids) summed over the hashes. */
  fields: number;
  /**
   * Bytes of the fields and their decimal values (UTF-8). What the store spends on top (hash
   * encoding, key overhead) is not visible through the Backend interface.
   */
  bytes: number;
  /** Retention of the unit in ms; null when kept forever. */
  retention: number | null;
  /** Hashes with an expiry and their fields and bytes: what the retention will free. */
  expiring: { keys: number; fields: number; bytes: number };
}

export interface StatsOptions {
  /** Called after each page of hashes is read, with hashes read so far and the total listed. */
  onProgress?: (done: number, total: number) => void;
}

export interface CountRecord {
  key: string;
  id?: string | number;
  by?: number;
  at?: Instant;
}

interface Increment {
  key: string;
  id: string;
  by: number;
  ms: number;
}

/** Buckets fetched per round trip in `over()`: bounds memory on huge ranges. */
const PAGE = 64;

function normaliseId(id: unknown): string {
  return id === undefined ? 'all' : stringId(id, 'id');
}

/** How many, per id, when: one hash per counter key and time bucket. */
export class Counters {
  readonly #backend: Backend;
  readonly #options: ResolvedSeriesOptions;
  readonly #keyer: BucketKeyer;
  readonly #coalescer: Coalescer<Increment>;
  readonly #layout: CounterLayout;
  readonly #registry: WriteRegistry;

  constructor(backend: Backend, options?: CountersOptions) {
    validateBackend(backend);
    this.#backend = backend;
    this.#options = resolveSeriesOptions(options, 'counters');
    this.#keyer = new BucketKeyer({ zone: this.#options.zone, weekStart: this.#options.weekStart });
    this.#coalescer = new Coalescer((increments) =>
      traced('counters.count', backend.name, async (op) => {
        op.records(increments.length);
        await this.#write(increments);
      }),
    );
    this.#layout = new CounterLayout(this.#options.prefix);
    const calendar = { zone: this.#options.zone, weekStart: this.#options.weekStart };
    this.#registry = new WriteRegistry(
      this.#layout,
      this.#options.retention,
      (ms, unit) => bucketOf(ms, unit, calendar).endMs,
    );
  }

  /** Add `by` (default 1) to `id` (default 'all') of counter `key` at `at` (default now). */
  count(key: string, id?: string | number, by?: number, at?: Instant): Promise<void> {
    try {
      return this.#coalescer.add(this.#increment(key, id, by, at));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Many counts in one backend write; every record is validated before anything is written. */
  countMany(records: Iterable<CountRecord>, options?: BatchOptions): Promise<void> {
    return traced('counters.countMany', this.#backend.name, async (operation) => {
      const write = batchWriteOptions(options);
      const increments = mapRecords(records, '{ key, id?, by?, at? }', (r: CountRecord) =>
        this.#increment(r.key, r.id, r.by, r.at),
      );
      operation.records(increments.length);
      if (increments.length > 0) await this.#write(increments, write);
    });
  }

  /**
   * A range in this instance's zone and week start, whose numeric offsets count from its
   * clock (`now`): `counters.range('day', -7)` is the seven days before today by that clock.
   */
  range(unit: Unit, start?: TimeInput, end?: TimeInput): TimeRange {
    const { zone, weekStart, now } = this.#options;
    return range(unit, start, end, { zone, weekStart, now });
  }

  get(key: string): CounterQuery {
    validateName(key, 'key');
    return new CounterQuery(this.#backend, this.#options, key);
  }

  /**
   * The counter keys counted in this namespace (by any process), sorted by code unit; with
   * `prefix`, only those starting with it. Read from the catalogue kept at write time.
   */
  keys(options?: ListOptions): Promise<string[]> {
    return traced('counters.keys', this.#backend.name, async () => {
      try {
        return listRecorded(this.#backend, this.#layout.names, options);
      } catch (error) {
        return Promise.reject(error);
      }
    });
  }

  /**
   * Delete every hash of counter `key` (every resolution, every bucket the catalogue lists), in
   * batches of 500 keys per write, and its catalogue entries; `onProgress(done, total)` after
   * each batch.
   */
  delete(key: string, options?: DeleteOptions): Promise<DeleteResult> {
    return traced('counters.delete', this.#backend.name, async () => {
      validateName(key, 'key');
      const onProgress = deleteProgress(options);
      const keys = await deleteRecorded(this.#backend, this.#layout, [key], onProgress);
      this.#registry.forget();
      return { keys, names: 1 };
    });
  }

  /** Delete every counter of this namespace (as the catalogue lists them) and the catalogue. */
  deleteAll(options?: DeleteOptions): Promise<DeleteResult> {
    return traced('counters.deleteAll', this.#backend.name, async () => {
      const onProgress = deleteProgress(options);
      const [names] = await this.#backend.read([{ op: 'setMembers', keys: [this.#layout.names] }] as const);
      const keys = await deleteRecorded(this.#backend, this.#layout, names, onProgress, [this.#layout.names]);
      this.#registry.forget();
      return { keys, names: names.length };
    });
  }

  /**
   * Drop from the catalogue the buckets whose hashes have expired (retention), so it does not
   * grow forever; a tooling job to run now and then. Resolves to the entries removed.
   */
  prune(options?: DeleteOptions): Promise<number> {
    return traced('counters.prune', this.#backend.name, async () => {
      const onProgress = deleteProgress(options);
      const [names] = await this.#backend.read([{ op: 'setMembers', keys: [this.#layout.names] }] as const);
      const removed = await pruneRecorded(this.#backend, this.#layout, names, onProgress);
      this.#registry.forget();
      return removed;
    });
  }

  /** Per counter key and resolution: hashes, fields, bytes, and what the retention will free. */
  stats(options?: StatsOptions): Promise<CounterStatsRow[]> {
    return traced('counters.stats', this.#backend.name, async () => {
      const onProgress = statsProgress(options);
      const [names] = await this.#backend.read([{ op: 'setMembers', keys: [this.#layout.names] }] as const);
      const perName = await recordedBuckets(this.#backend, this.#layout, names);
      const rows = new Map<string, CounterStatsRow>();
      const work: Array<{ row: CounterStatsRow; key: string }> = [];
      names.forEach((name, i) => {
        for (const { unit, key } of perName[i]!) {
          const id = `${name}\u0000${unit}`;
          let row = rows.get(id);
          if (!row) {
            row = {
              key: name,
              unit,
              keys: 0,
              listed: 0,
              fields: 0,
              bytes: 0,
              retention: this.#options.retention.get(unit) ?? null,
              expiring: { keys: 0, fields: 0, bytes: 0 },
            };
            rows.set(id, row);
          }
          row.listed++;
          work.push({ row, key });
        }
      });
      const encoder = new TextEncoder();
      for (let at = 0; at < work.length; at += STATS_PAGE) {
        const page = work.slice(at, at + STATS_PAGE);
        const results = await this.#backend.read(
          page.flatMap(({ key }) => [
            { op: 'exists' as const, key },
            { op: 'ttl' as const, key },
            { op: 'hashGetAll' as const, key },
          ]),
        );
        page.forEach(({ row }, i) => {
          if (results[3 * i] !== true) return;
          const fields = results[3 * i + 2] as Map<string, number>;
          let bytes = 0;
          for (const [field, value] of fields) bytes += encoder.encode(field).length + String(value).length;
          row.keys++;
          row.fields += fields.size;
          row.bytes += bytes;
          if (results[3 * i + 1] !== null) {
            row.expiring.keys++;
            row.expiring.fields += fields.size;
            row.expiring.bytes += bytes;
          }
        });
        onProgress?.(Math.min(at + STATS_PAGE, work.length), work.length);
      }
      const units = this.#options.resolutions;
      return [...rows.values()].sort((a, b) =>
        a.key < b.key ? -1 : a.key > b.key ? 1 : units.indexOf(a.unit) - units.indexOf(b.unit),
      );
    });
  }

  #increment(key: unknown, id: unknown, by: unknown, at: unknown): Increment {
    validateName(key, 'key');
    const field = normaliseId(id);
    const amount = by === undefined ? 1 : by;
    if (typeof amount !== 'number' || !Number.isSafeInteger(amount)) {
      throw new InvalidArgumentError('by', amount, 'must be a safe integer');
    }
    return { key, id: field, by: amount, ms: recordingTime(at, this.#options) };
  }

  async #write(increments: Increment[], options: WriteOptions = {}): Promise<void> {
    const perKey = new Map<string, Map<string, number>>();
    const fresh = new Map<string, WrittenKey>();
    for (const { key, id, by, ms } of increments) {
      for (const unit of this.#options.resolutions) {
        const bucket = this.#keyer.key(ms, unit);
        const hash = counterKey(this.#options.prefix, key, unit, bucket);
        let fields = perKey.get(hash);
        if (!fields) {
          perKey.set(hash, (fields = new Map()));
          if (!this.#registry.knows(hash)) fresh.set(hash, { key: hash, name: key, unit, bucket, ms });
        }
        fields.set(id, (fields.get(id) ?? 0) + by);
      }
    }
    const registry = this.#registry.plan(fresh.values(), toEpochMs(this.#options.now(), 'now'));
    const ops: WriteOp[] = [];
    for (const [key, fields] of perKey) {
      if (!registry.expired.has(key)) ops.push({ op: 'increment', key, increments: [...fields] });
    }
    if (ops.length === 0) return;
    ops.push(...registry.ops);
    await this.#backend.write(ops, options);
    registry.commit();
  }
}

function counterKey(prefix: string, key: string, unit: Unit, bucketKey: string): string {
  return keyOf(prefix, 'c', encodeKeySegment(key), unit, bucketKey);
}

/** Hashes read per round trip by `stats()`. */
const STATS_PAGE = 64;

/**
 * The catalogue of one Counters namespace:
 *
 *   {prefix}:meta:keys              every counter key counted (a set)
 *   {prefix}:meta:buckets:{key}     `{unit}:{bucket}` of every bucket a key was counted in (a set)
 */
class CounterLayout implements RegistryLayout {
  readonly names: string;
  readonly #prefix: string;

  constructor(prefix: string) {
    this.#prefix = prefix;
    this.names = keyOf(prefix, 'meta', 'keys');
  }

  bucketsOf(name: string): string {
    return keyOf(this.#prefix, 'meta', 'buckets', encodeKeySegment(name));
  }

  dataKey(name: string, unit: Unit, bucket: string): string {
    return counterKey(this.#prefix, name, unit, bucket);
  }
}

function statsProgress(options: unknown): StatsOptions['onProgress'] {
  if (options === undefined) return undefined;
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError('options', options, 'must be an options object { onProgress? }');
  }
  const { onProgress } = options as StatsOptions;
  if (onProgress !== undefined && typeof onProgress !== 'function') {
    throw new InvalidArgumentError('onProgress', onProgress, 'must be a function (done, total) => void');
  }
  return onProgress;
}

export class CounterQuery {
  readonly #backend: Backend;
  readonly #options: ResolvedSeriesOptions;
  readonly #key: string;

  /** @internal Use `counters.get(key)`. */
  constructor(backend: Backend, options: ResolvedSeriesOptions, key: string) {
    this.#backend = backend;
    this.#options = options;
    this.#key = key;
  }

  /** One snapshot per bucket of `range`, in order. Rolled up from a finer unit when needed. */
  async *over(range: TimeRange): AsyncIterable<CounterSnapshot> {
    checkRange(range, this.#options, 'paged');
    let page: Bucket[] = [];
    for (const bucket of range) {
      page.push(bucket);
      if (page.length === PAGE) {
        yield* await traced('counters.over', this.#backend.name, () => this.#fetch(page));
        page = [];
      }
    }
    if (page.length > 0) yield* await traced('counters.over', this.#backend.name, () => this.#fetch(page));
  }

  /** Counts summed over every bucket of `range` (bucket: null), in one round trip. */
  sum(range: TimeRange): Promise<CounterSnapshot> {
    return traced('counters.sum', this.#backend.name, async () => {
      checkRange(range, this.#options);
      const total = new Map<string, number>();
      for (const snapshot of await this.#fetch([...range])) {
        for (const [id, n] of snapshot.values) total.set(id, (total.get(id) ?? 0) + n);
      }
      return new CounterSnapshot(null, total);
    });
  }

  async #fetch(buckets: Bucket[]): Promise<CounterSnapshot[]> {
    const stored = buckets.length > 0 ? resolutionFor(buckets[0]!.unit, this.#options.resolutions) : 'day';
    const leaves = buckets.map((bucket) => bucketsWithin(bucket, stored, this.#options));
    const maps = await this.#backend.read(
      leaves.flat().map((leaf) => ({
        op: 'hashGetAll' as const,
        key: counterKey(this.#options.prefix, this.#key, stored, leaf.key),
      })),
    );
    let next = 0;
    return buckets.map((bucket, i) => {
      const values = new Map<string, number>();
      for (let j = 0; j < leaves[i]!.length; j++) {
        for (const [id, n] of maps[next++]!) values.set(id, (values.get(id) ?? 0) + n);
      }
      // A field counted up and back down to 0 is not a count worth reporting.
      for (const [id, n] of values) if (n === 0) values.delete(id);
      return new CounterSnapshot(bucket, values);
    });
  }
}
