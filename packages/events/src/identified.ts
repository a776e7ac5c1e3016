/**
 * Events with external ids (`new Events(backend, { identities })`): ids are resolved to
 * dense integers before they are written, and every listing gives external ids back, looked
 * up in one batch per page of buckets. Counts and cohorts run on the integers and never
 * look ids up (a count of a `not()` query reads the dictionary's shard counters once).
 */
import { Bitmap } from '@porpoise/storage';
import type { Bucket, TimeRange } from '@porpoise/timerange';
import type { IdSet } from './id-set.js';
import { EventQuery, PAGE, universeOf } from './query.js';

/**
 * What events needs of an id dictionary: `Identities` from `@porpoise/identity` is one.
 * Ids are strings or safe non-negative integers (`123` and `'123'` are one id).
 */
export interface IdentityMap {
  resolve(ids: Iterable<string | number>): Promise<number[]>;
  peek(ids: Iterable<string | number>): Promise<Array<number | null>>;
  lookup(ints: Iterable<number>): Promise<Array<string | null>>;
  /** How many integers below `bound` own an id; without it, `not()` counts include the others. */
  integersBelow?(bound: number): Promise<number>;
}

/**
 * The external ids of one answer, in ascending order of their integers. Integers the
 * dictionary does not know (written without it) are left out.
 */
export class ExternalIdSet implements Iterable<string> {
  readonly bucket: Bucket | null;
  /** The answer as integers (dictionary offsets). */
  readonly integers: IdSet;
  readonly #ids: readonly string[];
  #members: Set<string> | undefined;

  /** @internal Built by IdentifiedQuery. */
  constructor(integers: IdSet, ids: readonly string[]) {
    this.bucket = integers.bucket;
    this.integers = integers;
    this.#ids = ids;
  }

  get size(): number {
    return this.#ids.length;
  }

  has(id: string | number): boolean {
    this.#members ??= new Set(this.#ids);
    return this.#members.has(typeof id === 'number' ? String(id) : id);
  }

  [Symbol.iterator](): Iterator<string> {
    return this.#ids[Symbol.iterator]();
  }

  toArray(): string[] {
    return [...this.#ids];
  }
}

/** The external ids of many integer sets, with one lookup for all of them. */
async function externalSets(sets: readonly IdSet[], identities: IdentityMap): Promise<ExternalIdSet[]> {
  const ints: number[] = [];
  for (const set of sets) for (const n of set) ints.push(n);
  const ids = await identities.lookup(ints);
  let at = 0;
  return sets.map((set) => {
    const own: string[] = [];
    for (let i = 0; i < set.size; i++) {
      const id = ids[at++];
      if (id !== null && id !== undefined) own.push(id);
    }
    return new ExternalIdSet(set, own);
  });
}

/** An event query whose listings give external ids. Combine it only with its own kind. */
export class IdentifiedQuery {
  /** The same query on integers: for cohort() and anything that counts. */
  readonly integers: EventQuery;
  readonly #identities: IdentityMap;

  /** @internal Use `events.get(name)` on Events made with `identities`. */
  constructor(integers: EventQuery, identities: IdentityMap) {
    this.integers = integers;
    this.#identities = identities;
  }

  and(other: IdentifiedQuery): IdentifiedQuery {
    return this.#wrap(this.integers.and(this.#check(other)));
  }

  or(other: IdentifiedQuery): IdentifiedQuery {
    return this.#wrap(this.integers.or(this.#check(other)));
  }

  xor(other: IdentifiedQuery): IdentifiedQuery {
    return this.#wrap(this.integers.xor(this.#check(other)));
  }

  andNot(other: IdentifiedQuery): IdentifiedQuery {
    return this.#wrap(this.integers.andNot(this.#check(other)));
  }

  not(): IdentifiedQuery {
    return this.#wrap(this.integers.not());
  }

  /** One set per bucket, in order; the ids of a page of buckets are looked up together. */
  async *over(range: TimeRange): AsyncIterable<ExternalIdSet> {
    let page: IdSet[] = [];
    for await (const set of this.integers.over(range)) {
      page.push(set);
      if (page.length === PAGE) {
        yield* await externalSets(page, this.#identities);
        page = [];
      }
    }
    if (page.length > 0) yield* await externalSets(page, this.#identities);
  }

  /**
   * Counted on the integers. A query that matches an id without any event (one with a
   * `not()` that is true of nothing) would also count the integers below the largest one
   * that no id owns yet: they are subtracted, with one read of the dictionary's counters.
   */
  async counts(range: TimeRange): Promise<Array<{ bucket: Bucket; count: number }>> {
    const rows = await this.integers.counts(range);
    const integersBelow = this.#identities.integersBelow;
    if (rows.length === 0 || !this.integers.needsUniverse || integersBelow === undefined) return rows;
    // The query on an id with no event at all: evaluated on nothing, within a universe of one.
    const matchesNobody = Bitmap.count(this.integers.expression(rows[0]!.bucket, 1), () => undefined) === 0;
    if (matchesNobody) return rows;
    const universe = await universeOf([this.integers], EventQuery.contextOf(this.integers));
    const unowned = universe - (await integersBelow.call(this.#identities, universe));
    return rows.map(({ bucket, count }) => ({ bucket, count: Math.max(0, count - unowned) }));
  }

  async union(range: TimeRange): Promise<ExternalIdSet> {
    const [set] = await externalSets([await this.integers.union(range)], this.#identities);
    return set!;
  }

  #wrap(query: EventQuery): IdentifiedQuery {
    return new IdentifiedQuery(query, this.#identities);
  }

  #check(other: unknown): EventQuery {
    if (!(other instanceof IdentifiedQuery) || other.#identities !== this.#identities) {
      throw new TypeError('combine queries made by the same Events instance');
    }
    return other.integers;
  }
}
