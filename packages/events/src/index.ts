export { BackendError, InvalidArgumentError, PorpoiseError } from '@porpoise/storage';
export { type CohortCell, type CohortOptions, type CohortRow, cohort } from './cohort.js';
export {
  type AnyEvents,
  type EventId,
  type EventRecord,
  Events,
  type EventsOptions,
  MAX_ID,
  type QueryOf,
} from './events.js';
export { IdSet } from './id-set.js';
export { ExternalIdSet, IdentifiedQuery, type IdentityMap } from './identified.js';
export { EventQuery } from './query.js';
