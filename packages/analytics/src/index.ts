export {
  ActivityTracker,
  type ActivityTrackerOptions,
  type CollapseArgs,
  type LookupArgs,
  type LookupRow,
  type Period,
  type TrackArgs,
} from '@porpoise/activity';
export {
  CounterQuery,
  CounterSnapshot,
  type CounterStatsRow,
  Counters,
  type CountRecord,
} from '@porpoise/counters';
export {
  type BucketCount,
  type CohortOptions,
  type CohortRow,
  cohort,
  type DeleteResult,
  EventQuery,
  type EventStats,
  type EventStatsRow,
  Events,
  ExternalIdSet,
  IdentifiedQuery,
  type IdentityMap,
  IdSet,
  type MarkRecord,
  type SegmentStatsRow,
} from '@porpoise/events';
export { type ExternalId, Identities, type IdentitiesOptions, type LinkResult } from '@porpoise/identity';
export {
  type Backend,
  BackendError,
  InvalidArgumentError,
  MemoryBackend,
  PorpoiseError,
  RedisBackend,
  type RetentionOptions,
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
