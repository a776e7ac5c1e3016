import {
  type Backend,
  encodeKeySegment,
  keyOf,
  mapRecords,
  type ReadOp,
  stringId,
  validateBackend,
  validateName,
  validateNamespace,
  type WriteOp,
} from '@porpoise/storage';
import { BucketKeyer, InvalidArgumentError, range, type TimeInput, toEpochMs } from '@porpoise/timerange';
import { DateTime } from 'luxon';
import {
  groupOf,
  type Instance,
  instanceAt,
  type Period,
  unitOf,
  validatePeriod,
  validatePeriods,
} from './periods.js';

export interface ActivityTrackerOptions {
  /** Periods tracked by default. Default ['daily']. */
  periods?: Period[];
  /** IANA zone of the periods. Default 'UTC'. */
  zone?: string;
  /** Namespace inside the backend. Default 'activity'. */
  prefix?: string;
  /** 'exact' keeps every id in a set; 'approximate' keeps a HyperLogLog (~12 KB, ~0.81% error). */
  mode?: 'exact' | 'approximate';
  now?: () => Date;
}

export interface TrackArgs {
  id?: string | number;
  bucket?: string;
  /** Replace this id (default: `id`) in `oldBucket` (default: `bucket`) atomically. */
  oldId?: string | number;
  oldBucket?: string;
  /** When the activity happened (Date, luxon DateTime, ISO string, epoch ms). Default now. */
  date?: TimeInput;
  periods?: Period[];
}

export interface CollapseArgs {
  /** Only periods that ended before this instant are collapsed. Default now. */
  date?: TimeInput;
  /** How many closed periods to collapse at most, newest first. Default 1. */
  maxPeriods?: number;
  buckets?: string[];
  /** Named unions of buckets, e.g. { total: ['web', 'ios'] }: exact union counts, not sums. */
  aggregateBuckets?: Record<string, string[]>;
  periods?: Period[];
}

export interface LookupArgs {
  period: Period;
  start?: TimeInput;
  end?: TimeInput;
  buckets?: string[];
  /** Aggregates to compute live for periods not collapsed yet. */
  aggregateBuckets?: Record<string, string[]>;
}

export interface LookupRow {
  /** 'YYYY-MM-DD' of the period's first day. */
  date: string;
  counts: Record<string, number>;
  /** true once the period is collapsed; live counts otherwise. */
  final: boolean;
}

const DEFAULT_BUCKET = 'all';

function validateBuckets(value: unknown, argument: string): string[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new InvalidArgumentError(argument, value, 'must be a non-empty array of bucket names');
  }
  for (const bucket of value) validateName(bucket, argument);
  return [...new Set(value as string[])];
}

