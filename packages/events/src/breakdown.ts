/**
 * Counts per bucket broken down by segments: one result per breakdown query, in the same read.
 * A breakdown is the set of users who did it in any bucket of the range (a time-less segment
 * when one is given: a segment is the same set in every bucket).
 */
import { type BitExpr, bit, checkRange, type Operation, traced } from '@porpoise/storage';
import { type Bucket, InvalidArgumentError, type TimeRange } from '@porpoise/timerange';
import { requireBreakdown, requireQuery, sharedContext } from './analysis.js';
import type { Events } from './events.js';
import { type EventQuery, universeOf } from './query.js';

export interface BreakdownCountsOptions {
  query: EventQuery;
  range: TimeRange;
  /** At least one query. */
  breakdown: EventQuery[];
}

export interface BreakdownCount {
  bucket: Bucket;
  /** Users in `query` in this bucket. */
  count: number;
  /** breakdowns[i]: those of them who did breakdown[i] in any bucket of the range. */
  breakdowns: number[];
}

/** `query.counts(range)` with one count per breakdown beside each bucket's total. One read. */
export function breakdownCounts(options: BreakdownCountsOptions, events?: Events): Promise<BreakdownCount[]> {
  return traced('events.breakdownCounts', undefined, (op) => breakdownCountsTraced(op, options, events));
}

async function breakdownCountsTraced(
  op: Operation,
  options: BreakdownCountsOptions,
  events?: Events,
): Promise<BreakdownCount[]> {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError('options', options, 'must be an options object');
  }
  const query = requireQuery(options.query, 'query');
  const breakdown = requireBreakdown(options.breakdown);
  if (breakdown.length === 0)
    throw new InvalidArgumentError('breakdown', [], 'must list at least one EventQuery');
  const context = sharedContext(
    [{ query, argument: 'query' }, ...breakdown.map((q, i) => ({ query: q, argument: `breakdown[${i}]` }))],
    events,
  );
  op.backend(context.backend.name);
  const { range } = options;
  checkRange(range, context.options);
  const buckets = [...range];
  if (buckets.length * (1 + breakdown.length) > 200_000) {
    throw new InvalidArgumentError('breakdown', breakdown.length, 'too many counts for one read: use fewer');
  }
  if (buckets.length === 0) return [];
  const universe = await universeOf([query, ...breakdown], context);
  const segments = breakdown.map((q) => bit.or(...buckets.map((b) => q.expression(b, universe))));
  const ops: Array<{ op: 'bitCount'; expr: BitExpr }> = [];
  for (const bucket of buckets) {
    const expr = query.expression(bucket, universe);
    ops.push({ op: 'bitCount', expr });
    for (const segment of segments) ops.push({ op: 'bitCount', expr: bit.and(expr, segment) });
  }
  const counts = await context.backend.read(ops);
  const width = 1 + breakdown.length;
  return buckets.map((bucket, i) => ({
    bucket,
    count: counts[i * width]!,
    breakdowns: breakdown.map((_, j) => counts[i * width + 1 + j]!),
  }));
}
