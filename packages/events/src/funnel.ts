/**
 * Funnels at bucket grain, exact from the stored bitmaps.
 *
 * Trade-off: the ordered-chain condition ("b1 ≤ b2 ≤ … ≤ bk inside each start's window") has
 * no compact bit expression: as one tree per step it grows as C(window + k, k) leaves per
 * start, re-evaluated for every start. So the funnel reads each (step, bucket) bitmap once, in
 * one backend read (rollups and AND/OR inside a step query are still done where the data
 * lives), and runs a dynamic programme over buckets on the client, with the same evaluator the
 * memory backend uses. Memory: the fetched bitmaps (steps × (range + window − 1) buckets, plus
 * the exclusion's) and, for one start at a time, steps × window bitmaps that are all subsets
 * of that start's step-1 bitmap.
 */
import type { BitExpr, Bitmap } from '@porpoise/storage';
import { bit, checkRange } from '@porpoise/storage';
import { type Bucket, InvalidArgumentError, type TimeRange, type Unit } from '@porpoise/timerange';
import {
  bucketsFrom,
  bucketsIn,
  checkLeaves,
  local,
  ratio,
  requireBreakdown,
  requireInteger,
  requireQuery,
  requireUnit,
  sharedContext,
} from './analysis.js';
import type { Events } from './events.js';
import { type EventQuery, universeOf } from './query.js';

export type FunnelOrder = 'sequential' | 'strict' | 'any';

export interface FunnelOptions {
  /** The steps, first to last (at least one, at most 20). */
  steps: EventQuery[];
  /** The buckets a step 1 may fall in (the starts). */
  range: TimeRange;
  /** Buckets of `unit` a start has to reach the later steps: 7 = its own bucket and the 6 after. */
  window: number;
  /** The funnel's grain. Default: the range's unit (a finer unit splits the range). */
  unit?: Unit;
  /** Default 'sequential'. */
  order?: FunnelOrder;
  /** A start does not count when this was done between its step 1 and its last step reached. */
  exclude?: EventQuery;
  /** One result per query: the funnel of the users who did it in any bucket of `range`. */
  breakdown?: EventQuery[];
}

export interface FunnelStep {
  /** 1-based. */
  step: number;
  /** Users who reached this step (and every earlier one) from some start. */
  count: number;
  /** count / the previous step's count (1 for step 1 with users, 0 without). */
  fromPrevious: number;
  /** count / step 1's count. */
  fromStart: number;
}

export interface FunnelConversionTime {
  /** Last-step bucket − step-1 bucket. */
  buckets: number;
  /** Users who converted in exactly that many buckets. */
  count: number;
}

export interface FunnelBreakdown {
  steps: FunnelStep[];
  timeToConvert: FunnelConversionTime[];
}

export interface FunnelResult extends FunnelBreakdown {
  unit: Unit;
  window: number;
  order: FunnelOrder;
  /** Some start's window has not ended by now: later steps may still come in. */
  partial: boolean;
  /** breakdowns[i]: the funnel restricted to the users of breakdown[i]. */
  breakdowns: FunnelBreakdown[];
}

const MAX_STEPS = 20;
const MAX_WINDOW = 1000;
/** Starts × window: the bitmaps the client-side programme visits per step. */
const MAX_WORK = 200_000;
const ORDERS: readonly FunnelOrder[] = ['sequential', 'strict', 'any'];

/**
 * How many users whose step 1 falls in `range` reached each step within `window` buckets of
 * it, under `order`; with conversion rates and the time-to-convert distribution. One backend
 * read (two when a query has a NOT).
 */
