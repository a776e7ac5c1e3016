/** Checks of flag values. Each throws a UsageError naming the flag and the value. */
import { type Period, PorpoiseError, range } from '@porpoise/analytics';
import { DateTime } from 'luxon';
import { UsageError } from '../errors.js';

/** A whole number in [min, max], digits only: "1e3", "0x10", "-1", "NaN" and "" are refused. */
export function parseWholeNumber(text: string, flag: string, min: number, max: number): number {
  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(
      `${flag} "${text}": must be a whole number from ${min} to ${max.toLocaleString('en-US')}`,
    );
  }
  return value;
}

/** Largest event id: Redis bitmaps address bits 0 .. 2^32 - 1. */
export const MAX_EVENT_ID = 2 ** 32 - 1;

export function parseEventId(text: string, flag = '--id'): number {
  return parseWholeNumber(text, flag, 0, MAX_EVENT_ID);
}

/** "web, ios,android" → ['web', 'ios', 'android']; an empty entry is an error, not skipped. */
export function parseList(text: string, flag: string): string[] {
  const items = text.split(',').map((item) => item.trim());
  if (items.some((item) => item === '')) {
    throw new UsageError(`${flag} "${text}": expected a comma-separated list of names, e.g. web,ios`);
  }
  return [...new Set(items)];
}

/** Repeatable `name=a,b`: named unions of buckets. */
export function parseAggregates(values: readonly string[], flag = '--aggregate'): Record<string, string[]> {
  const aggregates: Record<string, string[]> = {};
  for (const text of values) {
    const eq = text.indexOf('=');
    const name = eq < 0 ? '' : text.slice(0, eq).trim();
    if (name === '')
      throw new UsageError(`${flag} "${text}": expected <name>=<bucket>,<bucket>…, e.g. total=web,ios`);
    if (Object.hasOwn(aggregates, name))
      throw new UsageError(`${flag} "${text}": "${name}" is defined twice`);
    // defineProperty, so an aggregate named "__proto__" is an ordinary entry.
    Object.defineProperty(aggregates, name, {
      value: parseList(text.slice(eq + 1), flag),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return aggregates;
}

/** The canonical name of an IANA zone. */
export function parseZone(text: string): string {
  try {
    return range('day', 0, 0, { zone: text, now: 0 }).zone;
  } catch (error) {
    if (PorpoiseError.isInstance(error)) {
      throw new UsageError(
        `--zone "${text}": unknown time zone (use an IANA name such as Europe/Paris or UTC)`,
      );
    }
    throw error;
  }
}

/** An ISO 8601 date or time; without an offset it is read in `zone`. */
export function parseInstant(text: string, flag: string, zone: string): Date {
  const dt = DateTime.fromISO(text, { zone });
  if (!dt.isValid) {
    throw new UsageError(
      `${flag} "${text}": not an ISO 8601 date or time (e.g. 2026-11-24 or 2026-11-24T12:00Z)`,
    );
  }
  return dt.toJSDate();
}

export const PERIODS: readonly Period[] = ['daily', 'weekly', 'monthly'];

export function parsePeriod(text: string, flag = '--period'): Period {
  if (!(PERIODS as readonly string[]).includes(text)) {
    throw new UsageError(`${flag} "${text}": must be one of ${PERIODS.join(', ')}`);
  }
  return text as Period;
}

export function parsePeriods(text: string, flag = '--periods'): Period[] {
  return parseList(text, flag).map((item) => parsePeriod(item, flag));
}

export type ActivityMode = 'exact' | 'approximate';

export function parseMode(text: string): ActivityMode {
  if (text !== 'exact' && text !== 'approximate') {
    throw new UsageError(`--mode "${text}": must be exact or approximate`);
  }
  return text;
}
