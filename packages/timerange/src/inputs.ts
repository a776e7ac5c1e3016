import { DateTime } from 'luxon';
import { InvalidArgumentError } from './errors.js';

export type TimeInput = number | Date | DateTime | string;
export type Instant = Date | DateTime | number;

/** Epoch milliseconds of an absolute instant (Date, luxon DateTime or epoch ms). */
export function instantMs(value: unknown, argument: string): number {
  // Numbers first: they are what batches of millions of records carry.
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new InvalidArgumentError(argument, value, 'must be a finite epoch ms');
    return value;
  }
  if (value instanceof Date) {
    const ms = value.getTime();
    if (Number.isNaN(ms)) throw new InvalidArgumentError(argument, value, 'invalid Date');
    return ms;
  }
  if (DateTime.isDateTime(value)) {
    if (!value.isValid) {
      throw new InvalidArgumentError(
        argument,
        value.invalidReason,
        `invalid DateTime (${value.invalidExplanation})`,
      );
    }
    return value.toMillis();
  }
  throw new InvalidArgumentError(argument, value, 'must be a Date, a luxon DateTime or epoch milliseconds');
}

/** An ISO 8601 string; without an explicit offset it is read in `zone`. */
export function isoMs(value: string, zone: string, argument: string): number {
  const dt = DateTime.fromISO(value, { zone, setZone: true });
  if (!dt.isValid) throw new InvalidArgumentError(argument, value, 'not a valid ISO 8601 date or time');
  return dt.toMillis();
}
