/**
 * Options and checks shared by the packages that record time series through a backend
 * (events, counters): which resolutions are stored, in which zone, under which namespace.
 */
import {
  InvalidArgumentError,
  range,
  resolutionFor,
  TimeRange,
  toEpochMs,
  type Unit,
  validateResolutions,
  type WeekStart,
} from '@porpoise/timerange';
import { validateNamespace } from './names.js';
import { type Retention, type RetentionPolicy, resolveRetention } from './retention.js';

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
  /**
   * Per recorded unit, how long its buckets are kept after they end (`{ hour: '35d', day:
   * '400d' }`): each key gets an expiry on its first write. Units without one are kept forever.
   */
  retention?: RetentionPolicy;
}

export interface ResolvedSeriesOptions {
  readonly resolutions: Unit[];
  readonly zone: string;
  readonly weekStart: WeekStart;
  readonly prefix: string;
  readonly now: () => Date;
  readonly retention: Retention;
}

export function resolveSeriesOptions(
  opts: SeriesOptions | undefined,
  defaultPrefix: string,
): ResolvedSeriesOptions {
  if (opts !== undefined && (typeof opts !== 'object' || opts === null)) {
    throw new InvalidArgumentError('opts', opts, 'must be an options object');
  }
  const resolutions = validateResolutions(
    opts?.resolutions === undefined ? ['hour', 'day', 'week', 'month'] : opts?.resolutions,
  );
  const weekStart = opts?.weekStart === undefined ? 1 : opts?.weekStart;
  // Let timerange validate the zone and week start with its own checks.
  const zone = range('day', 0, 0, {
    zone: opts?.zone === undefined ? 'UTC' : opts?.zone,
    weekStart,
    now: 0,
  }).zone;
  const prefix = opts?.prefix === undefined ? defaultPrefix : opts?.prefix;
  validateNamespace(prefix);
  const now = opts?.now === undefined ? () => new Date() : opts?.now;
  if (typeof now !== 'function')
    throw new InvalidArgumentError('now', now, 'must be a function returning a Date');
  const retention = resolveRetention(opts?.retention, resolutions);
  return { resolutions, zone, weekStart, prefix, now, retention };
}

/** The instant of a recording: `at` when given (Date, luxon DateTime, epoch ms), else now. */
export function recordingTime(at: unknown, options: ResolvedSeriesOptions): number {
  return at === undefined ? toEpochMs(options.now(), 'now') : toEpochMs(at, 'at');
}

/**
 * Bounds on what one query may touch, so no range can make the process allocate without
 * bound: whole-range answers (counts, union, sum, cohort) read at most this many stored
 * buckets; paged answers (over) stream any number of buckets but each may span at most
 * MAX_LEAVES_PER_BUCKET stored buckets (a year from minutes would be 525,600).
 */
export const MAX_QUERY_LEAVES = 200_000;
export const MAX_LEAVES_PER_BUCKET = 50_000;

/**
 * A query range must be a TimeRange in the recorder's zone and week start, answerable from
 * the stored resolutions, and within the query bounds above.
 */
export function checkRange(
  value: unknown,
  options: ResolvedSeriesOptions,
  mode: 'whole' | 'paged' = 'whole',
): asserts value is TimeRange {
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
  const stored = resolutionFor(value.unit, options.resolutions);
  const leaves = stored === value.unit ? value.size : value.split(stored).size;
  if (mode === 'whole' && leaves > MAX_QUERY_LEAVES) {
    throw new InvalidArgumentError(
      'range',
      String(value),
      `spans ${leaves} stored ${stored} buckets; one answer reads at most ${MAX_QUERY_LEAVES} (use over() to stream, or a coarser unit)`,
    );
  }
  if (value.size > 0 && leaves / value.size > MAX_LEAVES_PER_BUCKET) {
    throw new InvalidArgumentError(
      'range',
      String(value),
      `each ${value.unit} would combine about ${Math.round(leaves / value.size)} stored ${stored} buckets; record a coarser resolution`,
    );
  }
}
