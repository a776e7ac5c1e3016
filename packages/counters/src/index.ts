export { BackendError, InvalidArgumentError, PorpoiseError } from '@porpoise/storage';
export { CounterQuery, Counters, type CountersOptions, type CountRecord } from './counters.js';
export { CounterSnapshot } from './snapshot.js';
