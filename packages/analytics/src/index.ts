export {
  ActivityTracker,
  type ActivityTrackerOptions,
  type CollapseArgs,
  type LookupArgs,
  type LookupRow,
  type Period,
  type TrackArgs,
} from '@porpoise/activity';
export { CounterQuery, CounterSnapshot, Counters, type CountRecord } from '@porpoise/counters';
export {
  type CohortOptions,
  type CohortRow,
  cohort,
  EventQuery,
  Events,
  ExternalIdSet,
  IdentifiedQuery,
  type IdentityMap,
  IdSet,
} from '@porpoise/events';
export { type ExternalId, Identities, type IdentitiesOptions, type LinkResult } from '@porpoise/identity';
export {
  type Backend,
  BackendError,
  InvalidArgumentError,
  MemoryBackend,
  PorpoiseError,
  RedisBackend,
  UnsupportedError,
} from '@porpoise/storage';
export {
  type Bucket,
  bucketOf,
  dayrange,
  hourrange,
  minuterange,
  monthrange,
  type RangeOptions,
  range,
  TimeRange,
  type Unit,
  weekrange,
  yearrange,
} from '@porpoise/timerange';
export { Analytics, type AnalyticsEventsOptions, type AnalyticsOptions } from './analytics.js';
