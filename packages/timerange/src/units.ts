import { InvalidArgumentError } from './errors.js';

export type Unit = 'minute' | 'hour' | 'day' | 'week' | 'month' | 'year';
export type WeekStart = 1 | 7;

/** Units from finest to coarsest. */
export const UNITS: readonly Unit[] = ['minute', 'hour', 'day', 'week', 'month', 'year'];

const RANK: Record<Unit, number> = { minute: 0, hour: 1, day: 2, week: 3, month: 4, year: 5 };

export function isUnit(value: unknown): value is Unit {
  return typeof value === 'string' && Object.hasOwn(RANK, value);
}

export function validateUnit(value: unknown, argument = 'unit'): asserts value is Unit {
  if (!isUnit(value)) throw new InvalidArgumentError(argument, value, `must be one of ${UNITS.join(', ')}`);
}

/** True when `finer` is strictly finer than `coarser`. */
export function isFiner(finer: Unit, coarser: Unit): boolean {
  return RANK[finer] < RANK[coarser];
}

/**
 * Whether buckets of `finer` tile every bucket of `coarser` exactly. Weeks do not tile
 * months or years, so nothing is built from weeks but weeks themselves.
 */
export function divides(finer: Unit, coarser: Unit): boolean {
  if (finer === coarser) return true;
  if (!isFiner(finer, coarser)) return false;
  if (finer === 'week') return false;
  return true;
}
