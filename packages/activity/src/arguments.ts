/** Checks of the tracker's arguments: each throws InvalidArgumentError before anything is written. */
import { validateName } from '@porpoise/storage';
import { InvalidArgumentError, toEpochMs } from '@porpoise/timerange';
import { DateTime } from 'luxon';

/** The bucket of activity tracked without one. */
export const DEFAULT_BUCKET = 'all';

/** A non-empty list of bucket names, without duplicates (first occurrence kept). */
export function validateBuckets(value: unknown, argument: string): string[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new InvalidArgumentError(argument, value, 'must be a non-empty array of bucket names');
  }
  for (const bucket of value) validateName(bucket, argument);
  return [...new Set(value as string[])];
}

/**
 * `{ total: ['web', 'ios'] }`: named unions of buckets. Each aggregate names at least one
 * bucket, and no aggregate is a member of another (its raw ids do not exist: list its buckets).
 */
export function validateAggregates(value: unknown, argument = 'aggregateBuckets'): Map<string, string[]> {
  const aggregates = new Map<string, string[]>();
  if (value === undefined) return aggregates;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidArgumentError(
      argument,
      value,
      'must be an object mapping aggregate names to bucket lists',
    );
  }
  for (const [name, members] of Object.entries(value)) {
    validateName(name, argument);
    if (!Array.isArray(members) || members.length === 0) {
      throw new InvalidArgumentError(`${argument}.${name}`, members, 'must name at least one bucket');
    }
    for (const member of members) validateName(member, `${argument}.${name}`);
    aggregates.set(name, [...new Set(members as string[])]);
  }
  for (const [name, members] of aggregates) {
    const nested = members.find((member) => aggregates.has(member));
    if (nested !== undefined) {
      throw new InvalidArgumentError(
        `${argument}.${name}`,
        nested,
        'an aggregate cannot contain an aggregate: list its buckets instead',
      );
    }
  }
  return aggregates;
}

/**
 * An instant given as a Date, a luxon DateTime, epoch milliseconds or an ISO 8601 string (read
 * in `zone` when it carries no offset). Numbers are epoch milliseconds here, not the bucket
 * offsets of `@porpoise/timerange`: an activity happens at an instant, not in a range.
 */
export function instantOf(value: unknown, argument: string, zone: string): number {
  if (typeof value === 'string') {
    const dt = DateTime.fromISO(value, { zone });
    if (!dt.isValid) throw new InvalidArgumentError(argument, value, 'not a valid ISO 8601 date or time');
    return dt.toMillis();
  }
  return toEpochMs(value, argument);
}
