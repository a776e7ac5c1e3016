/**
 * Lifecycle (PostHog's definitions, exact at bucket grain): per period, one bit count per
 * status, all in one backend read.
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
  bucketsBefore,
  bucketsIn,
  checkLeaves,
  historyCover,
  requireBreakdown,
  requireQuery,
  requireUnit,
  sharedContext,
  sinceOf,
} from './analysis.js';
import type { Events } from './events.js';
import { type EventQuery, universeOf } from './query.js';

export interface LifecycleOptions {
  /** What "active" means (e.g. events.get('active')). */
  query: EventQuery;
  /** The period. Default: the range's unit (a finer unit splits it). */
  unit?: Unit;
  range: TimeRange;
  /** How far back "seen before" reaches. Default: 730 days before the range. */
  since?: Instant;
  /** One series per query: restricted to the users who did it in any bucket of `range`. */
  breakdown?: EventQuery[];
}

export interface LifecyclePeriod {
  bucket: Bucket;
  /** Active now, never before (since `since`). */
  new: number;
  /** Active now and in the previous period. */
  returning: number;
  /** Active now, not in the previous period, seen before it. */
  resurrecting: number;
  /** Active in the previous period, not now (PostHog draws it below the axis). */
  dormant: number;
  /** new + returning + resurrecting: the period's active users. */
  active: number;
  /** The period has not ended: counts may still change. */
  partial: boolean;
}

export interface LifecycleResult {
  unit: Unit;
  periods: LifecyclePeriod[];
  /** breakdowns[i]: the series of the users of breakdown[i]. */
  breakdowns: LifecyclePeriod[][];
}

const or = (exprs: BitExpr[]): BitExpr | undefined =>
  exprs.length === 0 ? undefined : exprs.length === 1 ? exprs[0]! : bit.or(...exprs);

/** New, returning, resurrecting and dormant users per period of `range`. One backend read. */
export function lifecycle(options: LifecycleOptions, events?: Events): Promise<LifecycleResult> {
  return traced('events.lifecycle', undefined, (op) => lifecycleTraced(op, options, events));
}

async function lifecycleTraced(
  op: Operation,
  options: LifecycleOptions,
  events?: Events,
): Promise<LifecycleResult> {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError('options', options, 'must be an options object');
  }
  const query = requireQuery(options.query, 'query');
  const breakdown = requireBreakdown(options.breakdown);
  const context = sharedContext(
    [{ query, argument: 'query' }, ...breakdown.map((q, i) => ({ query: q, argument: `breakdown[${i}]` }))],
    events,
  );
  op.backend(context.backend.name);
  const { range } = options;
  checkRange(range, context.options);
  const unit = options.unit === undefined ? range.unit : requireUnit(options.unit, 'unit', context.options);
  const buckets = bucketsIn(range, unit, 'unit');
  checkLeaves(buckets.length + 1, unit, 1 + breakdown.length, context.options, 'range');
  const now = context.options.now().getTime();
  const live = buckets.filter((b) => b.startMs <= now);
  if (live.length === 0) return { unit, periods: [], breakdowns: breakdown.map(() => []) };
  const previous = bucketsBefore(live[0]!, 1, context.options)[0]!;
  const history = historyCover(sinceOf(options.since, previous.startMs), previous.startMs, context.options);

  const universe = await universeOf([query, ...breakdown], context);
  const active = [previous, ...live].map((b) => query.expression(b, universe));
  const seenBefore = history.map((b) => query.expression(b, universe));
  const segments = breakdown.map((q) => bit.or(...live.map((b) => q.expression(b, universe))));
  const ops: Array<{ op: 'bitCount'; expr: BitExpr }> = [];
  const count = (expr: BitExpr): number[] =>
    [expr, ...segments.map((segment) => bit.and(expr, segment))].map(
      (e) => ops.push({ op: 'bitCount', expr: e }) - 1,
    );
  const layout = live.map((bucket, p) => {
    const now_ = active[p + 1]!;
    const last = active[p]!;
    const before = or([...seenBefore, ...active.slice(0, p)]); // up to the period before the previous
    const ever = or([...seenBefore, ...active.slice(0, p + 1)]); // up to the previous
    return {
      bucket,
      new: count(ever ? bit.andNot(now_, ever) : now_),
      returning: count(bit.and(now_, last)),
      resurrecting: before ? count(bit.and(bit.andNot(now_, last), before)) : null,
      dormant: count(bit.andNot(last, now_)),
    };
  });
  const counts = await context.backend.read(ops);
  const series = (which: number): LifecyclePeriod[] =>
    layout.map((slot) => {
      const get = (slots: number[] | null) => (slots === null ? 0 : counts[slots[which]!]!);
      const period = {
        bucket: slot.bucket,
        new: get(slot.new),
        returning: get(slot.returning),
        resurrecting: get(slot.resurrecting),
        dormant: get(slot.dormant),
        partial: slot.bucket.endMs > now,
      };
      return { ...period, active: period.new + period.returning + period.resurrecting };
    });
  return { unit, periods: series(0), breakdowns: breakdown.map((_, j) => series(j + 1)) };
}
