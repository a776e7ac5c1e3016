/** `porpoise cohort --cohort signup --activity active --unit week --periods 12`: the retention grid. */
import type { Analytics, CohortRow, Unit } from '@porpoise/analytics';
import { parseRange, UNITS } from '../args/range.js';
import { parseWholeNumber } from '../args/values.js';
import { UsageError } from '../errors.js';
import { toJson } from '../format/json.js';
import { rangeJson, rangeLabel } from '../format/labels.js';
import { fmt, pct, table } from '../format/text.js';
import type { Io } from '../io.js';
import { type CommonFlags, openSession, settingsOf } from '../session.js';

export interface CohortFlags extends CommonFlags {
  cohort?: string;
  activity?: string;
  unit?: string;
  periods?: string;
  range?: string;
}

export const DEFAULT_PERIODS = 12;
const MAX_PERIODS = 1000;

/** A cohort row for --json: the bucket as its key and start. */
export function cohortRowJson(row: CohortRow) {
  return {
    key: row.bucket.key,
    start: row.bucket.start.toISO()!,
    size: row.size,
    retained: row.retained,
    rates: row.rates,
    partial: row.partial,
    partialPeriods: row.cells.map((cell) => cell.partial),
  };
}

export async function cohortCommand(flags: CohortFlags, io: Io): Promise<void> {
  const settings = settingsOf(flags);
  const cohortName = flags.cohort ?? 'signup';
  const activityName = flags.activity ?? 'active';
  const unit = flags.unit ?? 'week';
  if (!(UNITS as readonly string[]).includes(unit)) {
    throw new UsageError(`--unit "${unit}": must be one of ${UNITS.join(', ')}`);
  }
  const periods =
    flags.periods === undefined
      ? DEFAULT_PERIODS
      : parseWholeNumber(flags.periods, '--periods', 1, MAX_PERIODS);
  // By default one cohort per period: the last `periods` whole buckets.
  const spec = flags.range ?? `${unit}:-${periods}`;
  const range = parseRange(spec, { zone: settings.zone, now: settings.now });
  if (flags.unit !== undefined && range.unit !== unit) {
    throw new UsageError(`--range "${spec}": its unit is ${range.unit}, but --unit is ${unit}`);
  }
  const read = (analytics: Analytics) =>
    analytics.cohort({
      cohort: analytics.events(cohortName),
      activity: analytics.events(activityName),
      range,
      periods,
    });
  const session = await openSession(settings, io, { check: read });
  try {
    const rows = await read(session.analytics);
    if (settings.json) {
      io.stdout.write(
        toJson({
          command: 'cohort',
          cohort: cohortName,
          activity: activityName,
          unit: range.unit,
          periods,
          range: { spec, ...rangeJson(range) },
          source: session.source,
          rows: rows.map(cohortRowJson),
        }),
      );
      return;
    }
    const columns = Array.from({ length: periods }, (_, k) => `${range.unit} ${k + 1}`);
    const lines = [
      `Retention: ${cohortName} → ${activityName}, by ${range.unit as Unit}`,
      `${spec} · ${rangeLabel(range)} · ${session.describe()}`,
      '',
      rows.length === 0
        ? '(no cohorts in this range)'
        : table(
            ['cohort', 'size', ...columns],
            rows.map((r) => [
              r.bucket.key,
              `${fmt(r.size)}${r.partial ? '*' : ''}`,
              ...columns.map((_, k) => {
                const cell = r.cells[k];
                return cell === undefined ? '' : `${pct(cell.rate)}${r.partial || cell.partial ? '*' : ''}`;
              }),
            ]),
            { trim: true },
          ),
      `(rate = share of the cohort that did ${activityName} k ${range.unit}s later; blank: not started by ${settings.now.toISOString()}; *: that ${range.unit} has not ended, so far)`,
    ];
    io.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await session.close();
  }
}
