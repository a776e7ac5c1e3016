export { BackendError, InvalidArgumentError, PorpoiseError } from '@porpoise/storage';
export {
  CounterQuery,
  type CounterStatsRow,
  Counters,
  type CountersOptions,
  type CountRecord,
  type DeleteResult,
  type StatsOptions,
} from './counters.js';
export { CounterSnapshot } from './snapshot.js';