export async function funnel(options: FunnelOptions, events?: Events): Promise<FunnelResult> {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError('options', options, 'must be an options object');
  }
  const { steps, range, exclude } = options;
  if (!Array.isArray(steps) || steps.length === 0 || steps.length > MAX_STEPS) {
    throw new InvalidArgumentError(
      'steps',
      Array.isArray(steps) ? `${steps.length} steps` : steps,
      `must be an array of 1 to ${MAX_STEPS} EventQuery`,
    );
  }
  for (const [i, q] of steps.entries()) requireQuery(q, `steps[${i}]`);
  if (exclude !== undefined) requireQuery(exclude, 'exclude');
  const breakdown = requireBreakdown(options.breakdown);
  const order = options.order === undefined ? 'sequential' : options.order;
  if (!ORDERS.includes(order)) {
    throw new InvalidArgumentError('order', order, "must be 'sequential', 'strict' or 'any'");
  }
  const context = sharedContext(
    [
      ...steps.map((query, i) => ({ query, argument: `steps[${i}]` })),
      ...(exclude ? [{ query: exclude, argument: 'exclude' }] : []),
      ...breakdown.map((query, i) => ({ query, argument: `breakdown[${i}]` })),
    ],
    events,
  );
  checkRange(range, context.options);
  const unit = options.unit === undefined ? range.unit : requireUnit(options.unit, 'unit', context.options);
  const window = requireInteger(options.window, 'window', 1, MAX_WINDOW);
  const starts = bucketsIn(range, unit, 'unit');
  if (starts.length * window > MAX_WORK) {
    throw new InvalidArgumentError(
      'range',
      String(range),
      `${starts.length} starts × a window of ${window} exceeds ${MAX_WORK}: use a shorter range or window`,
    );
  }
  const span = starts.length === 0 ? 0 : starts.length + window - 1;
  checkLeaves(span, unit, steps.length + (exclude ? 1 : 0) + breakdown.length, context.options, 'range');

  const now = context.options.now().getTime();
  const timeline = starts.length === 0 ? [] : bucketsFrom(starts[0]!.startMs, span, unit, context.options);
  const partial = timeline.length > 0 && timeline[timeline.length - 1]!.endMs > now;
  const empty = (): FunnelBreakdown => summarise(new Array(steps.length).fill(0), new Array(window).fill(0));
  if (starts.length === 0) {
    return { unit, window, order, partial, ...empty(), breakdowns: breakdown.map(empty) };
  }

  // One read: every step over the timeline (step 1 over the starts), the exclusion over the
  // timeline, each breakdown over the range. Buckets that have not started are empty.
  const universe = await universeOf([...steps, ...(exclude ? [exclude] : []), ...breakdown], context);
  const ops: Array<{ op: 'bitmap'; expr: BitExpr }> = [];
  const plan = (query: EventQuery, buckets: Bucket[]): Array<number | undefined> =>
    buckets.map((bucket) =>
      bucket.startMs > now
        ? undefined
        : ops.push({ op: 'bitmap', expr: query.expression(bucket, universe) }) - 1,
    );
  const slots = steps.map((query, k) => plan(query, k === 0 ? starts : timeline));
  const excluded = exclude ? plan(exclude, timeline) : [];
  const started = starts.filter((b) => b.startMs <= now);
  const segments = breakdown.map((query) => {
    const exprs = started.map((b) => query.expression(b, universe));
    return exprs.length === 0 ? undefined : ops.push({ op: 'bitmap', expr: bit.or(...exprs) }) - 1;
  });
  const fetched = ops.length === 0 ? [] : await context.backend.read(ops);
  const at = (slot: number | undefined): Bitmap | undefined =>
    slot === undefined ? undefined : fetched[slot];
  const S = slots.map((row) => row.map(at));
  const X = excluded.map(at);
  const segmentSets = segments.map(at);

  const K = steps.length;
  const reachedBy: Bitmap[] = new Array(K).fill(local.empty); // users counted at step k so far
  const conversions: Bitmap[][] = Array.from({ length: window }, () => []); // per d, per start
  for (let i = 0; i < starts.length; i++) {
    const first = S[0]![i];
    if (!first || first.isEmpty) continue;
    const reach = chains(first, S, i, window, order);
    let dropped = local.empty;
    if (exclude) dropped = droppedStarts(reach, first, X, i, window);
    const last = reach[K - 1]!;
    const completed = local.andNot(last[window - 1], dropped);
    // Time to convert: the earliest start that completes, and within it the earliest completion.
    const firstCompletion = local.andNot(completed, reachedBy[K - 1]);
    if (!firstCompletion.isEmpty) {
      for (let d = 0; d < window; d++) {
        const newly = local.andNot(last[d], d === 0 ? undefined : last[d - 1]);
        const converted = local.and(firstCompletion, newly);
        if (!converted.isEmpty) conversions[d]!.push(converted);
      }
    }
    for (let k = 0; k < K; k++)
      reachedBy[k] = local.or(reachedBy[k], local.andNot(reach[k]![window - 1], dropped));
  }

  const totals = (within?: Bitmap): FunnelBreakdown =>
    summarise(
      reachedBy.map((users) => (within ? local.countAnd(users, within) : users.size)),
      conversions.map((sets) =>
        sets.reduce((n, set) => n + (within ? local.countAnd(set, within) : set.size), 0),
      ),
    );
  return {
    unit,
    window,
    order,
    partial,
    ...totals(),
    breakdowns: segmentSets.map((set) => (set ? totals(set) : empty())),
  };
}

