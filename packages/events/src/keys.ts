import { encodeKeySegment, keyOf, type RegistryLayout } from '@porpoise/storage';
import type { Unit } from '@porpoise/timerange';

/**
 * Key layout of one Events namespace. The bucket key is the last segment, so on Redis
 * Cluster every event of one bucket shares a slot and AND/OR across events runs there.
 *
 *   {prefix}:e:{name}:{unit}:{bucket}   an event's ids in one bucket (a bitmap)
 *   {prefix}:s:{name}                   a segment's ids (a bitmap, no time)
 *   {prefix}:meta:maxid                 the largest id recorded (NOT's universe)
 *   {prefix}:meta:names                 every event name recorded (a set)
 *   {prefix}:meta:segments              every segment name marked (a set)
 *   {prefix}:meta:buckets:{name}        `{unit}:{bucket}` of every bucket an event was recorded in (a set)
 */
export class EventKeys implements RegistryLayout {
  readonly maxId: string;
  readonly names: string;
  readonly segments: string;
  readonly #prefix: string;
  readonly #encoded = new Map<string, string>();

  constructor(prefix: string) {
    this.#prefix = prefix;
    this.maxId = keyOf(prefix, 'meta', 'maxid');
    this.names = keyOf(prefix, 'meta', 'names');
    this.segments = keyOf(prefix, 'meta', 'segments');
  }

  bitmap(name: string, unit: Unit, bucketKey: string): string {
    return `${this.#prefix}:e:${this.#encode(name)}:${unit}:${bucketKey}`;
  }

  dataKey(name: string, unit: Unit, bucketKey: string): string {
    return this.bitmap(name, unit, bucketKey);
  }

  bucketsOf(name: string): string {
    return `${this.#prefix}:meta:buckets:${this.#encode(name)}`;
  }

  segment(name: string): string {
    return `${this.#prefix}:s:${this.#encode(name)}`;
  }

  #encode(name: string): string {
    let encoded = this.#encoded.get(name);
    if (encoded === undefined) {
      encoded = encodeKeySegment(name);
      if (this.#encoded.size > 10_000) this.#encoded.clear();
      this.#encoded.set(name, encoded);
    }
    return encoded;
  }
}
