/**
 * The activity key layout, in one place. `G` is the period instance (`d20261124`, `w2026W48`,
 * `m202611`) and always the last segment, which backends treat as the locality group: every
 * key one collapse touches shares it, so the collapse is one atomic write inside one group
 * (one hash slot on a Redis Cluster).
 *
 *   {prefix}:raw:{bucket}:{G}   ids of a bucket in one period instance (a set, or a HyperLogLog)
 *   {prefix}:n:{bucket}:{G}     the bucket's (or aggregate's) collapsed count, a plain integer
 *   {prefix}:done:{G}           the collapse marker: its presence makes the period final
 *
 * Bucket names are percent-encoded (`encodeKeySegment`), so no name can reach another key.
 */
import { encodeKeySegment, keyOf } from '@porpoise/storage';

export class ActivityLayout {
  readonly #prefix: string;

  constructor(prefix: string) {
    this.#prefix = prefix;
  }

  raw(bucket: string, group: string): string {
    return keyOf(this.#prefix, 'raw', encodeKeySegment(bucket), group);
  }

  count(bucket: string, group: string): string {
    return keyOf(this.#prefix, 'n', encodeKeySegment(bucket), group);
  }

  marker(group: string): string {
    return keyOf(this.#prefix, 'done', group);
  }
}
