/**
 * Bucket boundaries and keys.
 *
 * Minute and hour buckets are real stretches of elapsed time between local wall-clock marks
 * and offset transitions, computed from zone offsets: a repeated hour (DST ends) yields two
 * buckets, the second keyed with a `b` after the hour digits (`2026110101b`), which sorts
 * between the first occurrence and the next hour. A 30-minute transition (Lord Howe) yields
 * a 30-minute bucket. Day and coarser buckets follow the local calendar via luxon.
 */
import { DateTime } from 'luxon';
import type { Unit, WeekStart } from './units.js';
import type { ZoneClock } from './zone.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const SUB_DAY: Partial<Record<Unit, number>> = { minute: MINUTE, hour: HOUR };
// Longest fall-back any zone has used; bounds the search for a repeated wall time.
const MAX_FALL_BACK = 3 * HOUR;

/** Keys print years with four digits: only years 1 to 9999 give keys that sort in time order. */
export const FIRST_YEAR = 1;
export const LAST_YEAR = 9999;
// Instants this far from year 1 or 9999 in UTC are inside them in every zone (offsets stay under a day).
const EDGE = 2 * 86_400_000;
const SAFE_LOW = utcYearStart(FIRST_YEAR) + EDGE;
const SAFE_HIGH = utcYearStart(LAST_YEAR + 1) - EDGE;
// Date and luxon hold instants up to 8.64e15 ms either side of the epoch.
const MAX_INSTANT = 8.64e15;

function utcYearStart(year: number): number {
  // Date.UTC maps years 0-99 to 1900-1999; setUTCFullYear does not.
  const date = new Date(0);
  date.setUTCFullYear(year, 0, 1);
  return date.getTime();
}

/**
 * Whether the bucket keys of instant `ms` (in every unit) sort in time order: its wall-clock
 * year in the zone is 1 to 9999. ISO weeks agree: 0001-01-01 is a Monday and 9999-12-31 a
 * Friday, so no week of those years belongs to week-year 0 or 10000.
 */
export function isKeyable(ms: number, clock: ZoneClock): boolean {
  if (ms > SAFE_LOW && ms < SAFE_HIGH) return true;
  if (!(Math.abs(ms) <= MAX_INSTANT)) return false;
  const offset = clock.offset(ms);
  if (!Number.isFinite(offset)) return false;
  const year = new Date(ms + offset * MINUTE).getUTCFullYear();
  return year >= FIRST_YEAR && year <= LAST_YEAR;
}

export const OUTSIDE_CALENDAR = `lies outside the years ${FIRST_YEAR}-${LAST_YEAR}: bucket keys print four-digit years, so keys of other years would not sort in time order`;

export interface Bucket {
  readonly unit: Unit;
  readonly start: DateTime;
  readonly end: DateTime;
  /** Epoch ms of `start`. */
  readonly startMs: number;
  /** Epoch ms of `end` (exclusive). */
  readonly endMs: number;
  readonly key: string;
  toString(): string;
}

