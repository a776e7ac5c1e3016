/**
 * The `Backend` interface and its two implementations, `MemoryBackend` and `RedisBackend`.
 *
 * @module @porpoise/storage
 */
export type {
  Backend,
  BitExpr,
  Feature,
  ReadOp,
  ReadResult,
  ReadResults,
  WriteOp,
  WriteOptions,
} from './backend.js';
export { Bitmap, type BitmapParts, type BitmapResolver, CHUNK_BITS, CHUNK_BYTES } from './bitmap.js';
export { Coalescer } from './coalesce.js';
export {
  DEFAULT_DICTIONARY_CONFIG,
  type DictionaryConfig,
  type DictionaryOptions,
  dictionaryIntegersBelow,
  hashId,
  type LinkResult,
  MAX_DICTIONARY_BUCKETS,
  MAX_DICTIONARY_SHARDS,
  type ResolveIdsOptions,
  validateDictionaryId,
  validateDictionaryName,
} from './dictionary.js';
export {
  BackendError,
  type BackendErrorCode,
  InvalidArgumentError,
  PorpoiseError,
  type PorpoiseErrorCode,
  UnsupportedError,
} from './errors.js';
export { bit } from './expr.js';
export {
  encodeKeySegment,
  KEY_SEPARATOR,
  keyOf,
  localityGroup,
  MAX_BIT_OFFSET,
  MAX_KEY_LENGTH,
  validateBitOffset,
  validateKey,
} from './keys.js';
export { MemoryBackend, type MemoryBackendOptions } from './memory/memory-backend.js';
export { restoreSnapshot, SNAPSHOT_FORMAT_VERSION, snapshotOf } from './memory/snapshot.js';
export {
  type BatchOptions,
  batchWriteOptions,
  forEachRecord,
  MAX_NAME_LENGTH,
  mapRecords,
  stringId,
  validateBackend,
  validateName,
  validateNamespace,
} from './names.js';
export { RedisBackend, type RedisBackendOptions, type RedisUrlOptions } from './redis/redis-backend.js';
export {
  DELETE_BATCH,
  type DeleteOptions,
  type DeleteProgress,
  deleteProgress,
  deleteRecorded,
  type ListOptions,
  listRecorded,
  pruneRecorded,
  type RecordedBucket,
  type RegistryLayout,
  type RegistryPlan,
  recordedBuckets,
  WriteRegistry,
  type WrittenKey,
} from './registry.js';
export {
  type Duration,
  MAX_RETENTION_MS,
  parseDuration,
  type Retention,
  type RetentionPolicy,
  resolveRetention,
  secondsToKeep,
} from './retention.js';
export {
  checkRange,
  MAX_LEAVES_PER_BUCKET,
  MAX_QUERY_LEAVES,
  type ResolvedSeriesOptions,
  recordingTime,
  resolveSeriesOptions,
  type SeriesOptions,
} from './series.js';
export { type Operation, TELEMETRY_SCOPE, traced } from './telemetry.js';
export {
  exprKeys,
  MAX_ATOMIC_ITEMS,
  MAX_EXPRESSION_DEPTH,
  validateExpr,
  validateReadOps,
  validateWellFormed,
  validateWriteOps,
} from './validate.js';
