/**
 * Options and checks shared by the packages that record time series through a backend
 * (events, counters): which resolutions are stored, in which zone, under which namespace.
 */
import {
  InvalidArgumentError,
  range,
  TimeRange,
  toEpochMs,
  type Unit,
  validateResolutions,
  type WeekStart,
} from '@porpoise/timerange';
import { validateNamespace } from './names.js';

export interface SeriesOptions {
  /** Units data is recorded at. Default hour, day, week and month. */
  resolutions?: Unit[];
  /** IANA zone of the buckets. Default 'UTC'. */
  zone?: string;
  /** 1 = ISO weeks (default), 7 = weeks starting Sunday. */
  weekStart?: WeekStart;
  /** Namespace inside the backend (1-64 characters of [A-Za-z0-9_.-]). */
  prefix?: string;
  /** The clock for data recorded without a time. Default: the system clock. */
  now?: () => Date;
}

export interface ResolvedSeriesOptions {
  readonly resolutions: Unit[];
  readonly zone: string;
  readonly weekStart: WeekStart;
  readonly prefix: string;
  readonly now: () => Date;
}

export function resolveSeriesOptions(
  opts: SeriesOptions | undefined,
  defaultPrefix: string,
): ResolvedSeriesOptions {
  if (opts !== undefined && (typeof opts !== 'object' || opts === null)) {
    throw new InvalidArgumentError('opts', opts, 'must be an options object');
  }
  const resolutions = validateResolutions(opts?.resolutions ?? ['hour', 'day', 'week', 'month']);
  const weekStart = opts?.weekStart ?? 1;
  // Let timerange validate the zone and week start with its own checks.
  const zone = range('day', 0, 0, { zone: opts?.zone ?? 'UTC', weekStart, now: 0 }).zone;
  const prefix = opts?.prefix ?? defaultPrefix;
  validateNamespace(prefix);
  const now = opts?.now ?? (() => new Date());
  if (typeof now !== 'function')
    throw new InvalidArgumentError('now', now, 'must be a function returning a Date');
  return { resolutions, zone, weekStart, prefix, now };
}

/** The instant of a recording: `at` when given (Date, luxon DateTime, epoch ms), else now. */
export function recordingTime(at: unknown, options: ResolvedSeriesOptions): number {
  return at === undefined ? toEpochMs(options.now(), 'now') : toEpochMs(at, 'at');
}

/** A query range must be a TimeRange in the recorder's zone and week start. */
export function checkRange(value: unknown, options: ResolvedSeriesOptions): asserts value is TimeRange {
  if (!(value instanceof TimeRange)) {
    throw new InvalidArgumentError('range', value, 'must be a TimeRange (e.g. dayrange(-7))');
  }
  if (value.zone !== options.zone || (value.unit === 'week' && value.weekStart !== options.weekStart)) {
    throw new InvalidArgumentError(
      'range',
      String(value),
      `must use the zone ${options.zone}${value.unit === 'week' ? ` and week start ${options.weekStart}` : ''} the data was recorded in`,
    );
  }
}
