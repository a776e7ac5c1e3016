export { BackendError, InvalidArgumentError, PorpoiseError } from '@porpoise/storage';
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
export { IdSet } from './id-set.js';
export { ExternalIdSet, IdentifiedQuery, type IdentityMap } from './identified.js';
export { type BucketCount, EventQuery } from './query.js';
export type {
  BitmapSizes,
  EventStats,
  EventStatsRow,
  SegmentStatsRow,
  StatsOptions,
} from './stats.js';
