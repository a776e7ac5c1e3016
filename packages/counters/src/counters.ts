import {
  type Backend,
  type BatchOptions,
  batchWriteOptions,
  Coalescer,
  checkRange,
  encodeKeySegment,
  keyOf,
  mapRecords,
  type ResolvedSeriesOptions,
  recordingTime,
  resolveSeriesOptions,
  type SeriesOptions,
  stringId,
  validateBackend,
  validateName,
  type WriteOp,
  type WriteOptions,
} from '@porpoise/storage';
import {
  type Bucket,
  BucketKeyer,
  bucketsWithin,
  type Instant,
  InvalidArgumentError,
  range,
  resolutionFor,
  type TimeInput,
  type TimeRange,
  type Unit,
} from '@porpoise/timerange';
import { CounterSnapshot } from './snapshot.js';

export type CountersOptions = SeriesOptions;

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

  constructor(backend: Backend, options?: CountersOptions) {
    validateBackend(backend);
    this.#backend = backend;
    this.#options = resolveSeriesOptions(options, 'counters');
    this.#keyer = new BucketKeyer({ zone: this.#options.zone, weekStart: this.#options.weekStart });
    this.#coalescer = new Coalescer((increments) => this.#write(increments));
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
  async countMany(records: Iterable<CountRecord>, options?: BatchOptions): Promise<void> {
    const write = batchWriteOptions(options);
    const increments = mapRecords(records, '{ key, id?, by?, at? }', (r: CountRecord) =>
      this.#increment(r.key, r.id, r.by, r.at),
    );
    if (increments.length > 0) await this.#write(increments, write);
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
    for (const { key, id, by, ms } of increments) {
      for (const unit of this.#options.resolutions) {
        const hash = counterKey(this.#options.prefix, key, unit, this.#keyer.key(ms, unit));
        let fields = perKey.get(hash);
        if (!fields) perKey.set(hash, (fields = new Map()));
        fields.set(id, (fields.get(id) ?? 0) + by);
      }
    }
    const ops: WriteOp[] = [];
    for (const [key, fields] of perKey) ops.push({ op: 'increment', key, increments: [...fields] });
    await this.#backend.write(ops, options);
  }
}

function counterKey(prefix: string, key: string, unit: Unit, bucketKey: string): string {
  return keyOf(prefix, 'c', encodeKeySegment(key), unit, bucketKey);
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
        yield* await this.#fetch(page);
        page = [];
      }
    }
    if (page.length > 0) yield* await this.#fetch(page);
  }

  /** Counts summed over every bucket of `range` (bucket: null), in one round trip. */
  async sum(range: TimeRange): Promise<CounterSnapshot> {
    checkRange(range, this.#options);
    const total = new Map<string, number>();
    for (const snapshot of await this.#fetch([...range])) {
      for (const [id, n] of snapshot.values) total.set(id, (total.get(id) ?? 0) + n);
    }
    return new CounterSnapshot(null, total);
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
