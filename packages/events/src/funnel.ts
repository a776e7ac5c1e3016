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
import { bit, CHUNK_BYTES, checkRange, type Operation, traced } from '@porpoise/storage';
import { type Bucket, InvalidArgumentError, type TimeRange, type Unit } from '@porpoise/timerange';
import {
  bucketsFrom,
  bucketsIn,
  checkLeaves,
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
export function funnel(options: FunnelOptions, events?: Events): Promise<FunnelResult> {
  return traced('events.funnel', undefined, (op) => funnelTraced(op, options, events));
}

async function funnelTraced(op: Operation, options: FunnelOptions, events?: Events): Promise<FunnelResult> {
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
  op.backend(context.backend.name);
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

  const tally = runFunnel(S, X, segmentSets, window, order, exclude !== undefined);
  return {
    unit,
    window,
    order,
    partial,
    ...summarise(tally.counts, tally.times),
    breakdowns: segmentSets.map((set, j) =>
      set ? summarise(tally.segmentCounts[j]!, tally.segmentTimes[j]!) : empty(),
    ),
  };
}

interface Tally {
  counts: number[];
  times: number[];
  segmentCounts: number[][];
  segmentTimes: number[][];
}

const ZERO = new Int32Array(CHUNK_BYTES / 4);

function wordsOf(bitmap: Bitmap | undefined, chunk: number): Int32Array {
  const bytes = bitmap?.chunk(chunk);
  return bytes === undefined ? ZERO : new Int32Array(bytes.buffer, bytes.byteOffset, CHUNK_BYTES / 4);
}

function popcount(value: number): number {
  let v = value - ((value >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

/**
 * The dynamic programme, 32 users at a time: for one 32-bit word of every fetched bitmap (the
 * same 32 ids in each), per start i, reach[k·window + d] holds the users of that word who did
 * step 1 in bucket i and steps 2…k+1 under the order by bucket i+d. Work is bounded by
 * starts × steps × window per word holding a step 1; memory by one 8 KiB chunk per fetched
 * bitmap at a time.
 */
function runFunnel(
  S: ReadonlyArray<ReadonlyArray<Bitmap | undefined>>,
  X: ReadonlyArray<Bitmap | undefined>,
  segments: ReadonlyArray<Bitmap | undefined>,
  window: number,
  order: FunnelOrder,
  excluding: boolean,
): Tally {
  const K = S.length;
  const W = window;
  const n = S[0]!.length;
  const tally: Tally = {
    counts: new Array(K).fill(0),
    times: new Array(W).fill(0),
    segmentCounts: segments.map(() => new Array(K).fill(0)),
    segmentTimes: segments.map(() => new Array(W).fill(0)),
  };
  const chunks = new Set<number>();
  for (const first of S[0]!) if (first) for (const c of first.chunkIndices()) chunks.add(c);
  const reach = new Int32Array(K * W);
  const seenX = new Int32Array(W);
  const acc = new Int32Array(K);
  const last = (K - 1) * W;
  for (const c of [...chunks].sort((x, y) => x - y)) {
    const Sw = S.map((row) => row.map((bitmap) => wordsOf(bitmap, c)));
    const Xw = X.map((bitmap) => wordsOf(bitmap, c));
    const Bw = segments.map((bitmap) => wordsOf(bitmap, c));
    const firsts = Sw[0]!;
    for (let w = 0; w < ZERO.length; w++) {
      acc.fill(0);
      let any = 0;
      for (let i = 0; i < n; i++) {
        const s1 = firsts[i]![w]!;
        if (s1 === 0) continue;
        any = 1;
        for (let d = 0; d < W; d++) reach[d] = s1;
        for (let k = 1; k < K; k++) {
          const base = k * W;
          const previous = base - W;
          if (reach[previous + W - 1] === 0) {
            reach.fill(0, base);
            break;
          }
          const step = Sw[k]!;
          let r = 0;
          if (order === 'any') {
            for (let d = 0; d < W; d++) {
              r |= step[i + d]![w]!;
              reach[base + d] = reach[previous + d]! & r;
            }
          } else if (order === 'sequential') {
            for (let d = 0; d < W; d++) {
              r |= step[i + d]![w]! & reach[previous + d]!;
              reach[base + d] = r;
            }
          } else {
            reach[base] = 0;
            for (let d = 1; d < W; d++) {
              r |= step[i + d]![w]! & reach[previous + d - 1]!;
              reach[base + d] = r;
            }
          }
        }
        let dropped = 0;
        if (excluding) {
          let x = 0;
          for (let d = 0; d < W; d++) {
            x |= Xw[i + d]![w]! & s1;
            seenX[d] = x;
          }
          // A start whose furthest step m ≥ 2 is reached only after an exclusion is dropped.
          for (let m = 1; m < K && x !== 0; m++) {
            const reached = reach[m * W + W - 1]!;
            if (reached === 0) break;
            const furthest = m + 1 < K ? reached & ~reach[(m + 1) * W + W - 1]! : reached;
            if (furthest === 0) continue;
            let clean = 0;
            for (let d = 0; d < W; d++) clean |= reach[m * W + d]! & ~seenX[d]!;
            dropped |= furthest & ~clean;
          }
        }
        // Time to convert: the earliest start that completes, and its earliest completion.
        const first = reach[last + W - 1]! & ~dropped & ~acc[K - 1]!;
        if (first !== 0) {
          for (let d = 0; d < W; d++) {
            const hit = first & reach[last + d]! & ~(d === 0 ? 0 : reach[last + d - 1]!);
            if (hit === 0) continue;
            tally.times[d]! += popcount(hit);
            for (let j = 0; j < Bw.length; j++) tally.segmentTimes[j]![d]! += popcount(hit & Bw[j]![w]!);
          }
        }
        for (let k = 0; k < K; k++) acc[k]! |= reach[k * W + W - 1]! & ~dropped;
      }
      if (any === 0) continue;
      for (let k = 0; k < K; k++) {
        const users = acc[k]!;
        if (users === 0) continue;
        tally.counts[k]! += popcount(users);
        for (let j = 0; j < Bw.length; j++) {
          tally.segmentCounts[j]![k]! += popcount(users & Bw[j]![w]!);
        }
      }
    }
  }
  return tally;
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
