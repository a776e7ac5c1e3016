import { ActivityTracker, type ActivityTrackerOptions } from '@porpoise/activity';
import { type CounterQuery, Counters, type CountersOptions, type CountRecord } from '@porpoise/counters';
import {
  type BreakdownCount,
  type BreakdownCountsOptions,
  breakdownCounts,
  type CohortOptions,
  type CohortRow,
  cohort,
  type EventQuery,
  type EventRecord,
  Events,
  type EventsOptions,
  type FunnelOptions,
  type FunnelResult,
  funnel,
  type LifecycleOptions,
  type LifecycleResult,
  lifecycle,
  type RetentionOptions,
  type RetentionResult,
  retention,
  type StickinessOptions,
  type StickinessResult,
  stickiness,
} from '@porpoise/events';
import { type Backend, InvalidArgumentError, MemoryBackend, validateBackend } from '@porpoise/storage';
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
  /** Options for the events alone; they win over the shared ones above. */
  events?: EventsOptions;
  /** Options for the counters alone; they win over the shared ones above. */
  counters?: CountersOptions;
  /** Options for the activity tracker alone (periods, mode, prefix). */
  activity?: ActivityTrackerOptions;
}

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
export class Analytics {
  /** The backend every part writes to (a fresh `MemoryBackend` when none was given). */
  readonly backend: Backend;
  /** The underlying `Events` (bitmaps: who did what, when). */
  readonly eventStore: Events;
  /** The underlying `Counters` (per-id counts per bucket). */
  readonly counterStore: Counters;
  /** Daily/weekly/monthly active users. */
  readonly activity: ActivityTracker;

  constructor(backend?: Backend, options: AnalyticsOptions = {}) {
    if (backend !== undefined) validateBackend(backend);
    if (typeof options !== 'object' || options === null || Array.isArray(options)) {
      throw new InvalidArgumentError('options', options, 'must be an options object');
    }
    const shared = given({
      zone: options.zone,
      weekStart: options.weekStart,
      resolutions: options.resolutions,
      now: options.now,
    });
    const eventOptions = section(options.events, 'options.events');
    const counterOptions = section(options.counters, 'options.counters');
    const activityOptions = section(options.activity, 'options.activity');
    this.backend = backend ?? new MemoryBackend();
    this.eventStore = new Events(this.backend, { ...shared, ...eventOptions });
    this.counterStore = new Counters(this.backend, { ...shared, ...counterOptions });
    this.activity = new ActivityTracker(
      this.backend,
      given({ zone: options.zone, now: options.now, ...activityOptions }),
    );
  }

  // Methods are arrow properties, bound to this instance: `const { event, events } = porpoise`
  // and `const events = porpoise.events` work, as the Python original's module-style calls did.

  /** Record that `id` did `name` at `at` (default now). Same-tick calls share one write. */
  readonly event = (name: string, id: number, at?: Instant): Promise<void> =>
    this.eventStore.event(name, id, at);

  /** Record many events in one write, all validated first. */
  readonly eventMany = (records: Iterable<EventRecord>): Promise<void> => this.eventStore.eventMany(records);

  /** Remove `id` from `name` at `at` (default now). */
  readonly unevent = (name: string, id: number, at?: Instant): Promise<void> =>
    this.eventStore.unevent(name, id, at);

  /** Add `by` (default 1) to `id` (default 'all') of counter `key` at `at` (default now). */
  readonly count = (key: string, id?: string | number, by?: number, at?: Instant): Promise<void> =>
    this.counterStore.count(key, id, by, at);

  /** Many counts in one write, all validated first. */
  readonly countMany = (records: Iterable<CountRecord>): Promise<void> =>
    this.counterStore.countMany(records);

  /** A query over one event: combine with `and`/`or`/`xor`/`andNot`/`not`, then `over`/`counts`/`union`. */
  readonly events = (name: string): EventQuery => this.eventStore.get(name);

  /** A query over one counter key: `over(range)` or `sum(range)`. */
  readonly counters = (key: string): CounterQuery => this.counterStore.get(key);

  /** The retention table of `@porpoise/events`' `cohort`, for queries made by this instance. */
  readonly cohort = (options: CohortOptions): Promise<CohortRow[]> => cohort(options, this.eventStore);

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
