/**
 * Event queries: immutable expression trees over event names, turned into one backend bit
 * expression per time bucket.
 */
import {
  type Backend,
  type BitExpr,
  Bitmap,
  bit,
  checkRange,
  type ResolvedSeriesOptions,
} from '@porpoise/storage';
import {
  type Bucket,
  bucketsWithin,
  InvalidArgumentError,
  resolutionFor,
  type TimeRange,
} from '@porpoise/timerange';
import { IdSet } from './id-set.js';
import type { EventKeys } from './keys.js';

type Node =
  | { readonly kind: 'event'; readonly name: string }
  | { readonly kind: 'and' | 'or' | 'xor'; readonly args: readonly Node[] }
  | { readonly kind: 'andnot'; readonly args: readonly [Node, Node] }
  | { readonly kind: 'not'; readonly arg: Node };

/** Context an EventQuery needs to run: where it is stored and how. */
export interface QueryContext {
  readonly backend: Backend;
  readonly options: ResolvedSeriesOptions;
  readonly keys: EventKeys;
}

/** Buckets fetched as bitmaps per round trip in `over()`: bounds memory on huge ranges. */
export const PAGE = 32;

export class EventQuery {
  readonly #context: QueryContext;
  readonly #node: Node;

  /** @internal Use `events.get(name)`. */
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

  /** One IdSet per bucket of `range`, in order. */
  async *over(range: TimeRange): AsyncIterable<IdSet<Bucket>> {
    checkRange(range, this.#context.options, 'paged');
    const universe = await this.#universe();
    let page: Bucket[] = [];
    for (const bucket of range) {
      page.push(bucket);
      if (page.length === PAGE) {
        yield* await this.#fetch(page, universe);
        page = [];
      }
    }
    if (page.length > 0) yield* await this.#fetch(page, universe);
  }

  /** The number of ids per bucket, counted where the data lives, in one round trip. */
  async counts(range: TimeRange): Promise<Array<{ bucket: Bucket; count: number }>> {
    checkRange(range, this.#context.options);
    const universe = await this.#universe();
    const buckets = [...range];
    const counts = await this.#context.backend.read(
      buckets.map((bucket) => ({ op: 'bitCount' as const, expr: this.expression(bucket, universe) })),
    );
    return buckets.map((bucket, i) => ({ bucket, count: counts[i]! }));
  }

  /** The ids in ANY bucket of `range` (e.g. the week's unique users from daily data). */
  async union(range: TimeRange): Promise<IdSet<null>> {
    checkRange(range, this.#context.options);
    const universe = await this.#universe();
    const exprs = [...range].map((bucket) => this.expression(bucket, universe));
    if (exprs.length === 0) return new IdSet(null, Bitmap.empty());
    const [bitmap] = await this.#context.backend.read([
      { op: 'bitmap', expr: exprs.length === 1 ? exprs[0]! : bit.or(...exprs) },
    ]);
    return new IdSet(null, bitmap);
  }

  /** @internal The backend expression for one bucket. `universe` is the NOT bound (max id + 1). */
  expression(bucket: Bucket, universe: number): BitExpr {
    const { options, keys } = this.#context;
    const stored = resolutionFor(bucket.unit, options.resolutions);
    const leaves = bucketsWithin(bucket, stored, options);
    const build = (node: Node): BitExpr => {
      switch (node.kind) {
        case 'event': {
          const parts = leaves.map((leaf) => bit.key(keys.bitmap(node.name, stored, leaf.key)));
          return parts.length === 1 ? parts[0]! : bit.or(...parts);
        }
        case 'not':
          return bit.not(build(node.arg), universe);
        case 'andnot':
          return bit.andNot(build(node.args[0]), build(node.args[1]));
        default:
          return { op: node.kind, args: node.args.map(build) };
      }
    };
    return build(this.#node);
  }

  /** @internal The context a query runs in (cohort() checks both queries share one). */
  static contextOf(query: EventQuery): QueryContext {
    return query.#context;
  }

  /** @internal Whether the query contains a NOT (and so needs the universe). */
  get needsUniverse(): boolean {
    const walk = (node: Node): boolean =>
      node.kind === 'not' || (node.kind !== 'event' && node.args.some(walk));
    return walk(this.#node);
  }

  /** @internal One extra read, only for queries with a NOT: the largest id recorded + 1. */
  async #universe(): Promise<number> {
    return universeOf([this], this.#context);
  }

  async #fetch(buckets: Bucket[], universe: number): Promise<Array<IdSet<Bucket>>> {
    const bitmaps = await this.#context.backend.read(
      buckets.map((bucket) => ({ op: 'bitmap' as const, expr: this.expression(bucket, universe) })),
    );
    return buckets.map((bucket, i) => new IdSet(bucket, bitmaps[i]!));
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

/** The NOT universe for these queries: 0 when none needs it or nothing was recorded. */
export async function universeOf(queries: readonly EventQuery[], context: QueryContext): Promise<number> {
  if (!queries.some((q) => q.needsUniverse)) return 0;
  const [max] = await context.backend.read([{ op: 'get', key: context.keys.maxId }]);
  return max === null ? 0 : Number(max) + 1;
}

export function eventNode(name: string): Node {
  return { kind: 'event', name };
}
