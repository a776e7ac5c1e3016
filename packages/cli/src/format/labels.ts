/** Human labels for buckets and ranges, in the range's zone. */
import { type Bucket, bucketOf, type TimeRange, type Unit } from '@porpoise/analytics';

const FORMATS: Record<Unit, string> = {
  minute: 'ccc dd LLL HH:mm',
  hour: 'ccc dd LLL HH:mm',
  day: 'ccc dd LLL',
  week: "'from' ccc dd LLL",
  month: 'LLLL yyyy',
  year: 'yyyy',
};

export function bucketLabel(bucket: Bucket): string {
  return bucket.start.toFormat(FORMATS[bucket.unit]);
}

const PLURAL: Record<Unit, string> = {
  minute: 'minutes',
  hour: 'hours',
  day: 'days',
  week: 'weeks',
  month: 'months',
  year: 'years',
};

/** "14 days from 2026-11-10 to 2026-11-23 (UTC)": the first and the last bucket's start. */
export function rangeLabel(range: TimeRange): string {
  const size = range.size;
  if (size === 0) return `no ${PLURAL[range.unit]} (an empty range, ${range.zone})`;
  const last = bucketOf(range.endMs - 1, range.unit, { zone: range.zone, weekStart: range.weekStart });
  const format = range.unit === 'minute' || range.unit === 'hour' ? 'yyyy-MM-dd HH:mm' : 'yyyy-MM-dd';
  const what = size === 1 ? range.unit : PLURAL[range.unit];
  return `${size} ${what} from ${range.start.toFormat(format)} to ${last.start.toFormat(format)} (${range.zone})`;
}

/** The range for --json: exact bounds as ISO strings. */
export function rangeJson(range: TimeRange): {
  unit: Unit;
  start: string;
  end: string;
  zone: string;
  buckets: number;
} {
  return {
    unit: range.unit,
    start: range.start.toISO()!,
    end: range.end.toISO()!,
    zone: range.zone,
    buckets: range.size,
  };
}
