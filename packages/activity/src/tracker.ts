import {
  type Backend,
  type BatchOptions,
  batchWriteOptions,
  bit,
  Coalescer,
  type Duration,
  MAX_QUERY_LEAVES,
  mapRecords,
  parseDuration,
  type ReadOp,
  stringId,
  traced,
  validateBackend,
  validateName,
  validateNamespace,
  type WriteOp,
} from '@porpoise/storage';
import { BucketKeyer, InvalidArgumentError, range, type TimeInput, toEpochMs } from '@porpoise/timerange';
import { DateTime } from 'luxon';
import { DEFAULT_BUCKET, instantOf, validateAggregates, validateBuckets } from './arguments.js';
import { ActivityLayout } from './layout.js';
import {
  groupOf,
  type Instance,
  instanceAt,
  letterOf,
  type Period,
  unitOf,
  validatePeriod,
  validatePeriods,
} from './periods.js';

export type ActivityMode = 'exact' | 'approximate' | 'bitmap';

/**
 * What bitmap mode needs of an id dictionary: `Identities` from `@porpoise/identity` is one.
 * Ids are given to it as the strings activity compares them as (123 and '123' are one).
 */
export interface ActivityIdentities {
  resolve(ids: Iterable<string>): Promise<number[]>;
  peek(ids: Iterable<string>): Promise<Array<number | null>>;
}

export interface ActivityTrackerOptions {
  /** Periods tracked by default. Default ['daily']. */
  periods?: Period[];
  /** IANA zone in which days, ISO weeks and months begin. Default 'UTC'. */
  zone?: string;
  /** Namespace inside the backend (1-64 characters of [A-Za-z0-9_.-]). Default 'activity'. */
  prefix?: string;
  /**
   * 'exact' keeps every id in a set; 'approximate' keeps a HyperLogLog (~12 KB, ~0.81% error);
   * 'bitmap' keeps one bit per id at its dense integer from `identities` (exact, about one
   * bit per tracked id instead of the id's text).
   */
  mode?: ActivityMode;
  /** The id dictionary of bitmap mode (required there, e.g. `new Identities(backend)`). */
  identities?: ActivityIdentities;
  /** The clock for calls without a date. Default: the system clock. */
  now?: () => Date;
  /**
   * Per period type, how long raw ids (the sets or HyperLogLogs `collapse` counts) are kept
   * after their period ends: `{ daily: '40d', monthly: '400d' }`. Each raw key gets an expiry on
   * its first write per process. Collapsed counts are kept forever; keep raw data longer than it
   * takes your collapse job to reach a period. Default: kept until collapsed.
   */
  retention?: Partial<Record<Period, Duration>>;
}

export interface TrackArgs {
  /** The entity: a string or a safe integer, compared as a string (123 and '123' are one). */
  id: string | number;
  /** Default 'all'. */
  bucket?: string;
  /** Replace this id (default: `id`) of `oldBucket` (default: `bucket`) atomically. Exact mode only. */
  oldId?: string | number;
  oldBucket?: string;
  /** When the activity happened: Date, luxon DateTime, ISO string or epoch ms. Default now. */
  date?: TimeInput;
  /** A subset of the tracker's periods. Default: all of them. */
  periods?: Period[];
}

export interface CollapseArgs {
  /** Only periods that ended at or before this instant are collapsed. Default now; never after now. */
  date?: TimeInput;
  /** How many closed periods to collapse at most, newest first. Default 1, at most 10,000. */
  maxPeriods?: number;
  /** Buckets to collapse. Default ['all']. Members of aggregates are added implicitly. */
  buckets?: string[];
  /** Named unions of buckets, e.g. { total: ['web', 'ios'] }: exact union counts, not sums. */
  aggregateBuckets?: Record<string, string[]>;
  periods?: Period[];
  /**
   * Called after each period is applied, with the number applied so far and the number this
   * call found pending (over all its period types), e.g. for a progress bar.
   */
  onProgress?: (done: number, total: number) => void;
}

/** One period a `collapse` call finalised, with the counts it stored. */
export interface CollapsedPeriod {
  period: Period;
  /** 'YYYY-MM-DD' of the period's first day, as in `lookup`. */
  date: string;
  /** The stored count of every bucket and aggregate of the collapse. */
  counts: Record<string, number>;
}

/** What a `collapse` call did. */
export interface CollapseResult {
  /**
   * The periods this call finalised, per period type in the order applied (oldest first).
   * Periods another process finalised meanwhile are not listed.
   */
  periods: CollapsedPeriod[];
}

export interface LookupArgs {
  period: Period;
  /** Default: 365 days before `end`. */
  start?: TimeInput;
  /** Exclusive. Default now, so the open period is included. */
  end?: TimeInput;
  /** Default ['all']. */
  buckets?: string[];
  /**
   * Aggregates to report too; computed live (as a union) for periods not collapsed yet.
   * Collapsed periods report the count their collapse stored. Aggregates an earlier collapse
   * was given are known without this (the tracker remembers them in the backend).
   */
  aggregateBuckets?: Record<string, string[]>;
  /**
   * Read buckets never tracked (nor collapsed, nor with data in the span) as 0 instead of
   * refusing them: without it a misspelt name is an InvalidArgumentError. Default false.
   */
  allowUnknownBuckets?: boolean;
}

