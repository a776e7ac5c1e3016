import { encodeKeySegment, keyOf } from '@porpoise/storage';
import type { Unit } from '@porpoise/timerange';

/**
 * Key layout of one Events namespace. The bucket key is the last segment, so on Redis
 * Cluster every event of one bucket shares a slot and AND/OR across events runs there.
 */
export class EventKeys {
  readonly maxId: string;
  readonly #prefix: string;
  readonly #names = new Map<string, string>();

  constructor(prefix: string) {
    this.#prefix = prefix;
    this.maxId = keyOf(prefix, 'meta', 'maxid');
  }

  bitmap(name: string, unit: Unit, bucketKey: string): string {
    let encoded = this.#names.get(name);
    if (encoded === undefined) {
      encoded = encodeKeySegment(name);
      if (this.#names.size > 10_000) this.#names.clear();
      this.#names.set(name, encoded);
    }
    return `${this.#prefix}:e:${encoded}:${unit}:${bucketKey}`;
  }
}
