/**
 * `porpoise events <name> [--and|--or|--xor|--not <name>]… [--segment <name>]… --range <range>`:
 * counts per bucket. An operand `name@<range>` is the event over that whole range (the same in
 * every bucket); `--during <range>` answers the whole expression once, over one range.
 */
import {
  type Analytics,
  type Bucket,
  canonicalId,
  type EventQuery,
  Identities,
  type IdSet,
  type RangeOptions,
  type TimeRange,
} from '@porpoise/analytics';
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
  /** A segment (`--segment`), not an event. */
  segment?: boolean;
}

export interface EventsFlags extends CommonFlags {
  range?: string;
  during?: string;
  ids?: boolean;
  limit?: string;
  id?: string;
  /** The id dictionary the events were recorded through (`true`: the default, `ids`). */
  identities?: string | boolean;
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

const DURING = /@((?:minute|hour|day|week|month|year):.+)$/;

/** `active@month:-1` → the event `active` over the whole of `month:-1`; other names as given. */
export function splitOperand(text: string): { name: string; during?: string } {
  const match = DURING.exec(text);
  if (match === null || match.index === 0) return { name: text };
  return { name: text.slice(0, match.index), during: match[1]! };
}

function operandText(step: { name: string; segment?: boolean }): string {
  return step.segment ? `segment ${quoted(step.name)}` : quoted(step.name);
}

/** "(active AND login) OR signup": left to right, parenthesised where the operator changes. */
export function expressionText(name: string, steps: readonly EventStep[]): string {
  let text = quoted(name);
  let previous: StepOp | null = null;
  for (const step of steps) {
    if (previous !== null && previous !== step.op) text = `(${text})`;
    text = `${text} ${OPERATOR[step.op]} ${operandText(step)}`;
    previous = step.op;
  }
  return text;
}

/** Makes the query of one operand: an event, `name@range` (that event during the range) or a segment. */
export type OperandMaker = (operand: { name: string; segment?: boolean }) => EventQuery;

export function operandMaker(analytics: Analytics, options: RangeOptions): OperandMaker {
  return ({ name, segment }) => {
    if (segment) return analytics.segment(name);
    const { name: event, during } = splitOperand(name);
    const query = analytics.events(event);
    return during === undefined ? query : query.during(parseRange(during, options));
  };
}

export function buildQuery(make: OperandMaker, name: string, steps: readonly EventStep[]): EventQuery {
  let query = make({ name });
  for (const step of steps) {
    const other = make(step);
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
  /** Whether the bucket holds any data of the query's events. */
  recorded?: boolean;
  /** Integers as stored; with --identities, the external ids they stand for. */
  ids?: Array<number | string>;
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
  if (flags.during !== undefined && flags.range !== undefined) {
    throw new UsageError('--during answers over one whole range: it replaces --range');
  }
  const rangeOptions = { zone: settings.zone, now: settings.now };
  const spec = flags.during ?? flags.range ?? DEFAULT_EVENTS_RANGE;
  const range = parseRange(spec, rangeOptions);
  // Operands' own ranges (name@range) are checked now, before any backend is opened.
  for (const operand of [name, ...steps.filter((s) => !s.segment).map((s) => s.name)]) {
    const { during } = splitOperand(operand);
    if (during !== undefined) parseRange(during, rangeOptions);
  }
  const limit =
    flags.limit === undefined ? DEFAULT_ID_LIMIT : parseWholeNumber(flags.limit, '--limit', 0, MAX_ID_LIMIT);
  if (flags.limit !== undefined && !flags.ids) throw new UsageError('--limit applies to --ids');
  const dictionary =
    flags.identities === undefined || flags.identities === false
      ? undefined
      : flags.identities === true
        ? 'ids'
        : flags.identities;
  // With --identities, --id is an external id (a UUID, an email): checked now, looked up once the backend is open.
  const external = dictionary === undefined ? undefined : flags.id;
  if (external !== undefined) canonicalId(external, '--id');
  let id: number | null | undefined =
    flags.id === undefined || dictionary !== undefined ? undefined : parseEventId(flags.id);
  const during = flags.during !== undefined;
  const read = async (analytics: Analytics): Promise<BucketRow[]> => {
    let query = buildQuery(operandMaker(analytics, rangeOptions), name, steps);
    if (during) {
      query = query.during(range);
      const set = await query.ids();
      const row: BucketRow = { bucket: null as unknown as Bucket, count: set.size };
      if (flags.ids) {
        row.ids = firstIds(set, limit);
        row.more = set.size - row.ids.length;
      }
      if (id !== undefined) row.member = id !== null && set.has(id);
      return [row];
    }
    const rows: BucketRow[] = [];
    const counts = await query.counts(range);
    if (flags.ids || id !== undefined) {
      let i = 0;
      for await (const set of query.over(range)) {
        const row: BucketRow = { bucket: set.bucket!, count: set.size, recorded: counts[i++]!.recorded };
        if (flags.ids) {
          row.ids = firstIds(set, limit);
          row.more = set.size - row.ids.length;
        }
        if (id !== undefined) row.member = id !== null && set.has(id);
        rows.push(row);
      }
    } else {
      for (const { bucket, count, recorded } of counts) rows.push({ bucket, count, recorded });
    }
    return rows;
  };
  const session = await openSession(settings, io, { check: read });
  try {
    const identities =
      dictionary === undefined
        ? undefined
        : new Identities(session.backend, { prefix: dictionary, cacheSize: 0 });
    if (identities !== undefined && external !== undefined)
      id = (await identities.peek([external]))[0] ?? null;
    const rows = await read(session.analytics);
    if (identities !== undefined) await toExternal(identities, rows);
    const expression = expressionText(name, steps);
    if (settings.json) {
      io.stdout.write(
        toJson({
          command: 'events',
          expression,
          name,
          steps,
          ...(during ? { during: { spec, ...rangeJson(range) } } : { range: { spec, ...rangeJson(range) } }),
          ...(flags.id === undefined ? {} : { id: external ?? id }),
          source: session.source,
          ...(during
            ? { ...rows[0]!, bucket: undefined }
            : {
                buckets: rows.map(({ bucket, ...rest }) => ({
                  key: bucket.key,
                  start: bucket.start.toISO()!,
                  ...rest,
                })),
              }),
        }),
      );
      return;
    }
    const describe = session.describe();
    const shown = flags.id === undefined ? undefined : (external ?? id ?? undefined);
    io.stdout.write(
      `${
        during
          ? renderDuring(expression, spec, range, rows[0]!, { id: shown, limit, describe })
          : renderEvents(expression, spec, range, rows, { id: shown, limit, describe })
      }\n`,
    );
  } finally {
    await session.close();
  }
}

/**
 * The listed integers as the external ids they stand for: one batched lookup for every row. An
 * integer no id owns (a `--not` reaches them) is shown as `#n`.
 */
async function toExternal(identities: Identities, rows: BucketRow[]): Promise<void> {
  const ints = [...new Set(rows.flatMap((row) => (row.ids ?? []) as number[]))];
  if (ints.length === 0) return;
  const found = await identities.lookup(ints);
  const byInt = new Map(ints.map((n, i) => [n, found[i] ?? `#${n}`]));
  for (const row of rows) if (row.ids) row.ids = row.ids.map((n) => byInt.get(n as number)!);
}

/** `--during`: the expression once, over the whole range. */
function renderDuring(
  expression: string,
  spec: string,
  range: TimeRange,
  row: BucketRow,
  options: { id: number | string | undefined; limit: number; describe: string },
): string {
  const lines = [
    `${expression}, during ${spec}`,
    `${spec} · ${rangeLabel(range)}, as one set · ${options.describe}`,
    '',
    `${fmt(row.count)} ids`,
  ];
  if (options.id !== undefined) lines.push(`id ${options.id}: ${row.member ? 'yes' : 'no'}`);
  if (row.ids !== undefined) {
    const ids = row.ids.join(', ');
    const more = row.more! > 0 ? `${ids === '' ? '' : ' '}(+${fmt(row.more!)} more)` : '';
    lines.push(
      `ids (at most ${options.limit}; --limit to change): ${ids === '' && more === '' ? '(none)' : ids}${more}`,
    );
  }
  return lines.join('\n');
}

function renderEvents(
  expression: string,
  spec: string,
  range: TimeRange,
  rows: readonly BucketRow[],
  options: { id: number | string | undefined; limit: number; describe: string },
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
        const cells = [
          row.bucket.key,
          bucketLabel(row.bucket),
          fmt(row.count),
          row.recorded === false ? '(no data)' : bar(row.count, peak),
        ];
        if (options.id !== undefined) cells.push(row.member ? 'yes' : '·');
        return cells;
      }),
      { left: 2, trim: true },
    ),
  );
  const counts = rows.map((r) => r.count);
  const trend = counts.length > TREND_WIDTH ? counts.slice(-TREND_WIDTH) : counts;
  if (rows.every((r) => r.recorded === false)) lines.push('(nothing recorded in this range)');
  else if (peak === 0) lines.push('(every bucket is empty)');
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