export interface LookupRow {
  /** 'YYYY-MM-DD' of the period's first day, in the tracker's zone. */
  date: string;
  counts: Record<string, number>;
  /** true once the period is collapsed (stored counts); false for live counts. */
  final: boolean;
}

/** The most periods one `collapse` may walk back per period type. */
export const MAX_COLLAPSE_PERIODS = 10_000;
/** Collapse markers are checked this many periods at a time, newest first. */
const MARKER_PAGE = 64;

function setCount(record: Record<string, number>, key: string, value: number): void {
  // defineProperty, so a bucket named "__proto__" is an ordinary entry.
  Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * Daily, weekly and monthly active users. Raw ids are kept per period and bucket until the
 * period closes; `collapse` then turns them into counts in one atomic step.
 */
export class ActivityTracker {
  static readonly PERIOD_DAILY = 'daily' as const;
  static readonly PERIOD_WEEKLY = 'weekly' as const;
  static readonly PERIOD_MONTHLY = 'monthly' as const;

  readonly #backend: Backend;
  readonly #periods: Period[];
  readonly #zone: string;
  readonly #mode: ActivityMode;
  readonly #now: () => Date;
  readonly #keyer: BucketKeyer;
  readonly #keys: ActivityLayout;
  /**
   * Buckets this process knows are in the catalogue (wrote or read them): `track` adds a new
   * bucket to the catalogue once per process, in the same write as its first activity.
   */
  readonly #knownBuckets = new Set<string>();
  /** Per period type, the earliest instance start this process has recorded as tracked. */
  readonly #firstKnown = new Map<Period, number>();
  readonly #identities: ActivityIdentities | undefined;
  /** Per period type, how long raw ids are kept after the period ends (ms). */
  readonly #retention = new Map<Period, number>();
  /** Raw keys this process has given their expiry. */
  readonly #expiring = new Set<string>();
  /** Plain `track` calls of one tick, written together as one `trackMany`. */
  readonly #coalescer = new Coalescer<Omit<TrackArgs, 'oldId' | 'oldBucket'>>((records) =>
    this.trackMany(records),
  );

  constructor(backend: Backend, options: ActivityTrackerOptions = {}) {
    validateBackend(backend);
    if (typeof options !== 'object' || options === null) {
      throw new InvalidArgumentError('options', options, 'must be an options object');
    }
    this.#backend = backend;
    this.#periods = validatePeriods(options.periods === undefined ? ['daily'] : options.periods);
    // timerange validates the zone (and canonicalises its name).
    this.#zone = range('day', 0, 0, { zone: options.zone === undefined ? 'UTC' : options.zone, now: 0 }).zone;
    const prefix = options.prefix === undefined ? 'activity' : options.prefix;
    validateNamespace(prefix);
    this.#keys = new ActivityLayout(prefix);
    this.#mode = options.mode === undefined ? 'exact' : options.mode;
    if (this.#mode !== 'exact' && this.#mode !== 'approximate' && this.#mode !== 'bitmap') {
      throw new InvalidArgumentError('mode', this.#mode, 'must be "exact", "approximate" or "bitmap"');
    }
    const identities = options.identities;
    if (
      identities !== undefined &&
      (typeof identities !== 'object' || identities === null || typeof identities.resolve !== 'function')
    ) {
      throw new InvalidArgumentError('identities', identities, 'must be an id dictionary such as Identities');
    }
    if (this.#mode === 'bitmap' && identities === undefined) {
      throw new InvalidArgumentError(
        'identities',
        identities,
        'bitmap mode needs an id dictionary (identities)',
      );
    }
    this.#identities = identities;
    this.#keyer = new BucketKeyer({ zone: this.#zone });
    this.#now = options.now === undefined ? () => new Date() : options.now;
    if (typeof this.#now !== 'function') {
      throw new InvalidArgumentError('now', this.#now, 'must be a function returning a Date');
    }
    this.#resolveRetention(options.retention);
  }

  /**
   * The buckets ever tracked (or collapsed) by any process of this tracker, sorted by code
   * unit: the catalogue kept at write time, one read.
   */
  buckets(): Promise<string[]> {
    return traced('activity.buckets', this.#backend.name, async () => {
      const { buckets } = await this.#readCatalogue();
      return [...buckets].sort();
    });
  }

  get mode(): ActivityMode {
    return this.#mode;
  }

  get zone(): string {
    return this.#zone;
  }

  get periods(): readonly Period[] {
    return [...this.#periods];
  }

  /**
   * Record that `id` was active in `bucket` at `date`, in every chosen period. With `oldId`
   * and/or `oldBucket`, (oldBucket, oldId) is removed and (bucket, id) added in one atomic
   * write per period (both keys share the period's locality group). Plain calls (no
   * replacement) made in the same tick share one backend write, as `trackMany` does; each is
   * validated on its own first, so only a backend failure (which fails them all) can fail a batch.
   */
  async track(args: TrackArgs): Promise<void> {
    if (typeof args !== 'object' || args === null) {
      throw new InvalidArgumentError(
        'args',
        args,
        'must be an object { id, bucket?, oldId?, oldBucket?, date?, periods? }',
      );
    }
    const id = stringId(args.id, 'id');
    const bucket = args.bucket === undefined ? DEFAULT_BUCKET : args.bucket;
    validateName(bucket, 'bucket');
    const replacing = args.oldId !== undefined || args.oldBucket !== undefined;
    const oldId = args.oldId === undefined ? id : stringId(args.oldId, 'oldId');
    const oldBucket = args.oldBucket === undefined ? bucket : args.oldBucket;
    validateName(oldBucket, 'oldBucket');
    if (replacing && this.#mode === 'approximate') {
      throw new InvalidArgumentError(
        args.oldId !== undefined ? 'oldId' : 'oldBucket',
        args.oldId ?? args.oldBucket,
        'replacement needs exact mode: a HyperLogLog cannot forget an id',
      );
    }
    const periods = this.#choosePeriods(args.periods);
    const ms = this.#instant(args.date, 'date');
    // Validated above, so a batch fails only as a whole (the backend's error, for every caller).
    if (!replacing) return this.#coalescer.add({ id, bucket, date: ms, periods });
    return traced('activity.track', this.#backend.name, async (op) => {
      op.records(1);
      const groups = periods.map((period) => groupOf(period, this.#keyer.key(ms, unitOf(period))));
      const catalogue = this.#catalogueOps(replacing ? [bucket, oldBucket] : [bucket]);
      const firsts = this.#firstOps(periods.map((period) => [period, ms] as const));
      const expiry = this.#expiryOps(
        periods.map((period, i) => [period, this.#keys.raw(bucket, groups[i]!), ms] as const),
      );
      if (this.#mode === 'bitmap') {
        if (catalogue.length + firsts.length > 0) {
          await this.#learning(catalogue, () => this.#backend.write([...catalogue, ...firsts]));
        }
        await this.#trackBits(groups, bucket, id, { id: oldId, bucket: oldBucket });
        if (expiry.ops.length > 0) await this.#backend.write(expiry.ops);
        expiry.commit();
        return;
      }
      if (catalogue.length + firsts.length > 0) {
        await this.#learning(catalogue, () => this.#backend.write([...catalogue, ...firsts]));
      }
      await Promise.all(
        groups.map((group) => {
          const add = this.#add(group, bucket, [id]);
          const expire = expiry.ops.filter((op) => op.op === 'expire' && op.key === add.key);
          return this.#backend.write(
            [
              { op: 'setRemove', key: this.#keys.raw(oldBucket, group), members: [oldId] },
              ...(expiry.expired.has(add.key) ? [] : [add, ...expire]),
            ],
            { atomic: true },
          );
        }),
      );
      expiry.commit();
    });
  }

  /**
   * Track many activities in one backend write (ids merged per period and bucket). Every
   * record is validated first; replacements (`oldId`/`oldBucket`) need `track`.
   */
  trackMany(
    records: Iterable<Omit<TrackArgs, 'oldId' | 'oldBucket'>>,
    options?: BatchOptions,
  ): Promise<void> {
    return traced('activity.trackMany', this.#backend.name, async (operation) => {
      const write = batchWriteOptions(options);
      const members = new Map<string, Set<string>>();
      const buckets = new Set<string>();
      const earliest = new Map<Period, number>();
      const rawKeys: Array<readonly [Period, string, number]> = [];
      const list = mapRecords(
        records,
        '{ id, bucket?, date?, periods? }',
        (record: Omit<TrackArgs, 'oldId' | 'oldBucket'>) => {
          if ('oldId' in record || 'oldBucket' in record) {
            throw new InvalidArgumentError('records', record, 'replacements (oldId, oldBucket) need track()');
          }
          const id = stringId(record.id, 'id');
          const bucket = record.bucket === undefined ? DEFAULT_BUCKET : record.bucket;
          validateName(bucket, 'bucket');
          const ms = this.#instant(record.date, 'date');
          buckets.add(bucket);
          for (const period of this.#choosePeriods(record.periods)) {
            if (!(ms >= (earliest.get(period) ?? Number.POSITIVE_INFINITY))) earliest.set(period, ms);
            const key = this.#keys.raw(bucket, groupOf(period, this.#keyer.key(ms, unitOf(period))));
            let set = members.get(key);
            if (!set) {
              members.set(key, (set = new Set()));
              rawKeys.push([period, key, ms]);
            }
            set.add(id);
          }
        },
      );
      operation.records(list.length);
      if (members.size === 0) return;
      const catalogue = this.#catalogueOps([...buckets]);
      const firsts = this.#firstOps([...earliest]);
      const expiry = this.#expiryOps(rawKeys);
      if (this.#mode === 'bitmap') {
        const distinct = [...new Set([...members.values()].flatMap((ids) => [...ids]))];
        const ints = await this.#identities!.resolve(distinct);
        const intOf = new Map(distinct.map((id, i) => [id, ints[i]!]));
        const bits: WriteOp[] = [];
        for (const [key, ids] of members) {
          if (!expiry.expired.has(key))
            bits.push({ op: 'setBits', key, offsets: [...ids].map((id) => intOf.get(id)!) });
        }
        await this.#learning(catalogue, () =>
          this.#backend.write([...catalogue, ...firsts, ...bits, ...expiry.ops], write),
        );
        expiry.commit();
        return;
      }
      const op: 'setAdd' | 'hllAdd' = this.#mode === 'exact' ? 'setAdd' : 'hllAdd';
      const adds: WriteOp[] = [];
      for (const [key, ids] of members)
        if (!expiry.expired.has(key)) adds.push({ op, key, members: [...ids] });
      await this.#learning(catalogue, () =>
        this.#backend.write([...catalogue, ...firsts, ...adds, ...expiry.ops], write),
      );
      expiry.commit();
    });
  }

  trackDaily(args: Omit<TrackArgs, 'periods'>): Promise<void> {
    return this.track({ ...args, periods: ['daily'] });
  }

  trackWeekly(args: Omit<TrackArgs, 'periods'>): Promise<void> {
    return this.track({ ...args, periods: ['weekly'] });
  }

  trackMonthly(args: Omit<TrackArgs, 'periods'>): Promise<void> {
    return this.track({ ...args, periods: ['monthly'] });
  }

  /**
   * Turn closed periods before `date` into counts: newest first, at most `maxPeriods`,
   * stopping at the first one already collapsed. Each period is one atomic write guarded by
   * its collapse marker, so running it twice, or from two processes, counts once, and a
   * crash leaves either the raw ids or the counts, never neither.
   */
  collapse(args: CollapseArgs = {}): Promise<CollapseResult> {
    return traced('activity.collapse', this.#backend.name, async () => {
      if (typeof args !== 'object' || args === null) {
        throw new InvalidArgumentError(
          'args',
          args,
          'must be an object { date?, maxPeriods?, buckets?, aggregateBuckets?, periods? }',
        );
      }
      const nowMs = this.#nowMs();
      const ms = args.date === undefined ? nowMs : instantOf(args.date, 'date', this.#zone);
      if (ms > nowMs) {
        // A later date would finalise the open period (and future ones) with the counts so far.
        throw new InvalidArgumentError(
          'date',
          args.date,
          `is after now (${new Date(nowMs).toISOString()}): only periods that have ended can be collapsed`,
        );
      }
      const maxPeriods = args.maxPeriods === undefined ? 1 : args.maxPeriods;
      if (!Number.isSafeInteger(maxPeriods) || maxPeriods < 1 || maxPeriods > MAX_COLLAPSE_PERIODS) {
        throw new InvalidArgumentError(
          'maxPeriods',
          maxPeriods,
          `must be an integer in [1, ${MAX_COLLAPSE_PERIODS}]`,
        );
      }
      const listed = validateBuckets(args.buckets === undefined ? [DEFAULT_BUCKET] : args.buckets, 'buckets');
      const aggregates = validateAggregates(args.aggregateBuckets);
      const clash = listed.find((bucket) => aggregates.has(bucket));
      if (clash !== undefined) {
        throw new InvalidArgumentError(
          'aggregateBuckets',
          clash,
          'an aggregate must not share its name with a bucket of the same collapse',
        );
      }
      const periods = this.#choosePeriods(args.periods);
      const onProgress = args.onProgress;
      if (onProgress !== undefined && typeof onProgress !== 'function') {
        throw new InvalidArgumentError('onProgress', onProgress, 'must be a function (done, total) => void');
      }
      // An aggregate's members are collapsed with it: the union needs their raw ids, and once
      // the period is final nothing may still depend on them.
      const buckets = [...new Set([...listed, ...[...aggregates.values()].flat()])];
      if (aggregates.size > 0) await this.#refuseTrackedAggregates(aggregates);
      // Every period type's pending list is found first, so progress has a fixed total.
      const pending: Instance[][] = [];
      for (const period of periods) pending.push(await this.#uncollapsed(period, ms, maxPeriods));
      const total = pending.reduce((sum, instances) => sum + instances.length, 0);
      let done = 0;
      const applied: Instance[] = [];
      for (const instances of pending) {
        // Apply oldest first: a run that dies midway has collapsed the oldest periods, and the
        // next run, walking back from the newest, reaches every one still pending before it
        // stops at a collapsed one. Newest first would strand the older periods behind it.
        for (const instance of instances.reverse()) {
          if (await this.#collapseOne(instance, buckets, aggregates)) applied.push(instance);
          onProgress?.(++done, total);
        }
      }
      // Last, so a collapse that fails midway is retried whole; lookups of live periods then
      // know the aggregates (and buckets) without being given them.
      if (aggregates.size > 0) {
        await this.#backend.write(this.#rememberAggregates(buckets, aggregates), { atomic: true });
        for (const bucket of buckets) this.#knownBuckets.add(bucket);
      } else {
        const catalogue = this.#catalogueOps(buckets);
        if (catalogue.length > 0) await this.#learning(catalogue, () => this.#backend.write(catalogue));
      }
      return { periods: await this.#storedCounts(applied, [...buckets, ...aggregates.keys()]) };
    });
  }

  /** The counts the collapse stored for `instances`, in one read. */
  async #storedCounts(instances: Instance[], names: string[]): Promise<CollapsedPeriod[]> {
    if (instances.length === 0) return [];
    const stored = await this.#backend.read(
      instances.flatMap((instance) =>
        names.map((name) => ({ op: 'get' as const, key: this.#keys.count(name, instance.group) })),
      ),
    );
    let next = 0;
    return instances.map((instance) => {
      const counts: Record<string, number> = {};
      for (const name of names) setCount(counts, name, Number(stored[next++] ?? 0));
      return { period: instance.period, date: instance.date, counts };
    });
  }

  collapseDaily(args: Omit<CollapseArgs, 'periods'> = {}): Promise<CollapseResult> {
    return this.collapse({ ...args, periods: ['daily'] });
  }

  collapseWeekly(args: Omit<CollapseArgs, 'periods'> = {}): Promise<CollapseResult> {
    return this.collapse({ ...args, periods: ['weekly'] });
  }

  collapseMonthly(args: Omit<CollapseArgs, 'periods'> = {}): Promise<CollapseResult> {
    return this.collapse({ ...args, periods: ['monthly'] });
  }

  /**
   * Every period whose start lies in [start, end), oldest first, in one backend read.
   * Collapsed periods report their stored counts (`final: true`); others their live counts.
   */
  lookup(args: LookupArgs): Promise<LookupRow[]> {
    return traced('activity.lookup', this.#backend.name, async () => {
      if (typeof args !== 'object' || args === null) {
        throw new InvalidArgumentError(
          'args',
          args,
          'must be an object { period, start?, end?, buckets?, aggregateBuckets? }',
        );
      }
      validatePeriod(args.period);
      if (!this.#periods.includes(args.period)) {
        throw new InvalidArgumentError(
          'period',
          args.period,
          `is not tracked (tracked: ${this.#periods.join(', ')})`,
        );
      }
      const endMs = this.#instant(args.end, 'end');
      const startMs =
        args.start === undefined
          ? DateTime.fromMillis(endMs, { zone: this.#zone }).minus({ days: 365 }).toMillis()
          : this.#instant(args.start, 'start');
      if (startMs > endMs) {
        throw new InvalidArgumentError(
          'start',
          args.start,
          `is after end (${new Date(endMs).toISOString()})`,
        );
      }
      const buckets = validateBuckets(
        args.buckets === undefined ? [DEFAULT_BUCKET] : args.buckets,
        'buckets',
      );
      const given = validateAggregates(args.aggregateBuckets);
      const allowUnknown = args.allowUnknownBuckets === undefined ? false : args.allowUnknownBuckets;
      if (typeof allowUnknown !== 'boolean') {
        throw new InvalidArgumentError('allowUnknownBuckets', allowUnknown, 'must be a boolean');
      }
      const names = [...new Set([...buckets, ...given.keys()])];
      if (startMs === endMs) return [];
      // Names not given as aggregates are buckets or aggregates the catalogue knows.
      const { aggregates, unknown } = await this.#resolve(buckets, given);
      // The implicit default bucket may have no data yet: that is 0, not a misspelling.
      if (args.buckets === undefined) unknown.delete(DEFAULT_BUCKET);
      if (allowUnknown) unknown.clear();
      const span = range(unitOf(args.period), new Date(startMs), new Date(endMs), { zone: this.#zone });
      const reads = span.size * (1 + 2 * names.length);
      if (reads > MAX_QUERY_LEAVES) {
        throw new InvalidArgumentError(
          'start',
          args.start,
          `the lookup would read ${reads} keys (at most ${MAX_QUERY_LEAVES}): narrow [start, end) or ask for fewer buckets`,
        );
      }
      const instances: Instance[] = [];
      for (const bucket of span) {
        if (bucket.startMs >= startMs) instances.push(instanceAt(args.period, bucket.startMs, this.#zone));
      }
      const ops: ReadOp[] = [];
      for (const instance of instances) {
        ops.push({ op: 'exists', key: this.#keys.marker(instance.group) });
        for (const name of names) {
          const members = aggregates.get(name) ?? [name];
          ops.push({ op: 'get', key: this.#keys.count(name, instance.group) });
          ops.push(this.#liveCount(members.map((member) => this.#keys.raw(member, instance.group))));
        }
      }
      const results = ops.length === 0 ? [] : await this.#backend.read(ops);
      let next = 0;
      const withData = new Set<string>();
      const rows = instances.map((instance) => {
        const final = results[next++] === true;
        const counts: Record<string, number> = {};
        for (const name of names) {
          const stored = results[next++] as string | null;
          const current = results[next++] as number;
          if (stored !== null || current > 0) withData.add(name);
          // A bucket left out of its period's collapse has no stored count but keeps its raw ids.
          setCount(counts, name, final && stored !== null ? Number(stored) : current);
        }
        return { date: instance.date, counts, final };
      });
      // A bucket with data in the span is real even when the catalogue predates it.
      const missing = [...unknown].find((name) => !withData.has(name) || !names.includes(name));
      if (missing !== undefined) {
        const known = [...this.#knownBuckets].sort();
        throw new InvalidArgumentError(
          names.includes(missing) ? 'buckets' : 'aggregateBuckets',
          missing,
          `is not a bucket this tracker has seen tracked nor an aggregate it collapsed with (known buckets: ${
            known.length === 0 ? 'none' : known.join(', ')
          }); pass allowUnknownBuckets: true to read unknown buckets as 0`,
        );
      }
      return rows;
    });
  }

  lookupDaily(args: Omit<LookupArgs, 'period'> = {}): Promise<LookupRow[]> {
    return this.lookup({ ...args, period: 'daily' });
  }

  lookupWeekly(args: Omit<LookupArgs, 'period'> = {}): Promise<LookupRow[]> {
    return this.lookup({ ...args, period: 'weekly' });
  }

  lookupMonthly(args: Omit<LookupArgs, 'period'> = {}): Promise<LookupRow[]> {
    return this.lookup({ ...args, period: 'monthly' });
  }

  /** Closed instances before `ms`, newest first, at most `max`, up to the first collapsed one. */
  async #uncollapsed(period: Period, ms: number, max: number): Promise<Instance[]> {
    const pending: Instance[] = [];
    // Nothing before the first period ever tracked needs finalising (unknown for data tracked
    // before the tracker kept it: then the walk goes back `max` periods, as it used to).
    const [first] = await this.#backend.read([{ op: 'get', key: this.#keys.firstPeriod(letterOf(period)) }]);
    const floor = first === null ? Number.NEGATIVE_INFINITY : -Number(first);
    // The instance containing `ms` is open; the walk starts just before it.
    let cursor = instanceAt(period, ms, this.#zone).startMs;
    while (pending.length < max && cursor > floor) {
      const page: Instance[] = [];
      while (page.length < MARKER_PAGE && pending.length + page.length < max && cursor > floor) {
        const instance = instanceAt(period, cursor - 1, this.#zone);
        page.push(instance);
        cursor = instance.startMs;
      }
      const done = await this.#backend.read(
        page.map((instance) => ({ op: 'exists' as const, key: this.#keys.marker(instance.group) })),
      );
      const firstDone = done.indexOf(true);
      if (firstDone >= 0) return [...pending, ...page.slice(0, firstDone)];
      pending.push(...page);
    }
    return pending;
  }

  /** The live count of the union of raw keys, counted where they are. */
  #liveCount(keys: string[]): ReadOp {
    if (this.#mode === 'exact') return { op: 'setCardinality', keys };
    if (this.#mode === 'approximate') return { op: 'hllCount', keys };
    return { op: 'bitCount', expr: keys.length === 1 ? bit.key(keys[0]!) : bit.or(...keys.map(bit.key)) };
  }

  /** Bitmap mode's track: the ids' integers, then one write (atomic per period when replacing). */
  async #trackBits(
    groups: string[],
    bucket: string,
    id: string,
    old: { id: string; bucket: string },
  ): Promise<void> {
    const [n] = await this.#identities!.resolve([id]);
    // An old id the dictionary never saw has no bit to clear (and is not assigned one).
    const [before] = old.id === id ? [n!] : await this.#identities!.peek([old.id]);
    const add = (group: string): WriteOp => ({
      op: 'setBits',
      key: this.#keys.raw(bucket, group),
      offsets: [n!],
    });
    await Promise.all(
      groups.map((group) => {
        const ops: WriteOp[] = [];
        if (before !== null && before !== undefined) {
          ops.push({
            op: 'setBits',
            key: this.#keys.raw(old.bucket, group),
            offsets: [before],
            value: false,
          });
        }
        ops.push(add(group));
        return this.#backend.write(ops, { atomic: true });
      }),
    );
  }

  /** One period: counts, aggregates, marker and removal of raw ids, all or nothing. */
  #collapseOne(instance: Instance, buckets: string[], aggregates: Map<string, string[]>): Promise<boolean> {
    if (this.#mode === 'bitmap') return this.#collapseBits(instance, buckets, aggregates);
    const kind = this.#mode === 'exact' ? 'set' : 'hll';
    const { group } = instance;
    const ops: WriteOp[] = [];
    for (const bucket of buckets) {
      ops.push({
        op: 'storeCardinality',
        key: this.#keys.count(bucket, group),
        kind,
        sources: [this.#keys.raw(bucket, group)],
      });
    }
    for (const [name, members] of aggregates) {
      ops.push({
        op: 'storeCardinality',
        key: this.#keys.count(name, group),
        kind,
        sources: members.map((member) => this.#keys.raw(member, group)),
      });
    }
    const marker = this.#keys.marker(group);
    ops.push({ op: 'set', key: marker, value: new Date(this.#nowMs()).toISOString() });
    ops.push({ op: 'delete', keys: buckets.map((bucket) => this.#keys.raw(bucket, group)) });
    return this.#backend.write(ops, { atomic: true, unlessExists: marker });
  }

  /** The catalogue write for buckets this process has not recorded yet (none when all are known). */
  #catalogueOps(buckets: readonly string[]): WriteOp[] {
    const fresh = [...new Set(buckets)].filter((bucket) => !this.#knownBuckets.has(bucket));
    return fresh.length === 0 ? [] : [{ op: 'setAdd', key: this.#keys.knownBuckets(), members: fresh }];
  }

  /**
   * Run `write`, which carries the catalogue ops `catalogue` (from `#catalogueOps`), and
   * remember their buckets. Buckets are marked known while it runs, so concurrent first tracks of a
   * bucket do not all add it; a failure forgets them again.
   */
  async #learning(catalogue: WriteOp[], write: () => Promise<unknown>): Promise<void> {
    if (catalogue.length === 0) {
      await write();
      return;
    }
    const fresh = (catalogue[0] as { members: readonly string[] }).members;
    for (const bucket of fresh) this.#knownBuckets.add(bucket);
    try {
      await write();
    } catch (error) {
      for (const bucket of fresh) this.#knownBuckets.delete(bucket);
      throw error;
    }
  }

  /**
   * The catalogue write for the earliest tracked period of each period type, when it is
   * earlier than what this process has recorded: once per period type per process, then only
   * for backfills. Cached before the write, like the buckets.
   */
  #firstOps(instants: ReadonlyArray<readonly [Period, number]>): WriteOp[] {
    const ops: WriteOp[] = [];
    for (const [period, ms] of instants) {
      const start = instanceAt(period, ms, this.#zone).startMs;
      const known = this.#firstKnown.get(period);
      if (known !== undefined && known <= start) continue;
      this.#firstKnown.set(period, start);
      ops.push({ op: 'max', key: this.#keys.firstPeriod(letterOf(period)), value: -start });
    }
    return ops;
  }

  /** Read the catalogue: the buckets ever tracked, the aggregates' names. */
  async #readCatalogue(): Promise<{ buckets: Set<string>; aggregates: string[] }> {
    const [buckets, aggregates] = await this.#backend.read([
      { op: 'setMembers', keys: [this.#keys.knownBuckets()] },
      { op: 'setMembers', keys: [this.#keys.knownAggregates()] },
    ] as const);
    for (const bucket of buckets) this.#knownBuckets.add(bucket);
    return { buckets: new Set(buckets), aggregates };
  }

  /** An aggregate may not take the name of a tracked bucket: both would count under one key. */
  async #refuseTrackedAggregates(aggregates: Map<string, string[]>): Promise<void> {
    let tracked = [...aggregates.keys()].find((name) => this.#knownBuckets.has(name));
    if (tracked === undefined) {
      const { buckets } = await this.#readCatalogue();
      tracked = [...aggregates.keys()].find((name) => buckets.has(name));
    }
    if (tracked !== undefined) {
      throw new InvalidArgumentError(
        'aggregateBuckets',
        tracked,
        'is the name of a tracked bucket: give the aggregate a name of its own',
      );
    }
  }

  /** The catalogue write of a collapse: its buckets, and each aggregate with its members. */
  #rememberAggregates(buckets: readonly string[], aggregates: Map<string, string[]>): WriteOp[] {
    const ops: WriteOp[] = [
      { op: 'setAdd', key: this.#keys.knownBuckets(), members: buckets },
      { op: 'setAdd', key: this.#keys.knownAggregates(), members: [...aggregates.keys()] },
    ];
    for (const [name, members] of aggregates) {
      const key = this.#keys.aggregateMembers(name);
      ops.push({ op: 'delete', keys: [key] }, { op: 'setAdd', key, members });
    }
    return ops;
  }

  /**
   * What the lookup's names are: `given` aggregates win; other names are aggregates of the
   * catalogue, else buckets. `unknown`: names (and aggregate members) the catalogue does not
   * know, read only when the cache cannot answer.
   */
  async #resolve(
    buckets: readonly string[],
    given: Map<string, string[]>,
  ): Promise<{ aggregates: Map<string, string[]>; unknown: Set<string> }> {
    const aggregates = new Map(given);
    // `buckets` may list given aggregates (to order the report): those are not buckets.
    const wanted = [
      ...new Set([...buckets.filter((name) => !given.has(name)), ...[...given.values()].flat()]),
    ];
    // Given aggregate names are checked against the tracked buckets like collapse does.
    if (given.size === 0 && wanted.every((name) => this.#knownBuckets.has(name))) {
      return { aggregates, unknown: new Set() };
    }
    const catalogue = await this.#readCatalogue();
    const tracked = [...given.keys()].find((name) => catalogue.buckets.has(name));
    if (tracked !== undefined) {
      throw new InvalidArgumentError(
        'aggregateBuckets',
        tracked,
        'is the name of a tracked bucket: give the aggregate a name of its own',
      );
    }
    const remembered = wanted.filter((name) => !given.has(name) && catalogue.aggregates.includes(name));
    if (remembered.length > 0) {
      const members = await this.#backend.read(
        remembered.map((name) => ({ op: 'setMembers' as const, keys: [this.#keys.aggregateMembers(name)] })),
      );
      remembered.forEach((name, i) => {
        const list = members[i] as string[];
        if (list.length > 0) aggregates.set(name, list);
      });
    }
    const unknown = new Set(
      wanted.filter((name) => !catalogue.buckets.has(name) && !remembered.includes(name)),
    );
    return { aggregates, unknown };
  }

  /**
   * Bitmap mode's collapse: the counts are read (counted where the bitmaps are), then
   * written with the marker and the removal of the raw bitmaps in one atomic write guarded
   * by the marker. A track into this closed period landing between the read and the write is
   * not counted, as one landing just after the collapse would not be.
   */
  async #collapseBits(
    instance: Instance,
    buckets: string[],
    aggregates: Map<string, string[]>,
  ): Promise<boolean> {
    const { group } = instance;
    const named: Array<[string, string[]]> = [
      ...buckets.map((bucket): [string, string[]] => [bucket, [bucket]]),
      ...aggregates,
    ];
    const counts = await this.#backend.read(
      named.map(([, members]) => this.#liveCount(members.map((member) => this.#keys.raw(member, group)))),
    );
    const ops: WriteOp[] = named.map(([name], i) => ({
      op: 'set',
      key: this.#keys.count(name, group),
      value: String(counts[i]),
    }));
    const marker = this.#keys.marker(group);
    ops.push({ op: 'set', key: marker, value: new Date(this.#nowMs()).toISOString() });
    ops.push({ op: 'delete', keys: buckets.map((bucket) => this.#keys.raw(bucket, group)) });
    return this.#backend.write(ops, { atomic: true, unlessExists: marker });
  }

  #add(group: string, bucket: string, ids: string[]): WriteOp & { key: string } {
    const key = this.#keys.raw(bucket, group);
    return this.#mode === 'exact' ? { op: 'setAdd', key, members: ids } : { op: 'hllAdd', key, members: ids };
  }

  #resolveRetention(value: unknown): void {
    if (value === undefined) return;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new InvalidArgumentError(
        'retention',
        value,
        "must be an object of durations per period, e.g. { daily: '40d' }",
      );
    }
    for (const [period, duration] of Object.entries(value)) {
      validatePeriod(period, 'retention');
      if (!this.#periods.includes(period)) {
        throw new InvalidArgumentError(
          `retention.${period}`,
          duration,
          `is for a period that is not tracked (tracked: ${this.#periods.join(', ')})`,
        );
      }
      if (duration === undefined) continue;
      this.#retention.set(period, parseDuration(duration, `retention.${period}`));
    }
  }

  /**
   * The expiries of raw keys this process has not given one yet (once the write succeeded:
   * `commit`), and the keys whose period is already past its retention (left out of the write).
   */
  #expiryOps(raw: ReadonlyArray<readonly [Period, string, number]>): {
    ops: WriteOp[];
    expired: ReadonlySet<string>;
    commit: () => void;
  } {
    const ops: WriteOp[] = [];
    const expired = new Set<string>();
    if (this.#retention.size === 0) return { ops, expired, commit: () => {} };
    const now = this.#nowMs();
    const learnt: string[] = [];
    for (const [period, key, ms] of raw) {
      const keep = this.#retention.get(period);
      if (keep === undefined || this.#expiring.has(key)) continue;
      const seconds = Math.ceil((instanceAt(period, ms, this.#zone).endMs + keep - now) / 1000);
      if (seconds <= 0) {
        expired.add(key);
        continue;
      }
      ops.push({ op: 'expire', key, seconds });
      learnt.push(key);
    }
    return {
      ops,
      expired,
      commit: () => {
        if (this.#expiring.size + learnt.length > 100_000) this.#expiring.clear();
        for (const key of learnt) this.#expiring.add(key);
      },
    };
  }

  #choosePeriods(value: unknown): Period[] {
    if (value === undefined) return this.#periods;
    const periods = validatePeriods(value);
    for (const period of periods) {
      if (!this.#periods.includes(period)) {
        throw new InvalidArgumentError(
          'periods',
          period,
          `is not tracked (tracked: ${this.#periods.join(', ')})`,
        );
      }
    }
    return periods;
  }

  #nowMs(): number {
    return toEpochMs(this.#now(), 'now');
  }

  #instant(value: unknown, argument: string): number {
    return value === undefined ? this.#nowMs() : instantOf(value, argument, this.#zone);
  }
}
