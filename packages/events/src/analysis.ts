/**
 * What funnels, retention, lifecycle and stickiness share: argument checks, the buckets that
 * follow a range, and bitmap algebra on bitmaps already fetched (finished on the client with
 * the same evaluator the memory backend uses).
 */
import { type BitExpr, Bitmap, bit, MAX_QUERY_LEAVES, type ResolvedSeriesOptions } from '@porpoise/storage';
import {
  type Bucket,
  bucketOf,
  InvalidArgumentError,
  isUnit,
  resolutionFor,
  type TimeRange,
  toEpochMs,
  type Unit,
} from '@porpoise/timerange';
import { Events } from './events.js';
import { EventQuery, type QueryContext } from './query.js';

export function requireQuery(value: unknown, argument: string): EventQuery {
  if (!(value instanceof EventQuery)) {
    throw new InvalidArgumentError(argument, value, "must be an EventQuery, e.g. events.get('signup')");
  }
  return value;
}

/** The context every query shares (and `events`, when given), or an InvalidArgumentError. */
export function sharedContext(
  queries: ReadonlyArray<{ query: EventQuery; argument: string }>,
  events: Events | undefined,
): QueryContext {
  const context = events ? Events.context(events) : EventQuery.contextOf(queries[0]!.query);
  for (const { query, argument } of queries) {
    if (EventQuery.contextOf(query) !== context) {
      throw new InvalidArgumentError(argument, 'EventQuery', 'every query must come from the same Events');
    }
  }
  return context;
}

/** Optional list of breakdown queries: at most 50, each an EventQuery. */
export function requireBreakdown(value: unknown): EventQuery[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    throw new InvalidArgumentError('breakdown', value, 'must be an array of EventQuery');
  }
  if (value.length > 50) throw new InvalidArgumentError('breakdown', value.length, 'at most 50 breakdowns');
  return value.map((q, i) => requireQuery(q, `breakdown[${i}]`));
}

export function requireInteger(value: unknown, argument: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(argument, value, `must be an integer in [${min}, ${max}]`);
  }
  return value;
}

/** A unit the data can answer: recorded, or tiled by a recorded one. */
export function requireUnit(value: unknown, argument: string, options: ResolvedSeriesOptions): Unit {
  if (typeof value !== 'string' || !isUnit(value)) {
    throw new InvalidArgumentError(argument, value, 'must be minute, hour, day, week, month or year');
  }
  try {
    resolutionFor(value, options.resolutions);
  } catch {
    throw new InvalidArgumentError(
      argument,
      value,
      `is finer than the recorded resolutions (${options.resolutions.join(', ')}) or not tiled by them`,
    );
  }
  return value;
}

/** The range's buckets, in `unit` (the range split when `unit` is finer). */
export function bucketsIn(range: TimeRange, unit: Unit, argument: string): Bucket[] {
  if (unit === range.unit) return [...range];
  try {
    return [...range.split(unit)];
  } catch {
    throw new InvalidArgumentError(argument, unit, `must be ${range.unit} or a unit that tiles it`);
  }
}

/** `count` consecutive buckets of `unit` starting at `fromMs` (a bucket start). */
export function bucketsFrom(
  fromMs: number,
  count: number,
  unit: Unit,
  options: ResolvedSeriesOptions,
): Bucket[] {
  const out: Bucket[] = [];
  let cursor = fromMs;
  for (let i = 0; i < count; i++) {
    const next = bucketOf(cursor, unit, options);
    out.push(next);
    cursor = next.endMs;
  }
  return out;
}

/** The `count` buckets before `bucket`, oldest first. */
export function bucketsBefore(bucket: Bucket, count: number, options: ResolvedSeriesOptions): Bucket[] {
  const out: Bucket[] = [];
  let cursor = bucket.startMs;
  for (let i = 0; i < count; i++) {
    const previous = bucketOf(cursor - 1, bucket.unit, options);
    out.push(previous);
    cursor = previous.startMs;
  }
  return out.reverse();
}

/** Stored buckets one answer reads, over every query, against the bound of checkRange. */
export function checkLeaves(
  buckets: number,
  unit: Unit,
  queries: number,
  options: ResolvedSeriesOptions,
  argument: string,
): void {
  const stored = resolutionFor(unit, options.resolutions);
  const perBucket = stored === unit ? 1 : leavesPer(unit, stored);
  const leaves = buckets * perBucket * queries;
  if (leaves > MAX_QUERY_LEAVES) {
    throw new InvalidArgumentError(
      argument,
      `${buckets} ${unit} buckets × ${queries} queries`,
      `would read about ${leaves} stored ${stored} buckets; one answer reads at most ${MAX_QUERY_LEAVES}`,
    );
  }
}

