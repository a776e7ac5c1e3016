export { BackendError, InvalidArgumentError, PorpoiseError } from '@porpoise/storage';
export { type CohortCell, type CohortOptions, type CohortRow, cohort } from './cohort.js';
export { type EventRecord, Events, type EventsOptions, MAX_ID } from './events.js';
export { IdSet } from './id-set.js';
export { EventQuery } from './query.js';
