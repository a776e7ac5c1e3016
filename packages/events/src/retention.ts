/**
 * Retention grids and curves at bucket grain: every cell is one bit count, all in one backend
 * read, counted where the data lives.
 */
import { type BitExpr, bit, checkRange, type Operation, traced } from '@porpoise/storage';
import {
  type Bucket,
  type Instant,
  InvalidArgumentError,
  type TimeRange,
  type Unit,
} from '@porpoise/timerange';
import {
  bucketsFrom,
  bucketsIn,
  checkLeaves,
  historyCover,
  ratio,
  requireBreakdown,
  requireInteger,
  requireQuery,
  requireUnit,
  sharedContext,
  sinceOf,
} from './analysis.js';
import type { Events } from './events.js';
import { type EventQuery, universeOf } from './query.js';

export type RetentionKind = 'exact' | 'on-or-after';
export type RetentionCohort = 'recurring' | 'first-time';

export interface RetentionOptions {
  /** What puts a user in the cohort of a bucket (e.g. signup, or any activity). */
  start: EventQuery;
  /** What counts as coming back. Default: `start`. */
  returning?: EventQuery;
  /** The grain of cohorts and periods. Default: the range's unit (a finer unit splits it). */
  unit?: Unit;
  /** The cohort buckets. */
  range: TimeRange;
  /** Periods per cohort, period 0 (the cohort's own bucket) included: at least 1. */
  periods: number;
  /** 'exact' (default): returned in period k. 'on-or-after': in period k or any later started one of the grid. */
  kind?: RetentionKind;
  /** 'recurring' (default): everyone who did `start` in the bucket. 'first-time': only those who never did it before. */
  cohort?: RetentionCohort;
  /** For 'first-time': how far back "before" reaches. Default: 730 days before the range. */
  since?: Instant;
  /** One grid per query: the cohorts restricted to the users who did it in any bucket of `range`. */
  breakdown?: EventQuery[];
}

export interface RetentionCell {
  /** 0 is the cohort's own bucket. */
  period: number;
  /** The period's bucket (for 'on-or-after': the first of the buckets it spans). */
  bucket: Bucket;
  retained: number;
  /** retained / size (0 for an empty cohort). */
  rate: number;
  /** A bucket the cell counts has not ended: it may still grow. */
  partial: boolean;
}

export interface RetentionRow {
  bucket: Bucket;
  size: number;
  /** The cohort's bucket has not ended: its size may still grow. */
  partial: boolean;
  /** One per period that has started by now, from period 0. */
  cells: RetentionCell[];
}

export interface RetentionPoint {
  period: number;
  /** Sum of the cell over the cohorts that have it. */
  retained: number;
  /** Sum of those cohorts' sizes. */
  size: number;
  /** retained / size: the average of the cohorts' rates weighted by their sizes. */
  rate: number;
  /** How many cohorts have reached this period. */
  cohorts: number;
  partial: boolean;
}

export interface RetentionGrid {
  rows: RetentionRow[];
  curve: RetentionPoint[];
}

export interface RetentionResult extends RetentionGrid {
  unit: Unit;
  kind: RetentionKind;
  cohort: RetentionCohort;
  periods: number;
  /** breakdowns[i]: the grid of the users of breakdown[i]. */
  breakdowns: RetentionGrid[];
}

/**
 * The retention grid: per cohort bucket, its size and how many of its members came back in
 * each period that has started, plus the size-weighted average curve. One backend read.
 */
export function retention(options: RetentionOptions, events?: Events): Promise<RetentionResult> {
  return traced('events.retention', undefined, (op) => retentionTraced(op, options, events));
}

