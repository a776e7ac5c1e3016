import { ActivityTracker, type ActivityTrackerOptions } from '@porpoise/activity';
import {
  type CounterQuery,
  type CounterStatsRow,
  Counters,
  type CountersOptions,
  type CountRecord,
} from '@porpoise/counters';
import {
  type AnyEvents,
  type BreakdownCount,
  type BreakdownCountsOptions,
  breakdownCounts,
  type CohortOptions,
  type CohortRow,
  cohort,
  type DeleteResult,
  type EventId,
  type EventQuery,
  type EventRecord,
  type EventStats,
  Events,
  type EventsOptions,
  type FunnelOptions,
  type FunnelResult,
  funnel,
  type IdentityMap,
  type LifecycleOptions,
  type LifecycleResult,
  lifecycle,
  type MarkRecord,
  type QueryOf,
  type RetentionOptions,
  type RetentionResult,
  retention,
  type StickinessOptions,
  type StickinessResult,
  stickiness,
} from '@porpoise/events';
import { Identities } from '@porpoise/identity';
import {
  type Backend,
  type BatchOptions,
  type DeleteOptions,
  InvalidArgumentError,
  type ListOptions,
  MemoryBackend,
  type RetentionPolicy,
  validateBackend,
} from '@porpoise/storage';
import type { Instant, TimeInput, TimeRange, Unit, WeekStart } from '@porpoise/timerange';

export interface AnalyticsOptions {
  /** IANA zone of every bucket, period and range default. Default 'UTC'. */
  zone?: string;
  /** 1 = ISO weeks (default), 7 = weeks starting Sunday. For events and counters. */
  weekStart?: WeekStart;
  /** Units events and counters are recorded at. Default hour, day, week and month. */
  resolutions?: Unit[];
  /** The clock for calls without a time. Default: the system clock. */
  now?: () => Date;
  /**
   * Per unit, how long events' and counters' buckets are kept after they end, e.g.
   * `{ hour: '35d', day: '400d' }`. Every unit named must be recorded.
   */
  retention?: RetentionPolicy;
  /** Options for the events alone; they win over the shared ones above. */
  events?: EventsOptions;
  /** Options for the counters alone; they win over the shared ones above. */
  counters?: CountersOptions;
  /** Options for the activity tracker alone (periods, mode, prefix). */
  activity?: ActivityTrackerOptions;
  /**
   * String ids for events: `true` wires a new `Identities` (from `@porpoise/identity`, on the
   * same backend, dictionary 'ids') into the events, or pass your own. Events then take
   * UUIDs, emails or numbers and list them back; see `analytics.identities` for `link`.
   */
  identities?: true | IdentityMap;
}

/** The events options an Analytics made with `O` passes on. */
export type AnalyticsEventsOptions<O extends AnalyticsOptions> = O extends { identities: true | IdentityMap }
  ? EventsOptions & { identities: IdentityMap }
  : EventsOptions;

function section<T extends object>(value: T | undefined, argument: string): T | undefined {
  if (value !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value))) {
    throw new InvalidArgumentError(argument, value, 'must be an options object');
  }
  return value;
}

/** Copies only the options that were given, so each package applies its own defaults. */
function given<T extends object>(options: T): T {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as T;
}

/**
 * Events, counters and active users on one backend, with the shape of the original Python
 * Porpoise (`Analytics().event(...)`, `.count(...)`, `.events(name)`, `.counters(key)`).
 * Every call is delegated unchanged to `@porpoise/events`, `@porpoise/counters` and
 * `@porpoise/activity`; use those directly when you need only one of them.
 */
export class Analytics<O extends AnalyticsOptions = AnalyticsOptions> {
  /** The backend every part writes to (a fresh `MemoryBackend` when none was given). */
  readonly backend: Backend;
  /** The underlying `Events` (bitmaps: who did what, when). */
  readonly eventStore: Events<AnalyticsEventsOptions<O>>;
  /** The id dictionary of the events, when made with `identities` (link visitors to users with it). */
  readonly identities: O extends { identities: true }
    ? Identities
    : O extends { identities: IdentityMap }
      ? O['identities']
      : undefined;
  /** The underlying `Counters` (per-id counts per bucket). */
  readonly counterStore: Counters;
  /** Daily/weekly/monthly active users. */
  readonly activity: ActivityTracker;

