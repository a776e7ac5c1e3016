/**
 * The `--range` syntax: `<unit>:<start>[..<end>]`, e.g. `day:-14` (= dayrange(-14)),
 * `hour:-24..0`, `day:2026-11-01..2026-11-08`. Bounds are integer offsets in the unit from the
 * current bucket, or ISO 8601 dates read in the zone; the end defaults to 0.
 */
import { PorpoiseError, type RangeOptions, range, type TimeRange, type Unit } from '@porpoise/analytics';
import { DateTime } from 'luxon';
import { UsageError } from '../errors.js';

export const UNITS: readonly Unit[] = ['minute', 'hour', 'day', 'week', 'month', 'year'];

const SYNTAX = 'expected <unit>:<start>[..<end>], e.g. day:-14, hour:-24..0 or day:2026-11-01..2026-11-08';

export interface RangeSpec {
  unit: Unit;
  start: number | string;
  end: number | string;
}

function parseBound(text: string, spec: string, which: 'start' | 'end'): number | string {
  if (text === '') throw new UsageError(`--range "${spec}": the ${which} is empty (${SYNTAX})`);
  // A bare integer is always an offset, even "2026": ISO years need a month (2026-01).
  if (/^[+-]?\d+$/.test(text)) {
    const offset = Number(text);
    if (!Number.isSafeInteger(offset)) {
      throw new UsageError(`--range "${spec}": the ${which} offset ${text} is too large`);
    }
    return offset;
  }
  if (!DateTime.fromISO(text, { zone: 'UTC' }).isValid) {
    throw new UsageError(
      `--range "${spec}": the ${which} "${text}" is neither an integer offset nor an ISO 8601 date`,
    );
  }
  return text;
}

/** The parts of a range, checked for syntax only (no clock or zone needed). */
export function parseRangeSpec(spec: string): RangeSpec {
  const colon = spec.indexOf(':');
  if (colon < 0) throw new UsageError(`--range "${spec}": ${SYNTAX}`);
  const unit = spec.slice(0, colon);
  if (!(UNITS as readonly string[]).includes(unit)) {
    throw new UsageError(`--range "${spec}": unknown unit "${unit}" (use ${UNITS.join(', ')})`);
  }
  const bounds = spec.slice(colon + 1);
  const dots = bounds.indexOf('..');
  const start = parseBound(dots < 0 ? bounds : bounds.slice(0, dots), spec, 'start');
  const end = dots < 0 ? 0 : parseBound(bounds.slice(dots + 2), spec, 'end');
  return { unit: unit as Unit, start, end };
}

/** The TimeRange of a `--range` value, with the clock and zone of the run. */
export function parseRange(spec: string, options: RangeOptions): TimeRange {
  const { unit, start, end } = parseRangeSpec(spec);
  try {
    return range(unit, start, end, options);
  } catch (error) {
    // timerange names its own arguments (start, end); the user typed --range.
    if (PorpoiseError.isInstance(error)) throw new UsageError(`--range "${spec}": ${error.message}`);
    throw error;
  }
}
