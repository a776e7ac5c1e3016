/**
 * Event queries: immutable expression trees over events, segments, literal id lists and
 * range-fixed operands, turned into one backend bit expression per time bucket.
 */
import {
  type Backend,
  type BitExpr,
  Bitmap,
  bit,
  checkRange,
  type ReadOp,
  type ResolvedSeriesOptions,
  traced,
} from '@porpoise/storage';
import {
  type Bucket,
  bucketsWithin,
  InvalidArgumentError,
  resolutionFor,
  type TimeRange,
} from '@porpoise/timerange';
import { contains, evaluate, literalKey, type Request } from './evaluate.js';
import { IdSet } from './id-set.js';
import type { EventKeys } from './keys.js';

type Node =
  | { readonly kind: 'event'; readonly name: string }
  | { readonly kind: 'segment'; readonly name: string }
  | { readonly kind: 'ids'; readonly key: string; readonly bitmap: Bitmap }
  | { readonly kind: 'during'; readonly arg: Node; readonly range: TimeRange }
  | { readonly kind: 'and' | 'or' | 'xor'; readonly args: readonly Node[] }
  | { readonly kind: 'andnot'; readonly args: readonly [Node, Node] }
  | { readonly kind: 'not'; readonly arg: Node };

/** Context an EventQuery needs to run: where it is stored and how. */
export interface QueryContext {
  readonly backend: Backend;
  readonly options: ResolvedSeriesOptions;
  readonly keys: EventKeys;
}

/** One row of `counts()`. */
export interface BucketCount {
  bucket: Bucket;
  count: number;
  /**
   * Whether the bucket holds any recorded data for the query's events (a stored bitmap of the
   * bucket exists), telling "nothing recorded" from a real 0, like bitmapist's
   * `has_events_marked`. For a query without bucketed events (segments, `during`, id lists
   * only), whether any of its stored operands exists.
   */
  recorded: boolean;
}

/** Buckets fetched as bitmaps per round trip in `over()`: bounds memory on huge ranges. */
export const PAGE = 32;

function children(node: Node): readonly Node[] {
  switch (node.kind) {
    case 'event':
    case 'segment':
    case 'ids':
      return [];
    case 'during':
    case 'not':
      return [node.arg];
    default:
      return node.args;
  }
}

export class EventQuery {
  readonly #context: QueryContext;
  readonly #node: Node;

  /** @internal Use `events.get(name)`, `events.segment(name)` or `events.ids([...])`. */
  constructor(context: QueryContext, node: Node) {
    this.#context = context;
    this.#node = node;
  }

  and(other: EventQuery): EventQuery {
    return this.#combine('and', other);
  }

  or(other: EventQuery): EventQuery {
    return this.#combine('or', other);
  }

  xor(other: EventQuery): EventQuery {
    return this.#combine('xor', other);
  }