  constructor(backend?: Backend, options: O = {} as O) {
    if (backend !== undefined) validateBackend(backend);
    if (typeof options !== 'object' || options === null || Array.isArray(options)) {
      throw new InvalidArgumentError('options', options, 'must be an options object');
    }
    const shared = given({
      zone: options.zone,
      weekStart: options.weekStart,
      resolutions: options.resolutions,
      now: options.now,
      retention: options.retention,
    });
    const eventOptions = section(options.events, 'options.events');
    const counterOptions = section(options.counters, 'options.counters');
    const activityOptions = section(options.activity, 'options.activity');
    this.backend = backend ?? new MemoryBackend();
    const identities = options.identities === true ? new Identities(this.backend) : options.identities;
    if (identities !== undefined && (typeof identities !== 'object' || identities === null)) {
      throw new InvalidArgumentError('identities', options.identities, 'must be true or an Identities');
    }
    this.identities = identities as this['identities'];
    this.eventStore = new Events(this.backend, {
      ...shared,
      ...eventOptions,
      ...(identities ? { identities } : {}),
    }) as Events<AnalyticsEventsOptions<O>>;
    this.counterStore = new Counters(this.backend, { ...shared, ...counterOptions });
    this.activity = new ActivityTracker(
      this.backend,
      given({ zone: options.zone, now: options.now, ...activityOptions }),
    );
  }

  // Methods are arrow properties, bound to this instance: `const { event, events } = porpoise`
  // and `const events = porpoise.events` work, as the Python original's module-style calls did.

  /** Record that `id` did `name` at `at` (default now). Same-tick calls share one write. */
  readonly event = (name: string, id: EventId<AnalyticsEventsOptions<O>>, at?: Instant): Promise<void> =>
    this.eventStore.event(name, id, at);

  /** Record many events in one write, all validated first. */
  readonly eventMany = (
    records: Iterable<EventRecord<EventId<AnalyticsEventsOptions<O>>>>,
    options?: BatchOptions,
  ): Promise<void> => this.eventStore.eventMany(records, options);

  /** Remove `id` from `name` at `at` (default now). */
  readonly unevent = (name: string, id: EventId<AnalyticsEventsOptions<O>>, at?: Instant): Promise<void> =>
    this.eventStore.unevent(name, id, at);

  /** Add `by` (default 1) to `id` (default 'all') of counter `key` at `at` (default now). */
  readonly count = (key: string, id?: string | number, by?: number, at?: Instant): Promise<void> =>
    this.counterStore.count(key, id, by, at);

  /** Many counts in one write, all validated first. */
  readonly countMany = (records: Iterable<CountRecord>, options?: BatchOptions): Promise<void> =>
    this.counterStore.countMany(records, options);

  /** A query over one event: combine with `and`/`or`/`xor`/`andNot`/`not`, then `over`/`counts`/`union`. */
  readonly events = (name: string): QueryOf<AnalyticsEventsOptions<O>> => this.eventStore.get(name);

  /** A query over one counter key: `over(range)` or `sum(range)`. */
  readonly counters = (key: string): CounterQuery => this.counterStore.get(key);

  /** Give `id` a time-less property (a segment such as 'plan:pro'). */
  readonly mark = (name: string, id: number): Promise<void> => this.eventStore.mark(name, id);

  /** Mark many (segment, id) pairs in one write. */
  readonly markMany = (records: Iterable<MarkRecord>): Promise<void> => this.eventStore.markMany(records);

  /** Take a segment away from `id`. */
  readonly unmark = (name: string, id: number): Promise<void> => this.eventStore.unmark(name, id);

  /** A query over a segment, combinable with any event query (applied to every bucket). */
  readonly segment = (name: string): EventQuery => this.eventStore.segment(name);

  /** A literal list of ids as a query operand. */
  readonly ids = (ids: Iterable<number>): EventQuery => this.eventStore.ids(ids);

