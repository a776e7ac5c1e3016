import type { Bitmap } from '@porpoise/storage';
import type { Bucket } from '@porpoise/timerange';

/**
 * The ids of one query answer, backed by the bitmap bytes (no JS Set of millions of numbers).
 * `bucket` is the answer's bucket: an `IdSet<Bucket>` from `over()`, `IdSet<null>` from
 * `union()` (which spans the range).
 */
export class IdSet<B extends Bucket | null = Bucket | null> implements Iterable<number> {
  readonly bucket: B;
  readonly #bitmap: Bitmap;

  constructor(bucket: B, bitmap: Bitmap) {
    this.bucket = bucket;
    this.#bitmap = bitmap;
  }

  get size(): number {
    return this.#bitmap.size;
  }

  has(id: number): boolean {
    return this.#bitmap.has(id);
  }

  [Symbol.iterator](): Iterator<number> {
    return this.#bitmap[Symbol.iterator]();
  }

  /** Ids in ascending order. */
  toArray(): number[] {
    return this.#bitmap.toArray();
  }
}