const NOMINAL: Record<Unit, number> = {
  minute: 1,
  hour: 60,
  day: 1440,
  week: 10_080,
  month: 44_640,
  year: 527_040,
};

function leavesPer(unit: Unit, stored: Unit): number {
  return Math.ceil(NOMINAL[unit] / NOMINAL[stored]);
}

// Bitmap algebra on fetched bitmaps. Results are fresh bitmaps, never mutated afterwards, so
// operands may be shared freely. An absent operand (undefined) is the empty set.
const A = bit.key('a');
const B = bit.key('b');
const AND = bit.and(A, B);
const OR = bit.or(A, B);
const ANDNOT = bit.andNot(A, B);
const EMPTY = Bitmap.empty();

function resolver(a: Bitmap, b: Bitmap) {
  return (key: string) => (key === 'a' ? a : b);
}

export const local = {
  empty: EMPTY,
  and(a: Bitmap | undefined, b: Bitmap | undefined): Bitmap {
    if (!a || !b || a.isEmpty || b.isEmpty) return EMPTY;
    return Bitmap.evaluate(AND, resolver(a, b));
  },
  or(a: Bitmap | undefined, b: Bitmap | undefined): Bitmap {
    if (!a || a.isEmpty) return b ?? EMPTY;
    if (!b || b.isEmpty) return a;
    return Bitmap.evaluate(OR, resolver(a, b));
  },
  andNot(a: Bitmap | undefined, b: Bitmap | undefined): Bitmap {
    if (!a || a.isEmpty) return EMPTY;
    if (!b || b.isEmpty) return a;
    return Bitmap.evaluate(ANDNOT, resolver(a, b));
  },
  /** |a AND b| without materialising it. */
  countAnd(a: Bitmap | undefined, b: Bitmap | undefined): number {
    if (!a || !b || a.isEmpty || b.isEmpty) return 0;
    return Bitmap.count(AND, resolver(a, b));
  },
  /** Evaluate `expr` whose keys name entries of `bitmaps` (absent: empty). */
  evaluate(expr: BitExpr, bitmaps: ReadonlyMap<string, Bitmap>): Bitmap {
    return Bitmap.evaluate(expr, (key) => bitmaps.get(key));
  },
  count(expr: BitExpr, bitmaps: ReadonlyMap<string, Bitmap>): number {
    return Bitmap.count(expr, (key) => bitmaps.get(key));
  },
} as const;

/** a / b, 0 when b is 0. */
export function ratio(a: number, b: number): number {
  return b === 0 ? 0 : a / b;
}

/** Default look-back for "seen before" (first-time cohorts, lifecycle's new): two years. */
export const DEFAULT_HISTORY_DAYS = 730;
/** Stored buckets "seen before" may OR, at most. */
const MAX_HISTORY_BUCKETS = 5_000;

/**
 * Recorded buckets that exactly tile [fromMs, toMs), coarsest first where they fit (two years
 * before a week are 23 months and a few weeks or days, not 730 days). `fromMs` is floored to
 * the finest recorded unit; `toMs` must be a bucket boundary of it.
 */
export function historyCover(fromMs: number, toMs: number, options: ResolvedSeriesOptions): Bucket[] {
  const units = options.resolutions; // finest first
  const out: Bucket[] = [];
  let cursor = bucketOf(fromMs, units[0]!, options).startMs;
  while (cursor < toMs) {
    let chosen: Bucket | undefined;
    for (let u = units.length - 1; u >= 0 && chosen === undefined; u--) {
      const candidate = bucketOf(cursor, units[u]!, options);
      if (candidate.startMs === cursor && candidate.endMs <= toMs) chosen = candidate;
    }
    if (chosen === undefined) break; // toMs not on a recorded boundary: the rest is the current bucket's
    out.push(chosen);
    cursor = chosen.endMs;
    if (out.length > MAX_HISTORY_BUCKETS) {
      throw new InvalidArgumentError(
        'since',
        new Date(fromMs).toISOString(),
        `reaches back over more than ${MAX_HISTORY_BUCKETS} recorded buckets: use a later since or record a coarser unit`,
      );
    }
  }
  return out;
}

/** The `since` option: an instant (default DEFAULT_HISTORY_DAYS before `beforeMs`). */
export function sinceOf(value: unknown, beforeMs: number): number {
  if (value === undefined) return beforeMs - DEFAULT_HISTORY_DAYS * 86_400_000;
  if (value instanceof Date || typeof value === 'number' || (typeof value === 'object' && value !== null)) {
    const ms = toEpochMs(value, 'since');
    if (ms > beforeMs) return beforeMs;
    return ms;
  }
  throw new InvalidArgumentError('since', value, 'must be a Date, DateTime or epoch ms');
}
