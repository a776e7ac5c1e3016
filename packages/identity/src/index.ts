/**
 * String user ids as dense bitmap offsets: `Identities` maps external ids to integers.
 *
 * @module @porpoise/identity
 */
export {
  BackendError,
  InvalidArgumentError,
  type LinkResult,
  PorpoiseError,
  UnsupportedError,
} from '@porpoise/storage';
export { canonicalId, type ExternalId, Identities, type IdentitiesOptions } from './identities.js';
