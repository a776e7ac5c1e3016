import { DateTime } from 'luxon';
import {
  type Bucket,
  bucketAt,
  bucketContaining,
  bucketEndMs,
  bucketStartMs,
  type Calendar,
  isKeyable,
  OUTSIDE_CALENDAR,
} from './bucket.js';
import { InvalidArgumentError } from './errors.js';
import { type Instant, instantMs, isoMs, type TimeInput } from './inputs.js';
import { divides, type Unit, validateUnit, type WeekStart } from './units.js';
import { ZoneClock } from './zone.js';

export interface RangeOptions {
  /** IANA zone in which bucket boundaries and keys are computed. Default 'UTC'. */
  zone?: string;
  /**
   * The current time for numeric offsets: a function returning a Date (the shape of the
   * recorders' `now` option, so a clock can be shared), or a fixed Date, DateTime or epoch ms.
   * Default: the system clock.
   */
  now?: (() => Date) | Date | DateTime | number;
  /** 1 = ISO weeks starting Monday (default), 7 = weeks starting Sunday. */
  weekStart?: WeekStart;
}

const DAY = 86_400_000;
const NOMINAL_MS: Record<Unit, number> = {
  minute: 60_000,
  hour: 3_600_000,
  day: DAY,
  week: 7 * DAY,
  month: 30.4375 * DAY,
  year: 365.25 * DAY,
};
// Years 1 and 9999 give or take a year: what an offset may reach before it is checked exactly.
const CALENDAR_LOW = -62_135_596_800_000 - 366 * DAY;
const CALENDAR_HIGH = 253_402_300_800_000 + 366 * DAY;
const SUB_DAY_SIZE: Partial<Record<Unit, number>> = { minute: 60_000, hour: 3_600_000 };

// Zones are validated once per name; ZoneClock caches offsets, so share clocks per zone.
const clocks = new Map<string, ZoneClock>();

export function calendarFor(opts: RangeOptions | undefined): Calendar {
  if (opts !== undefined && (typeof opts !== 'object' || opts === null)) {
    throw new InvalidArgumentError('opts', opts, 'must be an options object');
  }
  const zone = opts?.zone === undefined ? 'UTC' : opts?.zone;
  let clock = clocks.get(zone as string);
  if (!clock) {
    clock = new ZoneClock(zone);
    if (clocks.size > 1000) clocks.clear();
    clocks.set(zone, clock);
  }
  const weekStart = opts?.weekStart === undefined ? 1 : opts?.weekStart;
  if (weekStart !== 1 && weekStart !== 7) {
    throw new InvalidArgumentError('weekStart', weekStart, 'must be 1 (Monday) or 7 (Sunday)');
  }
  return { clock, weekStart };
}

function nowMs(opts: RangeOptions | undefined): number {
  if (opts?.now === undefined) return Date.now();
  return typeof opts.now === 'function' ? instantMs(opts.now(), 'now') : instantMs(opts.now, 'now');
}

/** Move `n` whole buckets from the bucket start `startMs`. */
function shift(startMs: number, n: number, unit: Unit, calendar: Calendar): number {
  if (SUB_DAY_SIZE[unit] === undefined) {
    const dt = DateTime.fromMillis(startMs, { zone: calendar.clock.name });
    const moved = unit === 'week' ? dt.plus({ days: 7 * n }) : dt.plus({ [unit]: n });
    return bucketStartMs(moved.toMillis(), unit, calendar);
  }
  let cursor = startMs;
  for (let i = 0; i < n; i++) cursor = bucketEndMs(cursor, unit, calendar);
  for (let i = 0; i > n; i--) cursor = bucketStartMs(cursor - 1, unit, calendar);
  return cursor;
}