async function retentionTraced(
  op: Operation,
  options: RetentionOptions,
  events?: Events,
): Promise<RetentionResult> {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError('options', options, 'must be an options object');
  }
  const start = requireQuery(options.start, 'start');
  const returning = options.returning === undefined ? start : requireQuery(options.returning, 'returning');
  const breakdown = requireBreakdown(options.breakdown);
  const kind = options.kind === undefined ? 'exact' : options.kind;
  if (kind !== 'exact' && kind !== 'on-or-after') {
    throw new InvalidArgumentError('kind', kind, "must be 'exact' or 'on-or-after'");
  }
  const cohortKind = options.cohort === undefined ? 'recurring' : options.cohort;
  if (cohortKind !== 'recurring' && cohortKind !== 'first-time') {
    throw new InvalidArgumentError('cohort', cohortKind, "must be 'recurring' or 'first-time'");
  }
  const context = sharedContext(
    [
      { query: start, argument: 'start' },
      { query: returning, argument: 'returning' },
      ...breakdown.map((query, i) => ({ query, argument: `breakdown[${i}]` })),
    ],
    events,
  );
  op.backend(context.backend.name);
  const periods = requireInteger(options.periods, 'periods', 1, 1000);
  const { range } = options;
  checkRange(range, context.options);
  const unit = options.unit === undefined ? range.unit : requireUnit(options.unit, 'unit', context.options);
  const cohorts = bucketsIn(range, unit, 'unit');
  const span = cohorts.length === 0 ? 0 : cohorts.length + periods - 1;
  checkLeaves(span, unit, 2 + breakdown.length, context.options, 'range');
  const history =
    cohortKind === 'first-time' && cohorts.length > 0
      ? historyCover(sinceOf(options.since, cohorts[0]!.startMs), cohorts[0]!.startMs, context.options)
      : [];

  const now = context.options.now().getTime();
  const timeline = cohorts.length === 0 ? [] : bucketsFrom(cohorts[0]!.startMs, span, unit, context.options);
  const universe = await universeOf([start, returning, ...breakdown], context);
  const startAt = timeline.map((b) => start.expression(b, universe));
  const returnedAt = timeline.map((b) => returning.expression(b, universe));
  const earlier = history.map((b) => start.expression(b, universe));
  const started = cohorts.filter((b) => b.startMs <= now);
  const segments: BitExpr[] = breakdown.map((query) =>
    started.length === 0 ? bit.or() : bit.or(...started.map((b) => query.expression(b, universe))),
  );

  const ops: Array<{ op: 'bitCount'; expr: BitExpr }> = [];
  const count = (expr: BitExpr): number[] =>
    [expr, ...segments.map((segment) => bit.and(expr, segment))].map(
      (e) => ops.push({ op: 'bitCount', expr: e }) - 1,
    );
  const layout = cohorts.map((bucket, i) => {
    let members = startAt[i]!;
    if (cohortKind === 'first-time') {
      const before = [...earlier, ...startAt.slice(0, i)];
      if (before.length > 0)
        members = bit.andNot(members, before.length === 1 ? before[0]! : bit.or(...before));
    }
    const size = bucket.startMs > now ? null : count(members);
    let last = -1; // the last period that has started
    while (last + 1 < periods && timeline[i + last + 1]!.startMs <= now) last++;
    const cells = Array.from({ length: last + 1 }, (_, k) => {
      const spans = kind === 'exact' ? [i + k] : Array.from({ length: last - k + 1 }, (_, j) => i + k + j);
      const returned =
        spans.length === 1 ? returnedAt[spans[0]!]! : bit.or(...spans.map((t) => returnedAt[t]!));
      return {
        period: k,
        bucket: timeline[i + k]!,
        partial: spans.some((t) => timeline[t]!.endMs > now),
        slots: count(bit.and(members, returned)),
      };
    });
    return { bucket, size, cells };
  });
  const counts = ops.length === 0 ? [] : await context.backend.read(ops);

  const grid = (which: number): RetentionGrid => {
    const rows = layout.map(({ bucket, size, cells }) => {
      const members = size === null ? 0 : counts[size[which]!]!;
      return {
        bucket,
        size: members,
        partial: bucket.endMs > now,
        cells: cells.map(({ period, bucket: at, partial, slots }) => {
          const retained = counts[slots[which]!]!;
          return { period, bucket: at, retained, rate: ratio(retained, members), partial };
        }),
      };
    });
    const curve: RetentionPoint[] = [];
    for (let k = 0; k < periods; k++) {
      const having = rows.filter((row) => row.cells.length > k);
      if (having.length === 0) break;
      const retained = having.reduce((n, row) => n + row.cells[k]!.retained, 0);
      const size = having.reduce((n, row) => n + row.size, 0);
      curve.push({
        period: k,
        retained,
        size,
        rate: ratio(retained, size),
        cohorts: having.length,
        partial: having.some((row) => row.cells[k]!.partial),
      });
    }
    return { rows, curve };
  };
  return {
    unit,
    kind,
    cohort: cohortKind,
    periods,
    ...grid(0),
    breakdowns: breakdown.map((_, j) => grid(j + 1)),
  };
}
