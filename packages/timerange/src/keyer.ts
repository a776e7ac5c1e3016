/**
 * The hot path for recording: bucket keys of many instants without luxon per call.
 * Formatting keys with luxon costs microseconds; ingest needs nanoseconds. Every zone
 * offset in use is a multiple of 15 minutes, so a 15-minute slot never straddles an hour
 * (or coarser) boundary: one computed key serves the whole slot.
 */
import {
  bucketContaining,
  bucketKeyAt,
  bucketStartMs,
  type Calendar,
  isKeyable,
  OUTSIDE_CALENDAR,
} from './bucket.js';
import { InvalidArgumentError } from './errors.js';
import { calendarFor, type RangeOptions } from './range.js';
import { type Unit, validateUnit } from './units.js';

const SLOT = 15 * 60_000;
const MAX_CACHED_SLOTS = 100_000;

export class BucketKeyer {
  readonly zone: string;
  readonly #calendar: Calendar;
  readonly #slots = new Map<Unit, Map<number, string>>();

  constructor(opts?: Omit<RangeOptions, 'now'>) {
    this.#calendar = calendarFor(opts);
    this.zone = this.#calendar.clock.name;
  }

  /** The key of the `unit` bucket containing epoch ms `ms`; equals `bucketOf(ms, unit).key`. */
  key(ms: number, unit: Unit): string {
    if (typeof ms !== 'number' || !Number.isFinite(ms)) {
      throw new InvalidArgumentError('ms', ms, 'must be finite epoch milliseconds');
    }
    if (!isKeyable(ms, this.#calendar.clock)) throw new InvalidArgumentError('ms', ms, OUTSIDE_CALENDAR);
    if (unit === 'minute') return bucketKeyAt(bucketStartMs(ms, unit, this.#calendar), unit, this.#calendar);
    let slots = this.#slots.get(unit);
    if (!slots) {
      validateUnit(unit);
      slots = new Map();
      this.#slots.set(unit, slots);
    }
    const slot = Math.floor(ms / SLOT);
    let key = slots.get(slot);
    if (key === undefined) {
      const bucket = bucketContaining(slot * SLOT, unit, this.#calendar);
      key = bucket.key;
      // Historical offsets with seconds could split a slot; then do not cache it.
      if (bucket.endMs < (slot + 1) * SLOT) return bucketContaining(ms, unit, this.#calendar).key;
      if (slots.size >= MAX_CACHED_SLOTS) slots.clear();
      slots.set(slot, key);
    }
    return key;
  }
}