function resolveBound(
  value: TimeInput,
  argument: string,
  unit: Unit,
  calendar: Calendar,
  current: () => number,
) {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) {
      throw new InvalidArgumentError(
        argument,
        value,
        'a numeric bound is a whole number of buckets from now',
      );
    }
    const from = current();
    // Refuse at once what cannot land in the calendar: epoch ms passed as an offset would
    // otherwise step through a trillion hours, or leave luxon's range and give NaN.
    const nominal = from + value * NOMINAL_MS[unit];
    if (!(nominal > CALENDAR_LOW && nominal < CALENDAR_HIGH)) throw offCalendarOffset(argument, value, unit);
    const ms = shift(from, value, unit, calendar);
    if (!isKeyable(ms, calendar.clock) && !isKeyable(ms - 1, calendar.clock)) {
      throw offCalendarOffset(argument, value, unit);
    }
    return ms;
  }
  const ms =
    typeof value === 'string' ? isoMs(value, calendar.clock.name, argument) : instantMs(value, argument);
  return { instant: ms };
}

function offCalendarOffset(argument: string, value: number, unit: Unit): InvalidArgumentError {
  return new InvalidArgumentError(
    argument,
    value,
    `a number is an offset in ${unit}s from the current ${unit}, and this one ${OUTSIDE_CALENDAR}; ` +
      `to pass an instant in epoch milliseconds, pass new Date(${value})`,
  );
}

function describeBound(value: TimeInput): string {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  if (DateTime.isDateTime(value)) return value.toISO() ?? String(value);
  return String(value);
}

/** Number of buckets that start in [startMs, endMs); both are bucket starts. */
function countBuckets(startMs: number, endMs: number, unit: Unit, calendar: Calendar): number {
  const size = SUB_DAY_SIZE[unit];
  const { clock } = calendar;
  if (size === undefined) {
    const start = DateTime.fromMillis(startMs, { zone: clock.name });
    const end = DateTime.fromMillis(endMs, { zone: clock.name });
    if (unit === 'week') return Math.round(end.diff(start, 'days').days / 7);
    return Math.round(end.diff(start, unit).get(unit));
  }
  let count = 0;
  let cursor = startMs;
  while (cursor < endMs) {
    // Skip a whole day at once when the offset is constant and the cursor sits on a wall mark.
    const offset = clock.offset(cursor) * 60_000;
    if (
      endMs - cursor >= DAY &&
      (cursor + offset) % size === 0 &&
      clock.offset(cursor + DAY) * 60_000 === offset &&
      clock.offset(cursor + DAY / 2) * 60_000 === offset
    ) {
      count += DAY / size;
      cursor += DAY;
      continue;
    }
    cursor = bucketEndMs(cursor, unit, calendar);
    count++;
  }
  return count;
}

export class TimeRange implements Iterable<Bucket> {
  readonly unit: Unit;
  readonly zone: string;
  readonly weekStart: WeekStart;
  /** Epoch ms of the first bucket's start. */
  readonly startMs: number;
  /** Epoch ms of the end (exclusive): the start of the bucket after the last. */
  readonly endMs: number;
  readonly #calendar: Calendar;
  #size = -1;

  /** Use `range()` or the unit factories; this constructor trusts aligned bounds. */
  constructor(unit: Unit, startMs: number, endMs: number, calendar: Calendar) {
    this.unit = unit;
    this.startMs = startMs;
    this.endMs = endMs;
    this.#calendar = calendar;
    this.zone = calendar.clock.name;
    this.weekStart = calendar.weekStart;
  }

  get start(): DateTime {
    return DateTime.fromMillis(this.startMs, { zone: this.zone });
  }

  get end(): DateTime {
    return DateTime.fromMillis(this.endMs, { zone: this.zone });
  }

