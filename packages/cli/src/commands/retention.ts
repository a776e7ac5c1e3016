/** `porpoise retention --start signup --returning active --unit week --periods 8`: grid and curve. */
import type { RetentionCohort, RetentionKind, RetentionResult } from '@porpoise/analytics';
import { parseRange, UNITS } from '../args/range.js';
import { parseWholeNumber } from '../args/values.js';
import { UsageError } from '../errors.js';
import { toJson } from '../format/json.js';
import { rangeJson, rangeLabel } from '../format/labels.js';
import { fmt, pct, table } from '../format/text.js';
import type { Io } from '../io.js';
import { type CommonFlags, openSession, settingsOf } from '../session.js';

export interface RetentionFlags extends CommonFlags {
  start?: string;
  returning?: string;
  unit?: string;
  periods?: string;
  kind?: string;
  cohort?: string;
  range?: string;
  breakdown?: string[];
}

/** A retention grid for --json: buckets as their keys. */
export function retentionJson(result: Pick<RetentionResult, 'rows' | 'curve'>) {
  return {
    rows: result.rows.map((row) => ({
      key: row.bucket.key,
      start: row.bucket.start.toISO()!,
      size: row.size,
      partial: row.partial,
      cells: row.cells.map((c) => ({
        period: c.period,
        key: c.bucket.key,
        retained: c.retained,
        rate: c.rate,
        partial: c.partial,
      })),
    })),
    curve: result.curve,
  };
}

export async function retentionCommand(flags: RetentionFlags, io: Io): Promise<void> {
  const settings = settingsOf(flags);
  const startName = flags.start ?? 'signup';
  const returningName = flags.returning ?? 'active';
  const unit = flags.unit ?? 'week';
  if (!(UNITS as readonly string[]).includes(unit)) {
    throw new UsageError(`--unit "${unit}": must be one of ${UNITS.join(', ')}`);
  }
  const periods = flags.periods === undefined ? 8 : parseWholeNumber(flags.periods, '--periods', 1, 1000);
  const kind = (flags.kind ?? 'exact') as RetentionKind;
  if (kind !== 'exact' && kind !== 'on-or-after')
    throw new UsageError(`--kind "${kind}": must be exact or on-or-after`);
  const cohort = (flags.cohort ?? 'recurring') as RetentionCohort;
  if (cohort !== 'recurring' && cohort !== 'first-time') {
    throw new UsageError(`--cohort "${cohort}": must be recurring or first-time`);
  }
  const spec = flags.range ?? `${unit}:-${periods}..1`;
  const range = parseRange(spec, { zone: settings.zone, now: settings.now });
  if (range.unit !== unit)
    throw new UsageError(`--range "${spec}": its unit is ${range.unit}, but --unit is ${unit}`);
  const breakdown = flags.breakdown ?? [];
  const read = (analytics: Awaited<ReturnType<typeof openSession>>['analytics']) =>
    analytics.retention({
      start: analytics.events(startName),
      returning: analytics.events(returningName),
      range,
      periods,
      kind,
      cohort,
      breakdown: breakdown.map((name) => analytics.events(name)),
    });
  const session = await openSession(settings, io, { check: read });
  try {
    const result = await read(session.analytics);
    if (settings.json) {
      io.stdout.write(
        toJson({
          command: 'retention',
          start: startName,
          returning: returningName,
          unit,
          periods,
          kind,
          cohort,
          range: { spec, ...rangeJson(range) },
          source: session.source,
          ...retentionJson(result),
          breakdowns: result.breakdowns.map((b, i) => ({ breakdown: breakdown[i], ...retentionJson(b) })),
        }),
      );
      return;
    }
    const columns = Array.from({ length: periods }, (_, k) => `${unit} ${k}`);
    const grid = (g: Pick<RetentionResult, 'rows' | 'curve'>) =>
      table(
        ['cohort', 'size', ...columns],
        [
          ...g.rows.map((r) => [
            r.bucket.key,
            `${fmt(r.size)}${r.partial ? '*' : ''}`,
            ...columns.map((_, k) => {
              const cell = r.cells[k];
              return cell === undefined ? '' : `${pct(cell.rate)}${cell.partial ? '*' : ''}`;
            }),
          ]),
          [
            'average',
            fmt(g.curve[0]?.size ?? 0),
            ...columns.map((_, k) => {
              const point = g.curve[k];
              return point === undefined ? '' : `${pct(point.rate)}${point.partial ? '*' : ''}`;
            }),
          ],
        ],
        { trim: true },
      );
    const lines = [
      `Retention (${kind}, ${cohort} cohorts): ${startName} → ${returningName}, by ${unit}`,
      `${spec} · ${rangeLabel(range)} · ${session.describe()}`,
      '',
      grid(result),
      ...result.breakdowns.flatMap((b, i) => [
        '',
        `Breakdown: users who did ${breakdown[i]} in the range`,
        grid(b),
      ]),
      `(${unit} 0 is the cohort's own ${unit}; ${kind === 'exact' ? `share that did ${returningName} in exactly that ${unit}` : `share that did ${returningName} in that ${unit} or a later one`}; average: weighted by cohort size; blank: not started by ${settings.now.toISOString()}; *: not ended)`,
    ];
    io.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await session.close();
  }
}