function validateAggregates(value: unknown, argument = 'aggregateBuckets'): Map<string, string[]> {
  const out = new Map<string, string[]>();
  if (value === undefined) return out;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidArgumentError(
      argument,
      value,
      'must be an object mapping aggregate names to bucket lists',
    );
  }
  for (const [name, members] of Object.entries(value)) {
    validateName(name, argument);
    if (!Array.isArray(members) || members.length === 0) {
      throw new InvalidArgumentError(`${argument}.${name}`, members, 'must name at least one bucket');
    }
    for (const member of members) validateName(member, `${argument}.${name}`);
    out.set(name, [...new Set(members as string[])]);
  }
  return out;
}

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
  readonly #prefix: string;
  readonly #mode: 'exact' | 'approximate';
  readonly #now: () => Date;
  readonly #keyer: BucketKeyer;

  constructor(backend: Backend, options: ActivityTrackerOptions = {}) {
    validateBackend(backend);
    if (typeof options !== 'object' || options === null) {
      throw new InvalidArgumentError('options', options, 'must be an options object');
    }
    this.#backend = backend;
    this.#periods = validatePeriods(options.periods === undefined ? ['daily'] : options.periods);
    this.#zone = range('day', 0, 0, { zone: options.zone === undefined ? 'UTC' : options.zone, now: 0 }).zone;
    this.#prefix = options.prefix === undefined ? 'activity' : options.prefix;
    validateNamespace(this.#prefix);
    this.#mode = options.mode === undefined ? 'exact' : options.mode;
    if (this.#mode !== 'exact' && this.#mode !== 'approximate') {
      throw new InvalidArgumentError('mode', this.#mode, 'must be "exact" or "approximate"');
    }
    this.#keyer = new BucketKeyer({ zone: this.#zone });
    this.#now = options.now === undefined ? () => new Date() : options.now;
    if (typeof this.#now !== 'function')
      throw new InvalidArgumentError('now', this.#now, 'must be a function');
  }

  get mode(): 'exact' | 'approximate' {
    return this.#mode;
  }

  async track(args: TrackArgs): Promise<void> {
    if (typeof args !== 'object' || args === null) {
      throw new InvalidArgumentError(
        'args',
        args,
        'must be an object { id, bucket?, oldId?, oldBucket?, date? }',
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
    const ms = this.#time(args.date, 'date');
    const groups = periods.map((period) => groupOf(period, this.#keyer.key(ms, unitOf(period))));
    if (!replacing) {
      await this.#backend.write(groups.map((group) => this.#add(group, bucket, id)));
      return;
    }
    // Each period's remove-and-add is one atomic write inside that period's locality group.
    await Promise.all(
      groups.map((group) =>
        this.#backend.write(
          [
            { op: 'setRemove', key: this.#raw(oldBucket, group), members: [oldId] },
            this.#add(group, bucket, id),
          ],
          { atomic: true },
        ),
      ),
    );
  }

  /**
   * Track many activities in one backend write (ids merged per period and bucket). Every
   * record is validated first; replacements (`oldId`/`oldBucket`) need `track`.
   */
  async trackMany(records: Iterable<Omit<TrackArgs, 'oldId' | 'oldBucket'>>): Promise<void> {
    const members = new Map<string, Set<string>>();
    mapRecords(
      records,
      '{ id, bucket?, date?, periods? }',
      (record: Omit<TrackArgs, 'oldId' | 'oldBucket'>) => {
        if ('oldId' in record || 'oldBucket' in record) {
          throw new InvalidArgumentError('records', record, 'replacements (oldId, oldBucket) need track()');
        }
        const id = stringId(record.id, 'id');
        const bucket = record.bucket === undefined ? DEFAULT_BUCKET : record.bucket;
        validateName(bucket, 'bucket');
        const ms = this.#time(record.date, 'date');
        for (const period of this.#choosePeriods(record.periods)) {
          const key = this.#raw(bucket, groupOf(period, this.#keyer.key(ms, unitOf(period))));
          let set = members.get(key);
          if (!set) members.set(key, (set = new Set()));
          set.add(id);
        }
      },
    );
    const op = this.#mode === 'exact' ? 'setAdd' : 'hllAdd';
    await this.#backend.write([...members].map(([key, ids]) => ({ op, key, members: [...ids] })));
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
   * crash leaves either the raw sets or the counts, never neither.
   */
  async collapse(args: CollapseArgs = {}): Promise<void> {
    if (typeof args !== 'object' || args === null)
      throw new InvalidArgumentError('args', args, 'must be an object');
    const ms = this.#time(args.date, 'date');
    const maxPeriods = args.maxPeriods === undefined ? 1 : args.maxPeriods;
    if (!Number.isSafeInteger(maxPeriods) || maxPeriods < 1) {
      throw new InvalidArgumentError('maxPeriods', maxPeriods, 'must be an integer >= 1');
    }
    const aggregates = validateAggregates(args.aggregateBuckets);
    const listed = validateBuckets(args.buckets === undefined ? [DEFAULT_BUCKET] : args.buckets, 'buckets');
    for (const name of aggregates.keys()) {
      if (listed.includes(name)) {
        throw new InvalidArgumentError(
          'aggregateBuckets',
          name,
          'an aggregate must not share its name with a bucket',
        );
      }
    }
    // An aggregate's members are collapsed with it: their raw ids are needed for the union.
    const buckets = [...new Set([...listed, ...[...aggregates.values()].flat()])];
    for (const period of this.#choosePeriods(args.periods)) {
      // The periods to collapse: newest first, back to the first one already collapsed.
      const window: Instance[] = [];
      let cursor = instanceAt(period, ms, this.#zone).startMs - 1;
      for (let n = 0; n < maxPeriods; n++) {
        const instance = instanceAt(period, cursor, this.#zone);
        window.push(instance);
        cursor = instance.startMs - 1;
      }
      const done = await this.#backend.read(
        window.map((i) => ({ op: 'exists' as const, key: this.#marker(i.group) })),
      );
      const firstDone = done.indexOf(true);
      const pending = firstDone < 0 ? window : window.slice(0, firstDone);
      // Collapse them oldest first: if this run dies midway, the collapsed periods are the
      // oldest ones, and the next run walks back from the newest down to them again.
      for (const instance of pending.reverse()) await this.#collapseOne(instance, buckets, aggregates);
    }
  }

  collapseDaily(args: Omit<CollapseArgs, 'periods'> = {}): Promise<void> {
    return this.collapse({ ...args, periods: ['daily'] });
  }

  collapseWeekly(args: Omit<CollapseArgs, 'periods'> = {}): Promise<void> {
    return this.collapse({ ...args, periods: ['weekly'] });
  }

  collapseMonthly(args: Omit<CollapseArgs, 'periods'> = {}): Promise<void> {
    return this.collapse({ ...args, periods: ['monthly'] });
  }

  /**
   * Every period whose start lies in [start, end), oldest first, in one round trip.
   * Collapsed periods report their stored counts (`final: true`); others their live counts.
   */
  async lookup(args: LookupArgs): Promise<LookupRow[]> {
    if (typeof args !== 'object' || args === null) {
      throw new InvalidArgumentError('args', args, 'must be an object { period, start?, end?, buckets? }');
    }
    validatePeriod(args.period);
    if (!this.#periods.includes(args.period)) {
      throw new InvalidArgumentError(
        'period',
        args.period,
        `is not tracked (tracked: ${this.#periods.join(', ')})`,
      );
    }
    const endMs = this.#time(args.end, 'end');
    const startMs =
      args.start === undefined
        ? DateTime.fromMillis(endMs, { zone: this.#zone }).minus({ days: 365 }).toMillis()
        : this.#time(args.start, 'start');
    if (startMs > endMs)
      throw new InvalidArgumentError('start', args.start, 'the lookup starts after its end');
    const buckets = validateBuckets(args.buckets === undefined ? [DEFAULT_BUCKET] : args.buckets, 'buckets');
    const aggregates = validateAggregates(args.aggregateBuckets);
    const span = range(unitOf(args.period), new Date(startMs), new Date(endMs), { zone: this.#zone });
    const instances: Instance[] = [];
    for (const bucket of span) {
      if (bucket.startMs >= startMs) instances.push(instanceAt(args.period, bucket.startMs, this.#zone));
    }
    const kind = this.#mode === 'exact' ? 'setCardinality' : 'hllCount';
    const ops: ReadOp[] = [];
    for (const instance of instances) {
      ops.push({ op: 'exists', key: this.#marker(instance.group) });
      for (const bucket of buckets) {
        const members = aggregates.get(bucket) ?? [bucket];
        ops.push({ op: 'get', key: this.#count(bucket, instance.group) });
        ops.push({ op: kind, keys: members.map((m) => this.#raw(m, instance.group)) });
      }
    }
    const results = await this.#backend.read(ops);
    let next = 0;
    return instances.map((instance) => {
      const final = results[next++] as boolean;
      const counts: Record<string, number> = {};
      for (const bucket of buckets) {
        const stored = results[next++] as string | null;
        const live = results[next++] as number;
        setCount(counts, bucket, final ? Number(stored ?? 0) : live);
      }
      return { date: instance.date, counts, final };
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

  #collapseOne(instance: Instance, buckets: string[], aggregates: Map<string, string[]>): Promise<boolean> {
    const kind = this.#mode === 'exact' ? 'set' : 'hll';
    const ops: WriteOp[] = [];
    for (const bucket of buckets) {
      ops.push({
        op: 'storeCardinality',
        key: this.#count(bucket, instance.group),
        kind,
        sources: [this.#raw(bucket, instance.group)],
      });
    }
    for (const [name, members] of aggregates) {
      ops.push({
        op: 'storeCardinality',
        key: this.#count(name, instance.group),
        kind,
        sources: members.map((m) => this.#raw(m, instance.group)),
      });
    }
    ops.push({ op: 'set', key: this.#marker(instance.group), value: String(Date.now()) });
    ops.push({ op: 'delete', keys: buckets.map((b) => this.#raw(b, instance.group)) });
    return this.#backend.write(ops, { atomic: true, unlessExists: this.#marker(instance.group) });
  }

  #add(group: string, bucket: string, id: string): WriteOp {
    const key = this.#raw(bucket, group);
    return this.#mode === 'exact'
      ? { op: 'setAdd', key, members: [id] }
      : { op: 'hllAdd', key, members: [id] };
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

  #time(value: unknown, argument: string): number {
    if (value === undefined) return this.#now().getTime();
    if (typeof value === 'string') {
      const dt = DateTime.fromISO(value, { zone: this.#zone });
      if (!dt.isValid) throw new InvalidArgumentError(argument, value, 'not a valid ISO 8601 date');
      return dt.toMillis();
    }
    return toEpochMs(value, argument);
  }

  /** Raw ids of a bucket in one period instance (its locality group). */
  #raw(bucket: string, group: string): string {
    return keyOf(this.#prefix, 'raw', encodeKeySegment(bucket), group);
  }

  #count(bucket: string, group: string): string {
    return keyOf(this.#prefix, 'n', encodeKeySegment(bucket), group);
  }

  #marker(group: string): string {
    return keyOf(this.#prefix, 'done', group);
  }
}
