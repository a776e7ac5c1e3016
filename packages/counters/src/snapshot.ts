import type { Bucket } from '@porpoise/timerange';

/** Counts per id for one bucket (or, from `sum`, for a whole range). */
export class CounterSnapshot {
  readonly bucket: Bucket | null;
  readonly values: Map<string, number>;

  constructor(bucket: Bucket | null, values: Map<string, number>) {
    this.bucket = bucket;
    this.values = values;
  }

  /** Sum over every id. */
  get total(): number {
    let total = 0;
    for (const value of this.values.values()) total += value;
    return total;
  }

  /** The count of one id, 0 when absent. Numbers are compared as their string form. */
  get(id: string | number): number {
    return this.values.get(String(id)) ?? 0;
  }

  /** The `n` largest counts, descending; ties by id ascending. */
  top(n: number): Array<[string, number]> {
    return [...this.values]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .slice(0, Math.max(0, Math.floor(n)));
  }

  /** A plain object of the counts (ids as keys), handy for logging and JSON. */
  toJSON(): { bucket: string | null; values: Record<string, number> } {
    const values: Record<string, number> = Object.create(null);
    for (const [id, count] of this.values) values[id] = count;
    return { bucket: this.bucket?.key ?? null, values };
  }
}
