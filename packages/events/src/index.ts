export { BackendError, InvalidArgumentError, PorpoiseError } from '@porpoise/storage';
export { type BreakdownCount, type BreakdownCountsOptions, breakdownCounts } from './breakdown.js';
export { type CohortCell, type CohortOptions, type CohortRow, cohort } from './cohort.js';
export {
  type AnyEvents,
  type DeleteResult,
  type EventId,
  type EventRecord,
  Events,
  type EventsOptions,
  MAX_ID,
  type MarkRecord,
  type QueryOf,
} from './events.js';
export {
  type FunnelBreakdown,
  type FunnelConversionTime,
  type FunnelOptions,
  type FunnelOrder,
  type FunnelResult,
  type FunnelStep,
  funnel,
} from './funnel.js';
export { IdSet } from './id-set.js';
export { ExternalIdSet, IdentifiedQuery, type IdentityMap } from './identified.js';
export {
  type LifecycleOptions,
  type LifecyclePeriod,
  type LifecycleResult,
  lifecycle,
} from './lifecycle.js';
export { type BucketCount, EventQuery } from './query.js';
export {
  type RetentionCell,
  type RetentionCohort,
  type RetentionGrid,
  type RetentionKind,
  type RetentionOptions,
  type RetentionPoint,
  type RetentionResult,
  type RetentionRow,
  retention,
} from './retention.js';
export type {
  BitmapSizes,
  EventStats,
  EventStatsRow,
  SegmentStatsRow,
  StatsOptions,
} from './stats.js';
export {
  type StickinessOptions,
  type StickinessPeriod,
  type StickinessResult,
  stickiness,
} from './stickiness.js';