export interface Calendar {
  readonly clock: ZoneClock;
  readonly weekStart: WeekStart;
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

function calendarStart(dt: DateTime, unit: Unit, weekStart: WeekStart): DateTime {
  if (unit === 'week') {
    if (weekStart === 7) return dt.plus({ days: 1 }).startOf('week').minus({ days: 1 }).startOf('day');
    return dt.startOf('week');
  }
  return dt.startOf(unit);
}

export function bucketStartMs(ms: number, unit: Unit, { clock, weekStart }: Calendar): number {
  const size = SUB_DAY[unit];
  if (size === undefined) {
    return calendarStart(DateTime.fromMillis(ms, { zone: clock.name }), unit, weekStart).toMillis();
  }
  const offset = clock.offset(ms) * MINUTE;
  let start = Math.floor((ms + offset) / size) * size - offset;
  // The wall mark lies before a transition that happened since: the bucket starts there.
  if (start < ms && clock.offset(start) * MINUTE !== offset) start = clock.transitionBetween(start, ms);
  return start;
}

export function bucketEndMs(startMs: number, unit: Unit, calendar: Calendar): number {
  const size = SUB_DAY[unit];
  const { clock } = calendar;
  if (size === undefined) {
    const start = DateTime.fromMillis(startMs, { zone: clock.name });
    return bucketStartMs(start.plus({ [unit]: 1 }).toMillis(), unit, calendar);
  }
  const offset = clock.offset(startMs) * MINUTE;
  const next = (Math.floor((startMs + offset) / size) + 1) * size - offset;
  if (clock.offset(next - 1) * MINUTE !== offset) return clock.transitionBetween(startMs, next - 1);
  return next;
}

/** Whether the wall time at `ms` already occurred earlier (the clock was turned back). */
function isRepeatedWallTime(ms: number, clock: ZoneClock): boolean {
  const now = clock.offset(ms);
  const before = clock.offset(ms - MAX_FALL_BACK);
  if (before <= now) return false;
  const transition = clock.transitionBetween(ms - MAX_FALL_BACK, ms);
  return ms < transition + (before - now) * MINUTE;
}

export function bucketKeyAt(startMs: number, unit: Unit, { clock, weekStart }: Calendar): string {
  if (unit === 'minute' || unit === 'hour') {
    const wall = new Date(startMs + clock.offset(startMs) * MINUTE);
    const hour =
      `${pad(wall.getUTCFullYear(), 4)}${pad(wall.getUTCMonth() + 1)}${pad(wall.getUTCDate())}${pad(wall.getUTCHours())}` +
      (isRepeatedWallTime(startMs, clock) ? 'b' : '');
    return unit === 'hour' ? hour : `${hour}${pad(wall.getUTCMinutes())}`;
  }
  const dt = DateTime.fromMillis(startMs, { zone: clock.name });
  switch (unit) {
    case 'day':
      return `${pad(dt.year, 4)}${pad(dt.month)}${pad(dt.day)}`;
    case 'week': {
      // Sunday weeks take the ISO week of their Monday, so keys stay unique and ordered.
      const monday = weekStart === 7 ? dt.plus({ days: 1 }) : dt;
      return `${pad(monday.weekYear, 4)}W${pad(monday.weekNumber)}`;
    }
    case 'month':
      return `${pad(dt.year, 4)}${pad(dt.month)}`;
    default:
      return pad(dt.year, 4);
  }
}

class BucketValue implements Bucket {
  readonly unit: Unit;
  readonly startMs: number;
  readonly endMs: number;
  readonly key: string;
  readonly #zone: string;

  constructor(unit: Unit, startMs: number, endMs: number, key: string, zone: string) {
    this.unit = unit;
    this.startMs = startMs;
    this.endMs = endMs;
    this.key = key;
    this.#zone = zone;
  }

  get start(): DateTime {
    return DateTime.fromMillis(this.startMs, { zone: this.#zone });
  }

  get end(): DateTime {
    return DateTime.fromMillis(this.endMs, { zone: this.#zone });
  }

  toString(): string {
    return this.key;
  }

  toJSON(): { unit: Unit; key: string; start: string; end: string } {
    return { unit: this.unit, key: this.key, start: this.start.toISO() ?? '', end: this.end.toISO() ?? '' };
  }
}

/** The bucket that starts at `startMs` (which must be a bucket start). */
export function bucketAt(startMs: number, unit: Unit, calendar: Calendar): Bucket {
  return new BucketValue(
    unit,
    startMs,
    bucketEndMs(startMs, unit, calendar),
    bucketKeyAt(startMs, unit, calendar),
    calendar.clock.name,
  );
}

/** The bucket containing instant `ms`. */
export function bucketContaining(ms: number, unit: Unit, calendar: Calendar): Bucket {
  return bucketAt(bucketStartMs(ms, unit, calendar), unit, calendar);
}
