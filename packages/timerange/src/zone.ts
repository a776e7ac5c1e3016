/**
 * Zone offsets with a small cache. Hour and minute buckets are computed from offsets rather
 * than with luxon's wall-clock `startOf`, because wall-clock math cannot tell the two
 * occurrences of a repeated hour apart.
 */
import { IANAZone } from 'luxon';
import { InvalidArgumentError } from './errors.js';

const MINUTE = 60_000;
// Every zone offset in use is a multiple of 15 minutes, and transitions happen on such marks.
const SLOT = 15 * MINUTE;

export class ZoneClock {
  readonly name: string;
  readonly #zone: IANAZone;
  readonly #fixed: number | null;
  readonly #slotOffsets = new Map<number, number>();

  constructor(name: string) {
    if (typeof name !== 'string' || !IANAZone.isValidZone(name)) {
      throw new InvalidArgumentError('zone', name, 'unknown IANA time zone');
    }
    this.#zone = IANAZone.create(name);
    this.name = this.#zone.name;
    this.#fixed = this.name === 'UTC' || this.name === 'Etc/UTC' ? 0 : null;
  }

  /** Offset from UTC in minutes at instant `ms`. */
  offset(ms: number): number {
    if (this.#fixed !== null) return this.#fixed;
    const slot = Math.floor(ms / SLOT);
    const start = slot * SLOT;
    let atStart = this.#slotOffsets.get(slot);
    if (atStart === undefined) {
      atStart = this.#zone.offset(start);
      if (this.#slotOffsets.size > 50_000) this.#slotOffsets.clear();
      this.#slotOffsets.set(slot, atStart);
    }
    // A transition inside a slot is possible only for historical offsets; check the end.
    if (ms === start) return atStart;
    const atEnd = this.#slotOffsets.get(slot + 1) ?? this.#zone.offset(start + SLOT);
    return atEnd === atStart ? atStart : this.#zone.offset(ms);
  }

  /** The first instant in (from, to] whose offset equals offset(to). Requires offset(from) !== offset(to). */
  transitionBetween(from: number, to: number): number {
    const target = this.offset(to);
    let lo = from;
    let hi = to;
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (this.offset(mid) === target) hi = mid;
      else lo = mid;
    }
    return hi;
  }
}