  /** Ids in this query but not in `other`. */
  andNot(other: EventQuery): EventQuery {
    return new EventQuery(this.#context, { kind: 'andnot', args: [this.#node, this.#check(other).#node] });
  }

  /** Ids not in this query, among ids up to the largest ever recorded in this namespace. */
  not(): EventQuery {
    return new EventQuery(this.#context, { kind: 'not', arg: this.#node });
  }

  /**
   * This query over the whole of `range` (the ids in ANY of its buckets), as an operand that is
   * the same in every bucket of an outer query: "active this month AND NOT active last month"
   * is `active.during(thisMonth).andNot(active.during(lastMonth))`, one backend read. A query
   * made only of `during`, segment and id-list operands needs no range: `size()`, `has(id)`,
   * `ids()`.
   */
  during(range: TimeRange): EventQuery {
    checkRange(range, this.#context.options);
    return new EventQuery(this.#context, { kind: 'during', arg: this.#node, range });
  }

  /** One IdSet per bucket of `range`, in order. */
  async *over(range: TimeRange): AsyncIterable<IdSet<Bucket>> {
    checkRange(range, this.#context.options, 'paged');
    const universe = await this.#universe();
    let page: Bucket[] = [];
    for (const bucket of range) {
      page.push(bucket);
      if (page.length === PAGE) {
        yield* await traced('events.over', this.#context.backend.name, () => this.#fetch(page, universe));
        page = [];
      }
    }
    if (page.length > 0)
      yield* await traced('events.over', this.#context.backend.name, () => this.#fetch(page, universe));
  }

  /**
   * The number of ids per bucket, counted where the data lives, and whether the bucket holds
   * any data (`recorded`), in one round trip.
   */
  counts(range: TimeRange): Promise<BucketCount[]> {
    return traced('events.counts', this.#context.backend.name, async (op) => {
      checkRange(range, this.#context.options);
      const universe = await this.#universe();
      const buckets = [...range];
      op.buckets(buckets.length);
      const exists: ReadOp[] = [];
      const existsOf: number[][] = [];
      const timed = this.#hasBucketedEvents();
      for (const bucket of buckets) {
        const keys = this.#leafKeys(bucket, timed);
        existsOf.push(keys.map((_, i) => exists.length + i));
        for (const key of keys) exists.push({ op: 'exists', key });
      }
      const { results, extra } = await evaluate(
        this.#context.backend,
        buckets.map((bucket) => ({ kind: 'count', expr: this.expression(bucket, universe) })),
        this.literals(),
        exists,
      );
      return buckets.map((bucket, i) => ({
        bucket,
        count: results[i] as number,
        recorded: existsOf[i]!.some((at) => extra[at] === true),
      }));
    });
  }

  /** The ids in ANY bucket of `range` (e.g. the week's unique users from daily data). */
  union(range: TimeRange): Promise<IdSet<null>> {
    return traced('events.union', this.#context.backend.name, async (op) => {
      checkRange(range, this.#context.options);
      const universe = await this.#universe();
      const exprs = [...range].map((bucket) => this.expression(bucket, universe));
      op.buckets(exprs.length);
      if (exprs.length === 0) return new IdSet(null, Bitmap.empty());
      const expr = exprs.length === 1 ? exprs[0]! : bit.or(...exprs);
      return new IdSet(null, (await this.#one({ kind: 'bitmap', expr })) as Bitmap);
    });
  }

  /**
   * The ids of a query that needs no range (segments, `during` operands, id lists): e.g.
   * `events.segment('plan:pro').ids()`. A query with a bucketed event outside `during` is an
   * InvalidArgumentError: use `over`, `counts` or `union` with a range.
   */
  ids(): Promise<IdSet<null>> {
    return traced('events.ids', this.#context.backend.name, async () => {
      const expr = this.#timeless('ids');
      return new IdSet(
        null,
        (await this.#one({ kind: 'bitmap', expr: expr(await this.#universe()) })) as Bitmap,
      );
    });
  }

  /** The number of ids of a query that needs no range, counted where the data lives. */
  size(): Promise<number> {
    return traced('events.size', this.#context.backend.name, async () => {
      const expr = this.#timeless('size');
      return (await this.#one({ kind: 'count', expr: expr(await this.#universe()) })) as number;
    });
  }

  /** Whether `id` is in a query that needs no range: one bit read per stored operand. */
  has(id: number): Promise<boolean> {
    return traced('events.has', this.#context.backend.name, async () => {
      const expr = this.#timeless('has');
      validateQueryId(id);
      return contains(this.#context.backend, expr(await this.#universe()), id, this.literals());
    });
  }

  /**
   * @internal The backend expression for one bucket (null: a query without bucketed events).
   * `universe` is the NOT bound (max id + 1). Literal id lists are placeholder keys resolved by
   * `literals()`; run expressions through `evaluate`.
   */
  expression(bucket: Bucket | null, universe: number): BitExpr {
    const { options, keys } = this.#context;
    const leafCache = new Map<string, Bucket[]>();
    const leavesOf = (b: Bucket): { stored: Bucket['unit']; leaves: Bucket[] } => {
      const stored = resolutionFor(b.unit, options.resolutions);
      const id = `${b.unit}:${b.key}`;
      let leaves = leafCache.get(id);
      if (!leaves) leafCache.set(id, (leaves = bucketsWithin(b, stored, options)));
      return { stored, leaves };
    };
    const build = (node: Node, at: Bucket | null): BitExpr => {
      switch (node.kind) {
        case 'event': {
          if (at === null) {
            throw new InvalidArgumentError(
              'query',
              node.name,
              'has a bucketed event outside during(): give a range (counts, over, union) or fix it with during(range)',
            );
          }
          const { stored, leaves } = leavesOf(at);
          const parts = leaves.map((leaf) => bit.key(keys.bitmap(node.name, stored, leaf.key)));
          return parts.length === 1 ? parts[0]! : bit.or(...parts);
        }
        case 'segment':
          return bit.key(keys.segment(node.name));
        case 'ids':
          return bit.key(node.key);
        case 'during': {
          const parts = [...node.range].map((inner) => build(node.arg, inner));
          if (parts.length === 0) return bit.key(EMPTY.key);
          return parts.length === 1 ? parts[0]! : bit.or(...parts);
        }
        case 'not':
          return bit.not(build(node.arg, at), universe);
        case 'andnot':
          return bit.andNot(build(node.args[0], at), build(node.args[1], at));
        default:
          return { op: node.kind, args: node.args.map((arg) => build(arg, at)) };
      }
    };
    return build(this.#node, bucket);
  }

  /** @internal The literal id lists of this query, by placeholder key. */
  literals(): Map<string, Bitmap> {
    const found = new Map<string, Bitmap>();
    const walk = (node: Node): void => {
      if (node.kind === 'ids') found.set(node.key, node.bitmap);
      else if (node.kind === 'during' && node.range.size === 0) found.set(EMPTY.key, EMPTY.bitmap);
      for (const child of children(node)) walk(child);
    };
    walk(this.#node);
    return found;
  }

  /** @internal The context a query runs in (cohort() checks both queries share one). */
  static contextOf(query: EventQuery): QueryContext {
    return query.#context;
  }

  /** @internal Whether the query contains a NOT (and so needs the universe). */
  get needsUniverse(): boolean {
    const walk = (node: Node): boolean => node.kind === 'not' || children(node).some(walk);
    return walk(this.#node);
  }

  /** @internal One extra read, only for queries with a NOT: the largest id recorded + 1. */
  async #universe(): Promise<number> {
    return universeOf([this], this.#context);
  }

  /** Whether an event leaf sits outside any `during` (then the query needs a bucket). */
  #hasBucketedEvents(): boolean {
    const walk = (node: Node): boolean =>
      node.kind === 'event' || (node.kind !== 'during' && children(node).some(walk));
    return walk(this.#node);
  }

  /** The stored keys whose existence says whether `bucket` holds data for this query. */
  #leafKeys(bucket: Bucket, timed: boolean): string[] {
    const { options, keys } = this.#context;
    const found = new Set<string>();
    const walk = (node: Node, at: Bucket, inside: boolean): void => {
      if (node.kind === 'event') {
        if (timed && inside) return;
        const stored = resolutionFor(at.unit, options.resolutions);
        for (const leaf of bucketsWithin(at, stored, options))
          found.add(keys.bitmap(node.name, stored, leaf.key));
      } else if (node.kind === 'segment') {
        if (!timed) found.add(keys.segment(node.name));
      } else if (node.kind === 'during') {
        if (!timed) for (const inner of node.range) walk(node.arg, inner, true);
      } else for (const child of children(node)) walk(child, at, inside);
    };
    walk(this.#node, bucket, false);
    return [...found];
  }

  #timeless(method: string): (universe: number) => BitExpr {
    if (this.#hasBucketedEvents()) {
      throw new InvalidArgumentError(
        'query',
        method,
        `${method}() needs a query without bucketed events (segments, during(range), ids([...])); use counts, over or union with a range`,
      );
    }
    return (universe) => this.expression(null, universe);
  }

  async #one(request: Request): Promise<number | Bitmap> {
    const { results } = await evaluate(this.#context.backend, [request], this.literals());
    return results[0]!;
  }

  async #fetch(buckets: Bucket[], universe: number): Promise<Array<IdSet<Bucket>>> {
    const { results } = await evaluate(
      this.#context.backend,
      buckets.map((bucket) => ({ kind: 'bitmap', expr: this.expression(bucket, universe) })),
      this.literals(),
    );
    return buckets.map((bucket, i) => new IdSet(bucket, results[i] as Bitmap));
  }

  #combine(kind: 'and' | 'or' | 'xor', other: EventQuery): EventQuery {
    return new EventQuery(this.#context, { kind, args: [this.#node, this.#check(other).#node] });
  }

  #check(other: unknown): EventQuery {
    if (!(other instanceof EventQuery)) {
      throw new InvalidArgumentError(
        'other',
        other,
        typeof other === 'string'
          ? `must be an EventQuery, not an event name: make one with events.get(${JSON.stringify(other)})`
          : "must be an EventQuery: make one with events.get(name), e.g. events.get('login')",
      );
    }
    if (other.#context !== this.#context) {
      throw new InvalidArgumentError(
        'other',
        'EventQuery',
        'must come from the same Events instance as this query (same backend and options)',
      );
    }
    return other;
  }
}

/** The operand of a `during` over an empty range: no ids. */
const EMPTY = { key: literalKey(), bitmap: Bitmap.empty() };

/** Largest id + 1: Redis bitmaps address bits 0 .. 2^32-1. */
export const MAX_ID = 2 ** 32 - 1;

export function validateQueryId(id: unknown, argument = 'id'): asserts id is number {
  if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id > MAX_ID || Object.is(id, -0)) {
    throw new InvalidArgumentError(argument, id, `must be an integer in [0, ${MAX_ID}]`);
  }
}

/** The NOT universe for these queries: 0 when none needs it or nothing was recorded. */
export async function universeOf(queries: readonly EventQuery[], context: QueryContext): Promise<number> {
  if (!queries.some((q) => q.needsUniverse)) return 0;
  const [max] = await context.backend.read([{ op: 'get', key: context.keys.maxId }]);
  return max === null ? 0 : Number(max) + 1;
}

export function eventNode(name: string): Node {
  return { kind: 'event', name };
}

export function segmentNode(name: string): Node {
  return { kind: 'segment', name };
}

/** A literal id list: validated, held as a bitmap. */
export function idsNode(ids: unknown): Node {
  if (ids === null || typeof ids !== 'object' || !(Symbol.iterator in ids)) {
    throw new InvalidArgumentError('ids', ids, 'must be an iterable of ids, e.g. [2, 12, 43]');
  }
  const list: number[] = [];
  for (const id of ids as Iterable<unknown>) {
    validateQueryId(id, 'ids');
    list.push(id);
  }
  return { kind: 'ids', key: literalKey(), bitmap: Bitmap.fromOffsets(list) };
}