/**
 * reach[k][d]: the users of this start (step 1 in bucket i) who did steps 1…k+1 under `order`
 * by bucket i+d. Every set is a subset of `first`.
 */
function chains(
  first: Bitmap,
  S: ReadonlyArray<ReadonlyArray<Bitmap | undefined>>,
  i: number,
  window: number,
  order: FunnelOrder,
): Bitmap[][] {
  const reach: Bitmap[][] = [new Array(window).fill(first)];
  for (let k = 1; k < S.length; k++) {
    const previous = reach[k - 1]!;
    const row: Bitmap[] = new Array(window);
    const step = S[k]!;
    if (previous[window - 1]!.isEmpty) {
      reach.push(row.fill(local.empty));
      continue;
    }
    let seen = local.empty; // 'any': users of this start who did step k by bucket i+d
    for (let d = 0; d < window; d++) {
      const earlier = d === 0 ? local.empty : row[d - 1]!;
      const here = step[i + d];
      if (order === 'any') {
        seen = local.or(seen, local.and(first, here));
        row[d] = local.and(previous[d], seen);
      } else {
        // sequential: step k in this bucket after step k-1 by this bucket; strict: by the one before.
        const before = order === 'sequential' ? previous[d] : d === 0 ? undefined : previous[d - 1];
        row[d] = local.or(earlier, local.and(here, before));
      }
    }
    reach.push(row);
  }
  return reach;
}

/**
 * The users whose start is excluded: with m ≥ 2 the last step they reach from it, they did
 * the excluded event in a bucket from the start's to the earliest bucket that reaches step m.
 * (They reached m "cleanly" when some bucket reaches it before any exclusion.)
 */
function droppedStarts(
  reach: Bitmap[][],
  first: Bitmap,
  X: ReadonlyArray<Bitmap | undefined>,
  i: number,
  window: number,
): Bitmap {
  const seen: Bitmap[] = new Array(window);
  let sofar = local.empty;
  for (let d = 0; d < window; d++) {
    sofar = local.or(sofar, local.and(first, X[i + d]));
    seen[d] = sofar;
  }
  if (sofar.isEmpty) return local.empty;
  let dropped = local.empty;
  for (let m = 1; m < reach.length; m++) {
    const reached = reach[m]![window - 1]!;
    if (reached.isEmpty) break;
    const furthest = local.andNot(reached, reach[m + 1]?.[window - 1]);
    if (furthest.isEmpty) continue;
    let clean = local.empty;
    for (let d = 0; d < window; d++) clean = local.or(clean, local.andNot(reach[m]![d], seen[d]));
    dropped = local.or(dropped, local.andNot(furthest, clean));
  }
  return dropped;
}

function summarise(counts: number[], times: number[]): FunnelBreakdown {
  return {
    steps: counts.map((count, k) => ({
      step: k + 1,
      count,
      fromPrevious: k === 0 ? (count > 0 ? 1 : 0) : ratio(count, counts[k - 1]!),
      fromStart: ratio(count, counts[0]!),
    })),
    timeToConvert: times.map((count, buckets) => ({ buckets, count })),
  };
}