  /** Number of buckets. */
  get size(): number {
    if (this.#size < 0) this.#size = countBuckets(this.startMs, this.endMs, this.unit, this.#calendar);
    return this.#size;
  }

  /** The same span in a finer unit that tiles this one (a week into its 7 days). */
  split(unit: Unit): TimeRange {
    validateUnit(unit);
    if (!divides(unit, this.unit)) {
      throw new InvalidArgumentError('unit', unit, `${unit} buckets do not tile ${this.unit} buckets`);
    }
    return new TimeRange(unit, this.startMs, this.endMs, this.#calendar);
  }

  includes(t: Instant): boolean {
    const ms = instantMs(t, 't');
    return ms >= this.startMs && ms < this.endMs;
  }

  /** Buckets in time order, computed lazily. */
  *[Symbol.iterator](): Iterator<Bucket> {
    let cursor = this.startMs;
    while (cursor < this.endMs) {
      const bucket = bucketAt(cursor, this.unit, this.#calendar);
      yield bucket;
      cursor = bucket.endMs;
    }
  }

  /** All buckets as an array (mind the size of minute ranges). */
  buckets(): Bucket[] {
    return [...this];
  }

  toString(): string {
    return `${this.unit}range(${this.start.toISO()} .. ${this.end.toISO()}, ${this.zone})`;
  }
}

/**
 * The range of `unit` buckets from `start` to `end`. Numbers are whole buckets relative to
 * the start of the current bucket (start defaults to -1, end to 0); absolute bounds select
 * every bucket whose start lies in [floor(start), end).
 */
export function range(unit: Unit, start: TimeInput = -1, end: TimeInput = 0, opts?: RangeOptions): TimeRange {
  validateUnit(unit);
  const calendar = calendarFor(opts);
  let current: number | undefined;
  const currentStart = () => {
    current ??= bucketStartMs(nowMs(opts), unit, calendar);
    return current;
  };
  const first = resolveBound(start, 'start', unit, calendar, currentStart);
  const last = resolveBound(end, 'end', unit, calendar, currentStart);
  // Compare the bounds as given, before flooring: two instants inside one bucket would
  // otherwise floor to an empty range (or a one-bucket range) whatever their order.
  const startInstant = typeof first === 'number' ? first : first.instant;
  const endInstant = typeof last === 'number' ? last : last.instant;
  if (typeof first !== 'number' && !isKeyable(first.instant, calendar.clock)) {
    throw new InvalidArgumentError('start', start, OUTSIDE_CALENDAR);
  }
  // The end is exclusive: an end at 10000-01-01T00:00 still closes a range of year-9999 buckets.
  if (typeof last !== 'number' && !isKeyable(last.instant - 1, calendar.clock)) {
    throw new InvalidArgumentError('end', end, OUTSIDE_CALENDAR);
  }
  if (startInstant > endInstant) {
    throw new InvalidArgumentError(
      'start',
      start,
      `the range starts after its end (${describeBound(end)}); pass the earlier bound first`,
    );
  }
  const startMs = typeof first === 'number' ? first : bucketStartMs(first.instant, unit, calendar);
  let endMs: number;
  if (typeof last === 'number') {
    endMs = last;
  } else {
    const floor = bucketStartMs(last.instant, unit, calendar);
    endMs = floor === last.instant ? floor : bucketEndMs(floor, unit, calendar);
  }
  return new TimeRange(unit, startMs, endMs, calendar);
}

export const minuterange = (start?: TimeInput, end?: TimeInput, opts?: RangeOptions) =>
  range('minute', start, end, opts);
export const hourrange = (start?: TimeInput, end?: TimeInput, opts?: RangeOptions) =>
  range('hour', start, end, opts);
export const dayrange = (start?: TimeInput, end?: TimeInput, opts?: RangeOptions) =>
  range('day', start, end, opts);
export const weekrange = (start?: TimeInput, end?: TimeInput, opts?: RangeOptions) =>
  range('week', start, end, opts);
export const monthrange = (start?: TimeInput, end?: TimeInput, opts?: RangeOptions) =>
  range('month', start, end, opts);
export const yearrange = (start?: TimeInput, end?: TimeInput, opts?: RangeOptions) =>
  range('year', start, end, opts);

/** The bucket of `unit` that contains `t`. */
export function bucketOf(t: Instant, unit: Unit, opts?: Omit<RangeOptions, 'now'>): Bucket {
  validateUnit(unit);
  const calendar = calendarFor(opts);
  const ms = instantMs(t, 't');
  if (!isKeyable(ms, calendar.clock)) throw new InvalidArgumentError('t', t, OUTSIDE_CALENDAR);
  return bucketContaining(ms, unit, calendar);
}
