/**
 * `porpoise activity lookup` (active users per period and bucket) and `porpoise activity
 * collapse` (turn closed periods into final counts, with a progress bar on a terminal).
 */
import { type Analytics, type LookupRow, type Period, range, type Unit } from '@porpoise/analytics';
import { DateTime } from 'luxon';
import {
  parseAggregates,
  parseInstant,
  parseList,
  parseMode,
  parsePeriod,
  parsePeriods,
  parseWholeNumber,
} from '../args/values.js';
import { UsageError } from '../errors.js';
import { toJson } from '../format/json.js';
import { fmt, table } from '../format/text.js';
import type { Io } from '../io.js';
import { progressBar } from '../progress.js';
import { type CommonFlags, openSession, type Session, settingsOf } from '../session.js';

interface BucketFlags extends CommonFlags {
  buckets?: string;
  aggregate?: string[];
  mode?: string;
}

export interface LookupFlags extends BucketFlags {
  period?: string;
  start?: string;
  end?: string;
}

export interface CollapseFlags extends BucketFlags {
  maxPeriods?: string;
  periods?: string;
  date?: string;
}

const UNIT_OF: Record<Period, Unit> = { daily: 'day', weekly: 'week', monthly: 'month' };
const COLUMN_OF: Record<Period, string> = { daily: 'day', weekly: 'week', monthly: 'month' };
/** The tracker's own bound (MAX_COLLAPSE_PERIODS). */
const MAX_COLLAPSE = 10_000;
/** Collapsed periods shown as a table; --json has them all. */
const SHOWN_ROWS = 31;
/** Periods per lookup when reading back a collapse: far below the tracker's read limit. */
const LOOKUP_CHUNK = 1000;

function bucketsOf(flags: BucketFlags, fallback: string[] | undefined) {
  const aggregates = parseAggregates(flags.aggregate ?? []);
  const buckets = flags.buckets === undefined ? fallback : parseList(flags.buckets, '--buckets');
  return { buckets, aggregates };
}

/** The reported names: the buckets, then the aggregates not listed among them. */
function namesOf(buckets: readonly string[], aggregates: Record<string, string[]>): string[] {
  return [...new Set([...buckets, ...Object.keys(aggregates)])];
}

function dateCell(period: Period, date: string): string {
  return period === 'monthly' ? date.slice(0, 7) : date;
}

function rowsTable(period: Period, names: readonly string[], rows: readonly LookupRow[]): string {
  return table(
    [COLUMN_OF[period], ...names, 'collapsed'],
    rows.map((r) => [
      dateCell(period, r.date),
      ...names.map((n) => fmt(r.counts[n] ?? 0)),
      r.final ? 'yes' : 'live',
    ]),
    { trim: true },
  );
}

export async function lookupCommand(flags: LookupFlags, io: Io): Promise<void> {
  const settings = settingsOf(flags);
  const period = parsePeriod(flags.period ?? 'daily');
  const { buckets, aggregates } = bucketsOf(flags, ['all']);
  const end = flags.end === undefined ? settings.now : parseInstant(flags.end, '--end', settings.zone);
  const start =
    flags.start === undefined
      ? DateTime.fromJSDate(end, { zone: settings.zone }).minus({ days: 365 }).toJSDate()
      : parseInstant(flags.start, '--start', settings.zone);
  const mode = flags.mode === undefined ? 'exact' : parseMode(flags.mode);
  const names = namesOf(buckets!, aggregates);
  const read = (analytics: Analytics, empty = false) =>
    analytics.activity.lookup({
      period,
      start,
      end,
      buckets: names,
      aggregateBuckets: aggregates,
      allowUnknownBuckets: empty,
    });
  const session = await openSession(settings, io, { mode, check: read });
  try {
    const rows = await read(session.analytics);
    if (settings.json) {
      io.stdout.write(
        toJson({
          command: 'activity lookup',
          period,
          start: start.toISOString(),
          end: end.toISOString(),
          buckets: names,
          aggregates,
          source: session.source,
          rows,
        }),
      );
      return;
    }
    const span = `${isoIn(start, settings.zone)} to ${isoIn(end, settings.zone)} (end exclusive, ${settings.zone})`;
    const lines = [`Active users by bucket, ${period}`, `${span} · ${session.describe()}`, ''];
    lines.push(rows.length === 0 ? '(no periods start in this span)' : rowsTable(period, names, rows));
    if (Object.keys(aggregates).length > 0) {
      const unions = Object.entries(aggregates).map(([name, members]) => `${name} = ${members.join(' ∪ ')}`);
      lines.push(
        `(${unions.join('; ')}: exact unions on live periods; collapsed ones report what their collapse stored)`,
      );
    } else if (rows.some((r) => !r.final)) {
      // Live, an aggregate needs its members: from --aggregate, or from an earlier collapse.
      lines.push(
        '(live periods count an aggregate an earlier collapse was given, or one given with --aggregate)',
      );
    }
    io.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await session.close();
  }
}

