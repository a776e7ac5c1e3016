/**
 * Retention per resolution: how long a bucket's keys are kept after the bucket ends. The
 * recorders (events, counters) turn it into an `expire` on the first write of each key, so
 * the store itself forgets old buckets; no sweeper has to run.
 */
import { InvalidArgumentError, isUnit, type Unit } from '@porpoise/timerange';

/** A duration: a positive whole number of seconds, or text such as '90s', '15m', '36h', '400d', '2w'. */
export type Duration = number | string;

/** Per recorded unit, how long its buckets are kept after they end: `{ minute: '2d', hour: '35d' }`. */
export type RetentionPolicy = Partial<Record<Unit, Duration>>;

/** Retention resolved to milliseconds per unit; units without an entry are kept forever. */
export type Retention = ReadonlyMap<Unit, number>;

const UNIT_MS: Record<string, number> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
};

/** Longest retention accepted: 100 years of days (a typo such as '4000000d' is refused). */
export const MAX_RETENTION_MS = 36_525 * 86_400_000;

const DURATION = /^([0-9]+)([smhdw])$/;

/** A duration in milliseconds; `argument` names it in the error (e.g. 'retention.hour'). */
export function parseDuration(value: unknown, argument: string): number {
  let ms: number;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new InvalidArgumentError(argument, value, 'must be a positive whole number of seconds');
    }
    ms = value * 1000;
  } else if (typeof value === 'string') {
    const match = DURATION.exec(value);
    if (match === null) {
      throw new InvalidArgumentError(
        argument,
        value,
        "must be a positive amount with one of the units s, m, h, d, w (e.g. '90m', '35d', '2w')",
      );
    }
    const amount = Number(match[1]);
    if (amount <= 0 || !Number.isSafeInteger(amount)) {
      throw new InvalidArgumentError(argument, value, 'must be a positive duration');
    }
    ms = amount * UNIT_MS[match[2]!]!;
  } else {
    throw new InvalidArgumentError(
      argument,
      value,
      "must be a duration such as '35d' or a number of seconds",
    );
  }
  if (ms > MAX_RETENTION_MS) {
    throw new InvalidArgumentError(argument, value, 'must be at most 100 years (36525d)');
  }
  return ms;
}

/**
 * The `retention` option of a recorder: every key must be one of its recorded `resolutions`
 * (retention for a unit that is never written is a mistake), every value a duration.
 */
export function resolveRetention(value: unknown, resolutions: readonly Unit[]): Retention {
  const retention = new Map<Unit, number>();
  if (value === undefined) return retention;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidArgumentError(
      'retention',
      value,
      "must be an object of durations per unit, e.g. { hour: '35d', day: '400d' }",
    );
  }
  for (const [unit, duration] of Object.entries(value)) {
    if (!isUnit(unit)) {
      throw new InvalidArgumentError(
        'retention',
        unit,
        'keys must be units: minute, hour, day, week, month or year',
      );
    }
    if (!resolutions.includes(unit)) {
      throw new InvalidArgumentError(
        `retention.${unit}`,
        duration,
        `is for a unit that is not recorded (resolutions: ${resolutions.join(', ')})`,
      );
    }
    if (duration === undefined) continue;
    retention.set(unit, parseDuration(duration, `retention.${unit}`));
  }
  return retention;
}

/**
 * Seconds until a bucket ending at `endMs` must be forgotten, counted from `nowMs`: null when
 * the unit is kept forever, 0 or less when it is already past its retention.
 */
export function secondsToKeep(retention: Retention, unit: Unit, endMs: number, nowMs: number): number | null {
  const keep = retention.get(unit);
  if (keep === undefined) return null;
  return Math.ceil((endMs + keep - nowMs) / 1000);
}
