export type { Bucket, Calendar } from './bucket.js';
export { InvalidArgumentError, PorpoiseError, type PorpoiseErrorCode } from './errors.js';
export { type Instant, instantMs as toEpochMs, type TimeInput } from './inputs.js';
export { BucketKeyer } from './keyer.js';
export {
  bucketOf,
  dayrange,
  hourrange,
  minuterange,
  monthrange,
  type RangeOptions,
  range,
  TimeRange,
  weekrange,
  yearrange,
} from './range.js';
export { bucketsWithin, resolutionFor, validateResolutions } from './resolution.js';
export { divides, isFiner, isUnit, UNITS, type Unit, type WeekStart } from './units.js';
export type { ZoneClock } from './zone.js';
