/**
 * The nightly job: collapse every closed period of activity into counts, and say what
 * changed. `ActivityTracker.collapse` does the work (guarded and atomic per period); this
 * module decides the arguments and reads the state before and after, so the job can log
 * which periods it turned final and with which counts.
 */
import {
  type ActivityTracker,
  InvalidArgumentError,
  type LookupRow,
  MAX_COLLAPSE_PERIODS,
  type Period,
} from '@porpoise/activity';

export interface NightlyCollapseOptions {
  tracker: ActivityTracker;
  /** Every bucket the application tracks: a bucket left out keeps its raw ids forever. */
  buckets: string[];
  /** Named exact unions of buckets, e.g. `{ total: ['web', 'ios'] }`. */
  aggregateBuckets?: Record<string, string[]>;
  /** How many closed periods one run may catch up on, per period type. Default 60. */
  maxPeriods?: number;
  /** Default: every period the tracker records. */
  periods?: readonly Period[];
  /** Periods that ended at or before this instant are collapsed. Default: now. */
  date?: Date;
}

export interface CollapsedPeriod {
  /** First day of the period, 'YYYY-MM-DD'. */
  date: string;
  /** Live counts just before the run (aggregates as live unions). */
  before: Record<string, number>;
  /** The counts stored by the collapse. */
  after: Record<string, number>;
}

export interface PeriodReport {
  period: Period;
  /** Periods that became final during this run, oldest first. */
  collapsed: CollapsedPeriod[];
  /** Every period of the window after the run, oldest first; the last one is open. */
  rows: LookupRow[];
}

export interface NightlyCollapseReport {
  date: Date;
  maxPeriods: number;
  periods: PeriodReport[];
}

const HOUR = 3_600_000;
// The longest instance of each period, with an hour to spare for a DST change.
const LONGEST: Record<Period, number> = { daily: 25 * HOUR, weekly: 169 * HOUR, monthly: 745 * HOUR };

export async function runNightlyCollapse({
  tracker,
  buckets,
  aggregateBuckets = {},
  maxPeriods = 60,
  periods = tracker.periods,
  date = new Date(),
}: NightlyCollapseOptions): Promise<NightlyCollapseReport> {
  // Checked here too: the lookup window below is computed from it before collapse sees it.
  if (!Number.isSafeInteger(maxPeriods) || maxPeriods < 1 || maxPeriods > MAX_COLLAPSE_PERIODS) {
    throw new InvalidArgumentError(
      'maxPeriods',
      maxPeriods,
      `must be an integer in [1, ${MAX_COLLAPSE_PERIODS}]`,
    );
  }
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) {
    throw new InvalidArgumentError('date', date, 'must be a valid Date');
  }
  const reports: PeriodReport[] = [];
  for (const period of periods) {
    // The window reaches back past the oldest period this run may touch, and forward to the
    // open period, so every period collapse can turn final is in it.
    const window = {
      period,
      start: new Date(date.getTime() - (maxPeriods + 1) * LONGEST[period]),
      end: new Date(date.getTime() + 1),
      buckets,
      aggregateBuckets,
    };
    const before = await tracker.lookup(window);
    await tracker.collapse({ date, maxPeriods, buckets, aggregateBuckets, periods: [period] });
    const after = await tracker.lookup(window);
    const wasFinal = new Map(before.map((row) => [row.date, row]));
    const collapsed: CollapsedPeriod[] = [];
    for (const row of after) {
      const earlier = wasFinal.get(row.date);
      // A period that turned final while we ran; a second job racing this one may have
      // written it, which is fine: the marker guard lets exactly one of them store counts.
      if (row.final && earlier && !earlier.final) {
        collapsed.push({ date: row.date, before: earlier.counts, after: row.counts });
      }
    }
    reports.push({ period, collapsed, rows: after });
  }
  return { date, maxPeriods, periods: reports };
}