function isoIn(date: Date, zone: string): string {
  const dt = DateTime.fromJSDate(date, { zone });
  return dt.equals(dt.startOf('day')) ? dt.toISODate()! : dt.toISO({ suppressMilliseconds: true })!;
}

/** The rows of the `count` periods just before the one containing `date`: what collapse just did. */
async function collapsedRows(
  session: Session,
  period: Period,
  count: number,
  date: Date,
  names: string[],
  aggregates: Record<string, string[]>,
): Promise<LookupRow[]> {
  const rows: LookupRow[] = [];
  const unit = UNIT_OF[period];
  for (let offset = -count; offset < 0; offset += LOOKUP_CHUNK) {
    const span = range(unit, offset, Math.min(0, offset + LOOKUP_CHUNK), {
      zone: session.settings.zone,
      now: date,
    });
    rows.push(
      ...(await session.analytics.activity.lookup({
        period,
        start: new Date(span.startMs),
        end: new Date(span.endMs),
        buckets: names,
        aggregateBuckets: aggregates,
      })),
    );
  }
  return rows;
}

export async function collapseCommand(flags: CollapseFlags, io: Io): Promise<void> {
  const settings = settingsOf(flags);
  const { buckets, aggregates } = bucketsOf(flags, undefined);
  const maxPeriods =
    flags.maxPeriods === undefined ? 1 : parseWholeNumber(flags.maxPeriods, '--max-periods', 1, MAX_COLLAPSE);
  const periods = flags.periods === undefined ? (['daily'] as Period[]) : parsePeriods(flags.periods);
  const date = flags.date === undefined ? settings.now : parseInstant(flags.date, '--date', settings.zone);
  const mode = flags.mode === undefined ? 'exact' : parseMode(flags.mode);
  if (buckets === undefined) throw new UsageError('--buckets is required: list every bucket you track');
  const args = { date, maxPeriods, buckets, aggregateBuckets: aggregates, periods };
  const session = await openSession(settings, io, {
    mode,
    check: (analytics) => analytics.activity.collapse(args),
  });
  try {
    const tracker = session.analytics.activity;
    const names = namesOf(buckets, aggregates);
    const results: Array<{ period: Period; collapsed: number; rows: LookupRow[] }> = [];
    for (const period of periods) {
      const progress = progressBar(io.stderr, `collapsing ${period} periods`, !settings.json);
      let collapsed = 0;
      try {
        await tracker.collapse({
          ...args,
          periods: [period],
          onProgress: (done, total) => {
            collapsed = done;
            progress.update(done, total);
          },
        });
      } finally {
        progress.finish();
      }
      results.push({
        period,
        collapsed,
        rows: await collapsedRows(session, period, collapsed, date, names, aggregates),
      });
    }
    if (settings.json) {
      io.stdout.write(
        toJson({
          command: 'activity collapse',
          date: date.toISOString(),
          maxPeriods,
          buckets: names,
          aggregates,
          source: session.source,
          periods: results,
        }),
      );
      return;
    }
    const before = isoIn(date, settings.zone);
    const lines = [
      `Collapse before ${before} (${settings.zone}) · at most ${fmt(maxPeriods)} per period type · ${session.describe()}`,
    ];
    for (const { period, collapsed, rows } of results) {
      lines.push('');
      if (collapsed === 0) {
        lines.push(`${period}: nothing to collapse (the latest closed period is already final)`);
        continue;
      }
      lines.push(
        `${period}: collapsed ${fmt(collapsed)} ${collapsed === 1 ? 'period' : 'periods'}, oldest first`,
      );
      const shown = rows.slice(-SHOWN_ROWS);
      lines.push(rowsTable(period, names, shown));
      if (shown.length < rows.length) {
        lines.push(`(${fmt(rows.length - shown.length)} earlier periods not shown; --json lists them all)`);
      }
    }
    io.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await session.close();
  }
}
