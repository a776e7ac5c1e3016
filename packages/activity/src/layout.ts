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
 * The catalogue, what every process of the tracker knows about it, in its own group:
 *
 *   {prefix}:buckets:catalogue            names of the buckets ever tracked (or collapsed), a set
 *   {prefix}:aggregates:catalogue         names of the aggregates collapses were given, a set
 *   {prefix}:aggregate:{name}:catalogue   an aggregate's members at its latest collapse, a set
 *   {prefix}:first:{d|w|m}:catalogue      minus the start (epoch ms) of the earliest period
 *                                         tracked, a plain integer raised with `max`
 *
 * Bucket names are percent-encoded (`encodeKeySegment`), so no name can reach another key.
 */
import { encodeKeySegment, keyOf } from '@porpoise/storage';

/** The catalogue's locality group: never a period instance (those start with d, w or m and a digit). */
const CATALOGUE = 'catalogue';

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

  knownBuckets(): string {
    return keyOf(this.#prefix, 'buckets', CATALOGUE);
  }

  knownAggregates(): string {
    return keyOf(this.#prefix, 'aggregates', CATALOGUE);
  }

  /** Holds -startMs of the earliest instance tracked, so `max` keeps the earliest. */
  firstPeriod(letter: string): string {
    return keyOf(this.#prefix, 'first', letter, CATALOGUE);
  }

  aggregateMembers(name: string): string {
    return keyOf(this.#prefix, 'aggregate', encodeKeySegment(name), CATALOGUE);
  }
}
