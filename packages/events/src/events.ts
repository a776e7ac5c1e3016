import {
  type Backend,
  type BatchOptions,
  batchWriteOptions,
  Coalescer,
  forEachRecord,
  recordingTime,
  resolveSeriesOptions,
  type SeriesOptions,
  validateBackend,
  type WriteOp,
  type WriteOptions,
} from '@porpoise/storage';
import {
  BucketKeyer,
  bucketOf,
  bucketsWithin,
  divides,
  type Instant,
  InvalidArgumentError,
  range,
  type TimeInput,
  type TimeRange,
  type Unit,
} from '@porpoise/timerange';
import { IdentifiedQuery, type IdentityMap } from './identified.js';
import { EventKeys } from './keys.js';
import { EventQuery, eventNode, type QueryContext } from './query.js';
import { validateEventName } from './validate.js';

export interface EventsOptions extends SeriesOptions {
  /**
   * An id dictionary (e.g. `Identities` from `@porpoise/identity`): ids may then be strings
   * (UUIDs, emails) or numbers, resolved to dense integers before they are written, and every
   * listing (`over`, `union`) gives them back. Without it, ids are the integers themselves.
   */
  identities?: IdentityMap;
}

/** The ids an Events accepts: integers, or any external id with `identities`. */
export type EventId<O extends EventsOptions> = O extends { identities: IdentityMap }
  ? string | number
  : number;
/** The queries an Events makes: listings of external ids with `identities`. */
export type QueryOf<O extends EventsOptions> = O extends { identities: IdentityMap }
  ? IdentifiedQuery
  : EventQuery;

export interface EventRecord<Id = number> {
  name: string;
  id: Id;
  at?: Instant;
}

const SLOT = 15 * 60_000;

/** Largest id + 1: Redis bitmaps address bits 0 .. 2^32-1. */
export const MAX_ID = 2 ** 32 - 1;

interface Mark {
  name: string;
  id: number;
  ms: number;
}

function validateId(id: unknown): asserts id is number {
  if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id > MAX_ID || Object.is(id, -0)) {
    throw new InvalidArgumentError('id', id, `must be an integer in [0, ${MAX_ID}]`);
  }
}

/**
 * Who did what, when: each event is a bitmap per time bucket (one bit per id) at every
 * recorded resolution.
 */
export class Events<O extends EventsOptions = EventsOptions> {
  readonly #context: QueryContext;
  readonly #identities: IdentityMap | undefined;
  readonly #keyer: BucketKeyer;
  readonly #coalescer: Coalescer<Mark>;

  constructor(backend: Backend, options?: O) {
    validateBackend(backend);
    const { identities, ...series } = options ?? {};
    if (identities !== undefined && typeof (identities as IdentityMap | null)?.resolve !== 'function') {
      throw new InvalidArgumentError('identities', identities, 'must be an id dictionary such as Identities');
    }
    this.#identities = identities;
    const resolved = resolveSeriesOptions(options === undefined ? undefined : series, 'events');
    this.#context = { backend, options: resolved, keys: new EventKeys(resolved.prefix) };
    this.#keyer = new BucketKeyer({ zone: resolved.zone, weekStart: resolved.weekStart });
    this.#coalescer = new Coalescer((marks) => this.#write(marks, true));
  }

  /** The recorded resolutions, finest first. */
  get resolutions(): readonly string[] {
    return this.#context.options.resolutions;
  }