  /** The event names recorded, sorted (optionally only those starting with `prefix`). */
  readonly names = (options?: ListOptions): Promise<string[]> => this.eventStore.names(options);

  /** The segment names marked, sorted. */
  readonly segments = (options?: ListOptions): Promise<string[]> => this.eventStore.segments(options);

  /** The counter keys counted, sorted (optionally only those starting with `prefix`). */
  readonly counterKeys = (options?: ListOptions): Promise<string[]> => this.counterStore.keys(options);

  /** The activity buckets ever tracked, sorted. */
  readonly buckets = (): Promise<string[]> => this.activity.buckets();

  /** Delete every bucket of event `name`, in bounded batches. */
  readonly deleteEvent = (name: string, options?: DeleteOptions): Promise<DeleteResult> =>
    this.eventStore.delete(name, options);

  /** Delete every bucket of counter `key`, in bounded batches. */
  readonly deleteCounter = (key: string, options?: DeleteOptions): Promise<DeleteResult> =>
    this.counterStore.delete(key, options);

  /** Delete every event, segment and counter of this instance's namespaces (activity is kept). */
  readonly deleteAll = async (
    options?: DeleteOptions,
  ): Promise<{ events: DeleteResult; counters: DeleteResult }> => ({
    events: await this.eventStore.deleteAll(options),
    counters: await this.counterStore.deleteAll(options),
  });

  /** What the events and counters hold, per name and resolution. */
  readonly stats = async (): Promise<{ events: EventStats; counters: CounterStatsRow[] }> => ({
    events: await this.eventStore.stats(),
    counters: await this.counterStore.stats(),
  });

  /** The retention table of `@porpoise/events`' `cohort`, for queries made by this instance. */
  readonly cohort = (options: CohortOptions): Promise<CohortRow[]> =>
    cohort(options, this.eventStore as AnyEvents);

  /** `@porpoise/events`' `funnel`: how many users reached each step within the window of their step 1. */
  readonly funnel = (options: FunnelOptions): Promise<FunnelResult> => funnel(options, this.eventStore);

  /** `@porpoise/events`' `retention`: the grid and its size-weighted curve. */
  readonly retention = (options: RetentionOptions): Promise<RetentionResult> =>
    retention(options, this.eventStore);

  /** `@porpoise/events`' `lifecycle`: new, returning, resurrecting and dormant users per period. */
  readonly lifecycle = (options: LifecycleOptions): Promise<LifecycleResult> =>
    lifecycle(options, this.eventStore);

  /** `@porpoise/events`' `stickiness`: per week or month, users active on exactly k of its days. */
  readonly stickiness = (options: StickinessOptions): Promise<StickinessResult> =>
    stickiness(options, this.eventStore);

  /** `@porpoise/events`' `breakdownCounts`: per-bucket counts with one count per breakdown. */
  readonly breakdownCounts = (options: BreakdownCountsOptions): Promise<BreakdownCount[]> =>
    breakdownCounts(options, this.eventStore);

  /**
   * Ranges in this instance's zone and week start, whose numeric offsets count from its clock
   * (`now`), so a pinned clock reaches them: `analytics.dayrange(-7)` is the seven days before
   * today by that clock. They follow the events' settings (the shared ones unless
   * `options.events` overrides them).
   */
  readonly range = (unit: Unit, start?: TimeInput, end?: TimeInput): TimeRange =>
    this.eventStore.range(unit, start, end);
  readonly minuterange = (start?: TimeInput, end?: TimeInput): TimeRange => this.range('minute', start, end);
  readonly hourrange = (start?: TimeInput, end?: TimeInput): TimeRange => this.range('hour', start, end);
  readonly dayrange = (start?: TimeInput, end?: TimeInput): TimeRange => this.range('day', start, end);
  readonly weekrange = (start?: TimeInput, end?: TimeInput): TimeRange => this.range('week', start, end);
  readonly monthrange = (start?: TimeInput, end?: TimeInput): TimeRange => this.range('month', start, end);
  readonly yearrange = (start?: TimeInput, end?: TimeInput): TimeRange => this.range('year', start, end);

  /** Closes the backend (and its connection, for Redis). */
  readonly close = (): Promise<void> => this.backend.close();
}
