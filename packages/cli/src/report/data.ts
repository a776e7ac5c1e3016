/** What the report shows, read through the library in a handful of queries. */
import type { Analytics, LookupRow } from '@porpoise/analytics';
import { dayrange, weekrange } from '@porpoise/analytics';

export interface ReportOptions {
  active: string;
  cohort: string;
  counter: string;
  buckets: string[];
  aggregates: Record<string, string[]>;
  days: number;
  weeks: number;
  top: number;
  zone: string;
  now: Date;
  /** The funnel's steps (default: the demo's signup funnel). */
  funnel?: string[];
}

export const DEFAULT_FUNNEL = ['signup', 'first-play', 'playlist:created', 'subscribed'];

export interface ReportData {
  generatedFor: string;
  zone: string;
  source: { backend: string; demo: boolean; users?: number; prefix?: string };
  description: string;
  names: { active: string; cohort: string; counter: string };
  days: number;
  weeks: number;
  /** One entry per day of the last `days` whole days. */
  dau: Array<{ key: string; date: string; weekday: number; count: number }>;
  /** Ids active on any of those days. */
  uniques: number;
  /** `partial`: the cohort's week has not ended; `partialPeriods[k-1]`: week k has not. */
  retention: Array<{
    key: string;
    start: string;
    size: number;
    retained: number[];
    rates: number[];
    partial: boolean;
    partialPeriods: boolean[];
  }>;
  counters: { key: string; total: number; ids: number; top: Array<{ id: string; count: number }> };
  activity: { names: string[]; aggregates: Record<string, string[]>; rows: LookupRow[] };
  /** Funnel over the `days` starts with a 7-day window. */
  funnel: Array<{ event: string; count: number; fromPrevious: number; fromStart: number }>;
  /** Weekly retention of `cohort` → `active`, averaged over cohorts weighted by size, from period 0. */
  curve: Array<{ period: number; rate: number; retained: number; size: number; partial: boolean }>;
  /** Weekly lifecycle of `active` over the last `weeks` weeks. */
  lifecycle: Array<{ key: string; new: number; returning: number; resurrecting: number; dormant: number }>;
  /** The last whole week: users of `active` on exactly k of its days. */
  stickiness: { key: string; counts: number[] };
  version: string;
}

export async function gatherReport(
  analytics: Analytics,
  options: ReportOptions,
  meta: Pick<ReportData, 'source' | 'description' | 'version'>,
): Promise<ReportData> {
  const at = { zone: options.zone, now: options.now };
  const days = dayrange(-options.days, 0, at);
  const active = analytics.events(options.active);
  const [dau, union, cohort, counted] = await Promise.all([
    active.counts(days),
    active.union(days),
    analytics.cohort({
      cohort: analytics.events(options.cohort),
      activity: active,
      range: weekrange(-options.weeks, 0, at),
      periods: options.weeks,
    }),
    analytics.counters(options.counter).sum(days),
  ]);
  const names = [...new Set([...options.buckets, ...Object.keys(options.aggregates)])];
  const activity = await analytics.activity.lookupDaily({
    start: new Date(days.startMs),
    end: new Date(days.endMs),
    buckets: names,
    aggregateBuckets: options.aggregates,
    // An overview of whatever was recorded: a bucket with no activity shows 0, as events do.
    allowUnknownBuckets: true,
  });
  const steps = options.funnel ?? DEFAULT_FUNNEL;
  const weeks = weekrange(-options.weeks, 0, at);
  const [funnel, retention, lifecycle, stickiness] = await Promise.all([
    analytics.funnel({ steps: steps.map((name) => analytics.events(name)), range: days, window: 7 }),
    analytics.retention({
      start: analytics.events(options.cohort),
      returning: active,
      range: weeks,
      periods: options.weeks,
    }),
    analytics.lifecycle({ query: active, range: weeks }),
    analytics.stickiness({ query: active, range: weekrange(-1, 0, at) }),
  ]);
  return {
    funnel: funnel.steps.map((s, k) => ({
      event: steps[k]!,
      count: s.count,
      fromPrevious: s.fromPrevious,
      fromStart: s.fromStart,
    })),
    curve: retention.curve.map(({ period, rate, retained, size, partial }) => ({
      period,
      rate,
      retained,
      size,
      partial,
    })),
    lifecycle: lifecycle.periods.map((p) => ({
      key: p.bucket.key,
      new: p.new,
      returning: p.returning,
      resurrecting: p.resurrecting,
      dormant: p.dormant,
    })),
    stickiness: {
      key: stickiness.periods[0]?.bucket.key ?? '',
      counts: stickiness.periods[0]?.counts ?? [],
    },
    generatedFor: options.now.toISOString(),
    zone: options.zone,
    ...meta,
    names: { active: options.active, cohort: options.cohort, counter: options.counter },
    days: options.days,
    weeks: options.weeks,
    dau: dau.map(({ bucket, count }) => ({
      key: bucket.key,
      date: bucket.start.toISODate()!,
      weekday: bucket.start.weekday,
      count,
    })),
    uniques: union.size,
    retention: cohort.map((row) => ({
      key: row.bucket.key,
      start: row.bucket.start.toISODate()!,
      size: row.size,
      retained: row.retained,
      rates: row.rates,
      partial: row.partial,
      partialPeriods: row.cells.map((cell) => cell.partial),
    })),
    counters: {
      key: options.counter,
      total: counted.total,
      ids: counted.values.size,
      top: counted.top(options.top).map(([id, count]) => ({ id, count })),
    },
    activity: { names, aggregates: options.aggregates, rows: activity },
  };
}
