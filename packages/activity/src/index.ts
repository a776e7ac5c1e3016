export { BackendError, InvalidArgumentError, PorpoiseError } from '@porpoise/storage';
export { PERIODS, type Period } from './periods.js';
export {
  ActivityTracker,
  type ActivityTrackerOptions,
  type CollapseArgs,
  type LookupArgs,
  type LookupRow,
  type TrackArgs,
} from './tracker.js';
