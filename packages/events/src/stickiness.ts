/**
 * Stickiness: per week or month, how many users were active on exactly k of its days.
 *
 * "Exactly k of m" has no compact bit expression (as a tree it grows as C(m, k)), so the days
 * are fetched as bitmaps in one backend read and counted on the client with a bit-sliced
 * counter, 32 users per machine word, one 8 KiB chunk of every day at a time.
 */
import {
  type BitExpr,
  type Bitmap,
  bit,
  CHUNK_BYTES,
  checkRange,
  type Operation,
  traced,
} from '@porpoise/storage';
import { type Bucket, bucketsWithin, InvalidArgumentError, type TimeRange } from '@porpoise/timerange';
import {
  bucketsIn,
  checkLeaves,
  requireBreakdown,
  requireQuery,
  requireUnit,
  sharedContext,
} from './analysis.js';
import type { Events } from './events.js';
import { type EventQuery, universeOf } from './query.js';

export interface StickinessOptions {
  query: EventQuery;
  /** Default: the range's unit, which must then be week or month. */
  unit?: 'week' | 'month';
  range: TimeRange;
  /** One histogram per query: restricted to the users who did it in any bucket of `range`. */
  breakdown?: EventQuery[];
}

export interface StickinessPeriod {
  bucket: Bucket;
  /** counts[k-1]: users active on exactly k days of the period (k = 1 … its number of days). */
  counts: number[];
  /** Users active on at least one day. */
  active: number;
  /** The period has not ended: counts may still move up. */
  partial: boolean;
}

export interface StickinessResult {
  unit: 'week' | 'month';
  periods: StickinessPeriod[];
  /** breakdowns[i]: the periods of the users of breakdown[i]. */
  breakdowns: StickinessPeriod[][];
}

const WORDS = CHUNK_BYTES / 4;
const ZERO = new Int32Array(WORDS);

function wordsOf(bitmap: Bitmap | undefined, chunk: number): Int32Array {
  const bytes = bitmap?.chunk(chunk);
  return bytes === undefined ? ZERO : new Int32Array(bytes.buffer, bytes.byteOffset, WORDS);
}

/** Per period, users active on exactly k of its days. One backend read. */
export function stickiness(options: StickinessOptions, events?: Events): Promise<StickinessResult> {
  return traced('events.stickiness', undefined, (op) => stickinessTraced(op, options, events));
}

async function stickinessTraced(
  op: Operation,
  options: StickinessOptions,
  events?: Events,
): Promise<StickinessResult> {
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
  const unit = options.unit === undefined ? range.unit : options.unit;
  if (unit !== 'week' && unit !== 'month') {
    throw new InvalidArgumentError('unit', unit, "must be 'week' or 'month'");
  }
  requireUnit('day', 'unit', context.options);
  const periods = bucketsIn(range, unit, 'unit');
  const days = periods.map((p) => bucketsWithin(p, 'day', context.options));
  checkLeaves(
    days.reduce((n, d) => n + d.length, 0),
    'day',
    1 + breakdown.length,
    context.options,
    'range',
  );
  const now = context.options.now().getTime();
  const universe = await universeOf([query, ...breakdown], context);
  const ops: Array<{ op: 'bitmap'; expr: BitExpr }> = [];
  const slots = days.map((list) =>
    list
      .filter((d) => d.startMs <= now)
      .map((d) => ops.push({ op: 'bitmap', expr: query.expression(d, universe) }) - 1),
  );
  const started = periods.filter((p) => p.startMs <= now);
  const segmentSlots = breakdown.map((q) =>
    started.length === 0
      ? null
      : ops.push({ op: 'bitmap', expr: bit.or(...started.map((p) => q.expression(p, universe))) }) - 1,
  );
  const fetched = ops.length === 0 ? [] : await context.backend.read(ops);
  const segments = segmentSlots.map((slot) => (slot === null ? undefined : fetched[slot]));

  const all: StickinessPeriod[] = [];
  const perSegment: StickinessPeriod[][] = breakdown.map(() => []);
  periods.forEach((bucket, p) => {
    const bitmaps = slots[p]!.map((slot) => fetched[slot]!);
    const m = days[p]!.length;
    const histograms = [new Array(m).fill(0), ...segments.map(() => new Array(m).fill(0))];
    countDays(bitmaps, segments, histograms);
    const partial = bucket.endMs > now;
    const make = (counts: number[]) => ({
      bucket,
      counts,
      active: counts.reduce((n, c) => n + c, 0),
      partial,
    });
    all.push(make(histograms[0]!));
    for (let j = 0; j < segments.length; j++) perSegment[j]!.push(make(histograms[j + 1]!));
  });
  return { unit, periods: all, breakdowns: perSegment };
}

/** histograms[0][k-1] += users on exactly k of `days`; histograms[j+1] likewise within segments[j]. */
function countDays(
  days: readonly Bitmap[],
  segments: ReadonlyArray<Bitmap | undefined>,
  histograms: number[][],
): void {
  if (days.length === 0) return;
  const chunks = new Set<number>();
  for (const day of days) for (const c of day.chunkIndices()) chunks.add(c);
  const depth = 32 - Math.clz32(days.length); // bits of a count up to days.length
  const slices = new Int32Array(depth);
  for (const c of chunks) {
    const words = days.map((day) => wordsOf(day, c));
    const segmentWords = segments.map((segment) => wordsOf(segment, c));
    for (let w = 0; w < WORDS; w++) {
      slices.fill(0);
      let any = 0;
      for (let d = 0; d < words.length; d++) {
        let carry = words[d]![w]!;
        any |= carry;
        for (let s = 0; s < depth && carry !== 0; s++) {
          const next = slices[s]! & carry;
          slices[s]! ^= carry;
          carry = next;
        }
      }
      while (any !== 0) {
        const low = any & -any;
        any ^= low;
        const position = 31 - Math.clz32(low);
        let k = 0;
        for (let s = 0; s < depth; s++) k |= ((slices[s]! >>> position) & 1) << s;
        histograms[0]![k - 1]!++;
        for (let j = 0; j < segmentWords.length; j++) {
          if ((segmentWords[j]![w]! & low) !== 0) histograms[j + 1]![k - 1]!++;
        }
      }
    }
  }
}
