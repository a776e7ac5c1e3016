/**
 * Which stored resolution answers a query: data recorded per day answers weeks and months
 * by combining the days inside them. Shared by every package that stores per-bucket data.
 */
import { type Bucket, bucketAt, bucketStartMs } from './bucket.js';
import { InvalidArgumentError } from './errors.js';
import { calendarFor } from './range.js';
import { divides, isUnit, UNITS, type Unit, type WeekStart } from './units.js';

/** Validate a list of stored resolutions: non-empty, distinct, known units. Returns it sorted finest first. */
export function validateResolutions(resolutions: unknown, argument = 'resolutions'): Unit[] {
  if (!Array.isArray(resolutions) || resolutions.length === 0) {
    throw new InvalidArgumentError(
      argument,
      resolutions,
      `must be a non-empty array of units (${UNITS.join(', ')})`,
    );
  }
  for (const unit of resolutions) {
    if (!isUnit(unit))
      throw new InvalidArgumentError(argument, unit, `unknown unit; use ${UNITS.join(', ')}`);
  }
  if (new Set(resolutions).size !== resolutions.length) {
    throw new InvalidArgumentError(argument, resolutions, 'units must be distinct');
  }
  return UNITS.filter((unit) => resolutions.includes(unit));
}

/**
 * The stored unit that answers queries in `unit`: the unit itself when stored, otherwise the
 * coarsest stored unit that tiles it. Throws when no stored unit can.
 */
export function resolutionFor(unit: Unit, stored: readonly Unit[]): Unit {
  if (stored.includes(unit)) return unit;
  const candidates = stored.filter((s) => divides(s, unit));
  const best = candidates.at(-1);
  if (best === undefined) {
    throw new InvalidArgumentError(
      'range.unit',
      unit,
      `cannot be answered from the recorded resolutions (${stored.join(', ')}): record a unit that tiles it`,
    );
  }
  return best;
}

/** The `unit` buckets that tile `bucket` (unit must divide bucket.unit). */
export function bucketsWithin(
  bucket: Bucket,
  unit: Unit,
  opts: { zone: string; weekStart?: WeekStart },
): Bucket[] {
  const calendar = calendarFor(opts);
  if (unit === bucket.unit) return [bucket];
  if (!divides(unit, bucket.unit)) {
    throw new InvalidArgumentError('unit', unit, `${unit} buckets do not tile ${bucket.unit} buckets`);
  }
  const out: Bucket[] = [];
  let cursor = bucketStartMs(bucket.startMs, unit, calendar);
  while (cursor < bucket.endMs) {
    const inner = bucketAt(cursor, unit, calendar);
    out.push(inner);
    cursor = inner.endMs;
  }
  return out;
}
