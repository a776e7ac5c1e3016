import { bucketOf, InvalidArgumentError, type Unit } from '@porpoise/timerange';

export type Period = 'daily' | 'weekly' | 'monthly';

export const PERIODS: readonly Period[] = ['daily', 'weekly', 'monthly'];

const UNIT: Record<Period, Unit> = { daily: 'day', weekly: 'week', monthly: 'month' };
const LETTER: Record<Period, string> = { daily: 'd', weekly: 'w', monthly: 'm' };

export function unitOf(period: Period): Unit {
  return UNIT[period];
}

export function validatePeriod(value: unknown, argument = 'period'): asserts value is Period {
  if (typeof value !== 'string' || !(PERIODS as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(argument, value, `must be one of ${PERIODS.join(', ')}`);
  }
}

export function validatePeriods(value: unknown, argument = 'periods'): Period[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new InvalidArgumentError(argument, value, `must be a non-empty array of ${PERIODS.join(', ')}`);
  }
  for (const period of value) validatePeriod(period, argument);
  if (new Set(value).size !== value.length)
    throw new InvalidArgumentError(argument, value, 'periods must be distinct');
  return value as Period[];
}

/** One period instance: a day, an ISO week or a month, in the tracker's zone. */
export interface Instance {
  readonly period: Period;
  /** Epoch ms of its first instant. */
  readonly startMs: number;
  readonly endMs: number;
  /** 'YYYY-MM-DD' of its first day. */
  readonly date: string;
  /** Its locality group: every key one collapse touches ends with it. */
  readonly group: string;
}

export function letterOf(period: Period): string {
  return LETTER[period];
}

/** The locality group of the period instance whose bucket key is `bucketKey`. */
export function groupOf(period: Period, bucketKey: string): string {
  return `${LETTER[period]}${bucketKey}`;
}

export function instanceAt(period: Period, ms: number, zone: string): Instance {
  const bucket = bucketOf(ms, UNIT[period], { zone });
  return {
    period,
    startMs: bucket.startMs,
    endMs: bucket.endMs,
    date: bucket.start.toISODate() ?? '',
    group: groupOf(period, bucket.key),
  };
}
