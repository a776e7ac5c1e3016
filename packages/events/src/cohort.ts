import { bit, checkRange, type Operation, traced } from '@porpoise/storage';
import { type Bucket, bucketOf, InvalidArgumentError, type TimeRange } from '@porpoise/timerange';
import { evaluate, type Request } from './evaluate.js';
import { type AnyEvents, Events } from './events.js';
import { IdentifiedQuery } from './identified.js';
import { EventQuery, universeOf } from './query.js';

export interface CohortOptions {
  /** Who enters a cohort in a bucket (e.g. signups). */
  cohort: EventQuery | IdentifiedQuery;
  /** What counts as retained in a later bucket (e.g. active). */
  activity: EventQuery | IdentifiedQuery;
  /** The cohort buckets. */
  range: TimeRange;
  /** How many following periods to follow each cohort. Default 12. */
  periods?: number;
}

export interface CohortCell {
  /** The later bucket: `k` periods after the cohort's. */
  bucket: Bucket;
  retained: number;
  rate: number;
  /** The bucket has not ended by now: the count may still grow. */
  partial: boolean;
}

export interface CohortRow {
  bucket: Bucket;
  size: number;
  /** retained[k-1]: members who did `activity` k periods after their cohort bucket. */
  retained: number[];
  /** retained / size (0 for an empty cohort). */
  rates: number[];
  /** The cohort's bucket has not ended by now: its size (and every rate) may still change. */
  partial: boolean;
  /** cells[k-1]: retained[k-1] and rates[k-1] with their bucket, flagged partial while it runs. */
  cells: CohortCell[];
}

/**
 * The retention table: for each cohort bucket, its size and how many of its members did
 * `activity` in each following period that has started by now. All counts in one read.
 * Rows and cells whose bucket has not ended are `partial`; leading empty cohorts are left out.
 */
export function cohort(options: CohortOptions, events?: AnyEvents): Promise<CohortRow[]> {
  return traced('events.cohort', undefined, (op) => cohortTraced(op, options, events));
}

async function cohortTraced(op: Operation, options: CohortOptions, events?: AnyEvents): Promise<CohortRow[]> {
  // Cohorts only count: queries with external ids run on their integers.
  const integers = (q: unknown) => (q instanceof IdentifiedQuery ? q.integers : q);
  const { range } = options ?? ({} as CohortOptions);
  const who = integers(options?.cohort);
  const activity = integers(options?.activity);
  const periods = options?.periods === undefined ? 12 : options?.periods;
  if (!(who instanceof EventQuery)) throw new InvalidArgumentError('cohort', who, 'must be an EventQuery');
  if (!(activity instanceof EventQuery))
    throw new InvalidArgumentError('activity', activity, 'must be an EventQuery');
  if (!Number.isSafeInteger(periods) || periods < 0 || periods > 1000) {
    throw new InvalidArgumentError('periods', periods, 'must be an integer in [0, 1000]');
  }
  const context = EventQuery.contextOf(who);
  op.backend(context.backend.name);
  if (EventQuery.contextOf(activity) !== context || (events && Events.context(events) !== context)) {
    throw new InvalidArgumentError(
      'activity',
      'EventQuery',
      'cohort and activity must come from the same Events',
    );
  }
  checkRange(range, context.options);
  const now = context.options.now().getTime();
  const buckets = [...range];
  const following: Bucket[] = [];
  let cursor = range.endMs;
  for (let k = 0; k < periods; k++) {
    const next = bucketOf(cursor, range.unit, context.options);
    if (next.startMs > now) break;
    following.push(next);
    cursor = next.endMs;
  }
  const timeline = [...buckets, ...following];
  // Cohorts past the end of the range still follow into later buckets (the triangle).
  const universe = await universeOf([who, activity], context);
  const ops: Request[] = [];
  const layout: Array<{ row: number; k: number }> = [];
  buckets.forEach((bucket, i) => {
    const members = who.expression(bucket, universe);
    ops.push({ kind: 'count', expr: members });
    layout.push({ row: i, k: 0 });
    for (let k = 1; k <= periods; k++) {
      const later = timeline[i + k];
      if (!later || later.startMs > now) break;
      ops.push({ kind: 'count', expr: bit.and(members, activity.expression(later, universe)) });
      layout.push({ row: i, k });
    }
  });
  const literals = new Map([...who.literals(), ...activity.literals()]);
  const counts = (await evaluate(context.backend, ops, literals)).results as number[];
  const rows: CohortRow[] = buckets.map((bucket) => ({
    bucket,
    size: 0,
    retained: [],
    rates: [],
    partial: bucket.endMs > now,
    cells: [],
  }));
  layout.forEach(({ row, k }, i) => {
    const r = rows[row]!;
    if (k === 0) r.size = counts[i]!;
    else r.retained.push(counts[i]!);
  });
  rows.forEach((r, i) => {
    r.rates = r.retained.map((n) => (r.size === 0 ? 0 : n / r.size));
    r.cells = r.retained.map((retained, k) => {
      const bucket = timeline[i + k + 1]!;
      return { bucket, retained, rate: r.rates[k]!, partial: bucket.endMs > now };
    });
  });
  // Cohorts before the first that has members (a range reaching back before the data) say
  // nothing: they are left out. Empty cohorts after it are kept, as real zeros.
  const first = rows.findIndex((r) => r.size > 0);
  return first < 0 ? [] : rows.slice(first);
}
