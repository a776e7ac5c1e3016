export { BackendError, InvalidArgumentError, PorpoiseError, UnsupportedError } from '@porpoise/storage';
export { DEFAULT_BUCKET } from './arguments.js';
export { PERIODS, type Period } from './periods.js';
export {
  type ActivityIdentities,
  type ActivityMode,
  ActivityTracker,
  type ActivityTrackerOptions,
  type CollapseArgs,
  type CollapsedPeriod,
  type CollapseResult,
  type LookupArgs,
  type LookupRow,
  MAX_COLLAPSE_PERIODS,
  type TrackArgs,
} from './tracker.js';
