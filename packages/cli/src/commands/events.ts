/** `porpoise events <name> [--and|--or|--xor|--not <name>]… --range <range>`: counts per bucket. */
import type { Analytics, Bucket, EventQuery, IdSet, TimeRange } from '@porpoise/analytics';
import { parseRange } from '../args/range.js';
import { parseEventId, parseWholeNumber } from '../args/values.js';
import { UsageError } from '../errors.js';
import { bar, peakOf, sparkline } from '../format/chart.js';
import { toJson } from '../format/json.js';
import { bucketLabel, rangeJson, rangeLabel } from '../format/labels.js';
import { fmt, table } from '../format/text.js';
import type { Io } from '../io.js';
import { type CommonFlags, openSession, settingsOf } from '../session.js';

export type StepOp = 'and' | 'or' | 'xor' | 'not';

/** One `--and x` (etc.) in the order given: the expression folds left over them. */
export interface EventStep {
  op: StepOp;
  name: string;
}

export interface EventsFlags extends CommonFlags {
  range?: string;
  ids?: boolean;
  limit?: string;
  id?: string;
}

export const DEFAULT_EVENTS_RANGE = 'day:-14';
export const DEFAULT_ID_LIMIT = 20;
const MAX_ID_LIMIT = 100_000;
/** A sparkline wider than this no longer fits a terminal; it shows the latest buckets. */
const TREND_WIDTH = 120;

const OPERATOR: Record<StepOp, string> = { and: 'AND', or: 'OR', xor: 'XOR', not: 'AND NOT' };

function quoted(name: string): string {
  return /^[\w:.@/-]+$/.test(name) ? name : JSON.stringify(name);
}

/** "(active AND login) OR signup": left to right, parenthesised where the operator changes. */
export function expressionText(name: string, steps: readonly EventStep[]): string {
  let text = quoted(name);
  let previous: StepOp | null = null;
  for (const step of steps) {
    if (previous !== null && previous !== step.op) text = `(${text})`;
    text = `${text} ${OPERATOR[step.op]} ${quoted(step.name)}`;
    previous = step.op;
  }
  return text;
}

export function buildQuery(events: (name: string) => EventQuery, name: string, steps: readonly EventStep[]) {
  let query = events(name);
  for (const step of steps) {
    const other = events(step.name);
    query =
      step.op === 'and'
        ? query.and(other)
        : step.op === 'or'
          ? query.or(other)
          : step.op === 'xor'
            ? query.xor(other)
            : query.andNot(other);
  }
  return query;
}

interface BucketRow {
  bucket: Bucket;
  count: number;
  ids?: number[];
  /** Ids of the bucket left out of `ids` (beyond --limit). */
  more?: number;
  /** Whether --id is in the bucket. */
  member?: boolean;
}

function firstIds(set: IdSet, limit: number): number[] {
  const ids: number[] = [];
  if (limit === 0) return ids;
  for (const id of set) {
    ids.push(id);
    if (ids.length === limit) break;
  }
  return ids;
}

export async function eventsCommand(name: string, steps: readonly EventStep[], flags: EventsFlags, io: Io) {
  const settings = settingsOf(flags);
  const spec = flags.range ?? DEFAULT_EVENTS_RANGE;
  const range = parseRange(spec, { zone: settings.zone, now: settings.now });
  const limit =
    flags.limit === undefined ? DEFAULT_ID_LIMIT : parseWholeNumber(flags.limit, '--limit', 0, MAX_ID_LIMIT);
  if (flags.limit !== undefined && !flags.ids) throw new UsageError('--limit applies to --ids');
  const id = flags.id === undefined ? undefined : parseEventId(flags.id);
  const read = async (analytics: Analytics): Promise<BucketRow[]> => {
    const query = buildQuery((n) => analytics.events(n), name, steps);
    const rows: BucketRow[] = [];
    if (flags.ids || id !== undefined) {
      for await (const set of query.over(range)) {
        const row: BucketRow = { bucket: set.bucket!, count: set.size };
        if (flags.ids) {
          row.ids = firstIds(set, limit);
          row.more = set.size - row.ids.length;
        }
        if (id !== undefined) row.member = set.has(id);
        rows.push(row);
      }
    } else {
      for (const { bucket, count } of await query.counts(range)) {
        rows.push({ bucket, count });
      }
    }
    return rows;
  };
  const session = await openSession(settings, io, { check: read });
  try {
    const rows = await read(session.analytics);
    const expression = expressionText(name, steps);
    if (settings.json) {
      io.stdout.write(
        toJson({
          command: 'events',
          expression,
          name,
          steps,
          range: { spec, ...rangeJson(range) },
          ...(id === undefined ? {} : { id }),
          source: session.source,
          buckets: rows.map(({ bucket, ...rest }) => ({
            key: bucket.key,
            start: bucket.start.toISO()!,
            ...rest,
          })),
        }),
      );
      return;
    }
    io.stdout.write(
      `${renderEvents(expression, spec, range, rows, { id, limit, describe: session.describe() })}\n`,
    );
  } finally {
    await session.close();
  }
}

function renderEvents(
  expression: string,
  spec: string,
  range: TimeRange,
  rows: readonly BucketRow[],
  options: { id: number | undefined; limit: number; describe: string },
): string {
  const lines = [expression, `${spec} · ${rangeLabel(range)} · ${options.describe}`, ''];
  if (rows.length === 0) return [...lines, '(no buckets in this range)'].join('\n');
  const peak = peakOf(rows.map((r) => r.count));
  const header = ['bucket', range.unit, 'count', ''];
  if (options.id !== undefined) header.push(`id ${options.id}`);
  lines.push(
    table(
      header,
      rows.map((row) => {
        const cells = [row.bucket.key, bucketLabel(row.bucket), fmt(row.count), bar(row.count, peak)];
        if (options.id !== undefined) cells.push(row.member ? 'yes' : '·');
        return cells;
      }),
      { left: 2, trim: true },
    ),
  );
  const counts = rows.map((r) => r.count);
  const trend = counts.length > TREND_WIDTH ? counts.slice(-TREND_WIDTH) : counts;
  if (peak === 0) lines.push('(every bucket is empty)');
  else
    lines.push(
      `trend ${sparkline(trend)}${trend.length < counts.length ? ` (last ${TREND_WIDTH} ${range.unit}s)` : ''}`,
    );
  if (rows.some((r) => r.ids !== undefined)) {
    lines.push('', `ids per bucket (at most ${options.limit} each; --limit to change)`);
    for (const row of rows) {
      const ids = row.ids!.join(', ');
      const more = row.more! > 0 ? `${ids === '' ? '' : ' '}(+${fmt(row.more!)} more)` : '';
      lines.push(`${row.bucket.key}  ${ids === '' && more === '' ? '(none)' : ids}${more}`);
    }
  }
  return lines.join('\n');
}