  /**
   * Record that `id` did `name` at `at` (default now). Calls made in the same tick are
   * written together in one batch; the promise settles when its batch is stored.
   */
  event(name: string, id: EventId<O>, at?: Instant): Promise<void> {
    try {
      if (this.#identities) {
        const mark = this.#mark(name, 0, at);
        return this.#identities.resolve([id]).then(([n]) => this.#coalescer.add({ ...mark, id: n! }));
      }
      return this.#coalescer.add(this.#mark(name, id, at));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Record many events in one backend write. Every record is validated before anything is written. */
  async eventMany(records: Iterable<EventRecord<EventId<O>>>, options?: BatchOptions): Promise<void> {
    const write = batchWriteOptions(options);
    if (this.#identities) {
      await this.#eventManyIdentified(records, write);
      return;
    }
    // Records go straight into the batch (no intermediate objects: at a million events the
    // garbage would cost more than the work). Nothing is written before every one is valid.
    const batch = this.#batch();
    let any = false;
    // Batches repeat a few names many times: check each distinct name once.
    const checked = new Set<unknown>();
    forEachRecord(records, '{ name, id, at? }', (r: EventRecord) => {
      if (!checked.has(r.name)) {
        validateEventName(r.name);
        checked.add(r.name);
      }
      validateId(r.id);
      batch.add(r.name, r.id, recordingTime(r.at, this.#context.options));
      any = true;
    });
    if (any) await this.#context.backend.write(batch.ops(true), write);
  }

  /**
   * Remove `id` from `name` at `at` (default now). The finest recorded bucket always loses the
   * id; a coarser bucket loses it only when no other bucket of the next finer recorded unit
   * inside it still holds it (the week keeps the id of a Monday unevent when Tuesday has it),
   * so coarse buckets stay the union of the finer ones they summarise. A unit that no finer
   * recorded unit tiles (months above weeks only) loses the bit like the finest. The max id
   * stays.
   *
   * The finer buckets are read first, in one backend read, then the bits are cleared in one
   * write: not one atomic step. An `event` of the same name and id inside the same coarse
   * bucket that lands between the two may be cleared from the coarser buckets (the finer
   * bucket it was recorded in keeps it); recording it again repairs them. Without such a
   * race, every coarse bucket holds the id exactly when a finer bucket inside it does.
   */
  async unevent(name: string, id: EventId<O>, at?: Instant): Promise<void> {
    if (this.#identities) {
      const mark = this.#mark(name, 0, at);
      // An id the dictionary never saw has no events: nothing to remove, nothing assigned.
      const [n] = await this.#identities.peek([id]);
      if (n !== null && n !== undefined) await this.#unevent(mark.name, n, mark.ms);
      return;
    }
    const mark = this.#mark(name, id, at);
    await this.#unevent(mark.name, mark.id, mark.ms);
  }

  async #unevent(name: string, id: number, ms: number): Promise<void> {
    const mark = { name, id, ms };
    const { backend, keys, options } = this.#context;
    const calendar = { zone: options.zone, weekStart: options.weekStart };
    const units = options.resolutions;
    // Per unit: the next finer recorded unit that tiles it, and its other buckets inside this one.
    const plan = units.map((unit, i) => {
      const finer = units.slice(0, i).findLast((candidate) => divides(candidate, unit));
      const bucket = bucketOf(mark.ms, unit, calendar);
      const key = keys.bitmap(mark.name, unit, bucket.key);
      if (finer === undefined) return { unit, key, finer, others: [] as string[] };
      const own = bucketOf(mark.ms, finer, calendar).key;
      const others = bucketsWithin(bucket, finer, calendar)
        .filter((inner) => inner.key !== own)
        .map((inner) => keys.bitmap(mark.name, finer, inner.key));
      return { unit, key, finer, others };
    });
    const reads = plan.flatMap((step) =>
      step.others.map((key) => ({ op: 'getBit' as const, key, offset: mark.id })),
    );
    const held = reads.length === 0 ? [] : await backend.read(reads);
    const cleared = new Map<Unit, boolean>();
    let next = 0;
    for (const step of plan) {
      let stillHeld = false;
      for (let k = 0; k < step.others.length; k++) if (held[next++] === true) stillHeld = true;
      cleared.set(step.unit, step.finer === undefined || (cleared.get(step.finer) === true && !stillHeld));
    }
    const ops: WriteOp[] = plan
      .filter((step) => cleared.get(step.unit))
      .map((step) => ({ op: 'setBits', key: step.key, offsets: [mark.id], value: false }));
    await backend.write(ops);
  }

  /**
   * A range in this instance's zone and week start, whose numeric offsets count from its
   * clock (`now`): `events.range('day', -7)` is the seven days before today by that clock.
   */
  range(unit: Unit, start?: TimeInput, end?: TimeInput): TimeRange {
    const { zone, weekStart, now } = this.#context.options;
    return range(unit, start, end, { zone, weekStart, now });
  }

  /** A query over one event, to combine with and/or/xor/andNot/not. */
  get(name: string): QueryOf<O> {
    validateEventName(name);
    const query = new EventQuery(this.#context, eventNode(name));
    return (this.#identities ? new IdentifiedQuery(query, this.#identities) : query) as QueryOf<O>;
  }

  /** @internal For cohort(): the context a query runs in. */
  static context(events: AnyEvents): QueryContext {
    return events.#context;
  }

  /** Names and times are checked first, then the ids resolved in one batch: a bad record assigns nothing. */
  async #eventManyIdentified(
    records: Iterable<EventRecord<string | number>>,
    write: WriteOptions,
  ): Promise<void> {
    const ids: Array<string | number> = [];
    const marks: Mark[] = [];
    const checked = new Set<unknown>();
    forEachRecord(records, '{ name, id, at? }', (r: EventRecord<string | number>) => {
      if (!checked.has(r.name)) {
        validateEventName(r.name);
        checked.add(r.name);
      }
      marks.push({ name: r.name, id: 0, ms: recordingTime(r.at, this.#context.options) });
      ids.push(r.id);
    });
    if (marks.length === 0) return;
    const ints = await this.#identities!.resolve(ids);
    const batch = this.#batch();
    for (let i = 0; i < marks.length; i++) batch.add(marks[i]!.name, ints[i]!, marks[i]!.ms);
    await this.#context.backend.write(batch.ops(true), write);
  }

  #mark(name: unknown, id: unknown, at: unknown): Mark {
    validateEventName(name);
    validateId(id);
    return { name, id, ms: recordingTime(at, this.#context.options) };
  }

  async #write(marks: Mark[], value: boolean): Promise<void> {
    const batch = this.#batch();
    for (const { name, id, ms } of marks) batch.add(name, id, ms);
    await this.#context.backend.write(batch.ops(value));
  }

  #batch(): BitBatch {
    return new BitBatch(this.#context.keys, this.#context.options.resolutions, this.#keyer);
  }
}

/** Any Events, with or without identities. */
export type AnyEvents = Events<EventsOptions> | Events<EventsOptions & { identities: IdentityMap }>;

/**
 * The bit-sets of one write, grouped per bitmap key. The hot path: events of one name within
 * one 15-minute slot share their hour, day, week, month and year keys, so each event is
 * pushed once, onto its (name, slot) list; `ops()` then hands every key the lists of its
 * slots. Minutes (finer than a slot) are keyed per event.
 */
class BitBatch {
  /** Per name, per slot: the slot's ids and its bitmap keys (null: a slot split by a boundary). */
  readonly #perName = new Map<string, Map<number, { ids: number[]; keys: string[] | null }>>();
  /** Keys of split slots and of minutes: their ids directly. */
  readonly #loose = new Map<string, number[]>();
  readonly #coarse: Unit[];
  readonly #minute: boolean;
  #max = -1;

  constructor(
    private readonly keys: EventKeys,
    resolutions: readonly Unit[],
    private readonly keyer: BucketKeyer,
  ) {
    this.#coarse = resolutions.filter((unit) => unit !== 'minute');
    this.#minute = this.#coarse.length !== resolutions.length;
  }

  add(name: string, id: number, ms: number): void {
    if (id > this.#max) this.#max = id;
    let bySlot = this.#perName.get(name);
    if (!bySlot) this.#perName.set(name, (bySlot = new Map()));
    const slot = Math.floor(ms / SLOT);
    let entry = bySlot.get(slot);
    if (entry === undefined) {
      const start = slot * SLOT;
      // A slot split by a bucket boundary (only historical offsets with seconds) is not shared.
      const whole = this.#coarse.every(
        (unit) => this.keyer.key(start, unit) === this.keyer.key(start + SLOT - 1, unit),
      );
      entry = {
        ids: [],
        keys: whole
          ? this.#coarse.map((unit) => this.keys.bitmap(name, unit, this.keyer.key(start, unit)))
          : null,
      };
      bySlot.set(slot, entry);
    }
    if (entry.keys) entry.ids.push(id);
    else for (const unit of this.#coarse) this.#looseList(name, unit, ms).push(id);
    if (this.#minute) this.#looseList(name, 'minute', ms).push(id);
  }

  ops(value: boolean): WriteOp[] {
    const lists = new Map<string, number[][]>();
    const add = (key: string, ids: number[]) => {
      const forKey = lists.get(key);
      if (forKey) forKey.push(ids);
      else lists.set(key, [ids]);
    };
    for (const bySlot of this.#perName.values()) {
      for (const { ids, keys } of bySlot.values()) if (keys !== null) for (const key of keys) add(key, ids);
    }
    for (const [key, ids] of this.#loose) add(key, ids);
    const ops: WriteOp[] = [];
    for (const [key, parts] of lists) {
      let offsets = parts[0]!;
      if (parts.length > 1) {
        offsets = new Array<number>(parts.reduce((n, part) => n + part.length, 0));
        let at = 0;
        for (const part of parts) for (let i = 0; i < part.length; i++) offsets[at++] = part[i]!;
      }
      ops.push({ op: 'setBits', key, offsets, value });
    }
    if (value && this.#max >= 0) ops.push({ op: 'max', key: this.keys.maxId, value: this.#max });
    return ops;
  }

  #looseList(name: string, unit: Unit, ms: number): number[] {
    const key = this.keys.bitmap(name, unit, this.keyer.key(ms, unit));
    let list = this.#loose.get(key);
    if (!list) this.#loose.set(key, (list = []));
    return list;
  }
}
