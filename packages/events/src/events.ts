import {
  type Backend,
  type BatchOptions,
  batchWriteOptions,
  Coalescer,
  type DeleteOptions,
  deleteProgress,
  deleteRecorded,
  forEachRecord,
  type ListOptions,
  listRecorded,
  pruneRecorded,
  recordingTime,
  resolveSeriesOptions,
  type SeriesOptions,
  traced,
  validateBackend,
  validateName,
  type WriteOp,
  type WriteOptions,
  WriteRegistry,
  type WrittenKey,
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
  toEpochMs,
  type Unit,
} from '@porpoise/timerange';
import { IdentifiedQuery, type IdentityMap } from './identified.js';
import { EventKeys } from './keys.js';
import { EventQuery, eventNode, idsNode, type QueryContext, segmentNode, validateQueryId } from './query.js';
import { type EventStats, eventStats, type StatsOptions } from './stats.js';
import { validateEventName } from './validate.js';

export { MAX_ID } from './query.js';

/**
 * Options of `Events`: resolutions, zone, week start, prefix, clock, `retention` (per
 * recorded unit, how long a bucket's keys are kept after the bucket ends), and `identities`.
 */
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

/** A time-less property of an id: `{ name: 'plan:pro', id: 7 }`. */
export interface MarkRecord {
  name: string;
  id: number;
}

/** What a delete removed. */
export interface DeleteResult {
  /** Data keys deleted (bucket bitmaps, segments). */
  keys: number;
  /** Names (events and segments) removed from the catalogue. */
  names: number;
}

export interface EventRecord<Id = number> {
  name: string;
  id: Id;
  at?: Instant;
}

const SLOT = 15 * 60_000;

interface Mark {
  name: string;
  id: number;
  ms: number;
}

function validateId(id: unknown): asserts id is number {
  validateQueryId(id, 'id');
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
  readonly #registry: WriteRegistry;
  /** Segment names this process has added to the catalogue. */
  readonly #segments = new Set<string>();

  constructor(backend: Backend, options?: O) {
    validateBackend(backend);
    const { identities, ...series } = options ?? {};
    if (identities !== undefined && typeof (identities as IdentityMap | null)?.resolve !== 'function') {
      throw new InvalidArgumentError('identities', identities, 'must be an id dictionary such as Identities');
    }
    this.#identities = identities;
    const resolved = resolveSeriesOptions(options === undefined ? undefined : series, 'events');
    const keys = new EventKeys(resolved.prefix);
    this.#context = { backend, options: resolved, keys };
    this.#keyer = new BucketKeyer({ zone: resolved.zone, weekStart: resolved.weekStart });
    this.#coalescer = new Coalescer((marks) => this.#write(marks, true));
    const calendar = { zone: resolved.zone, weekStart: resolved.weekStart };
    this.#registry = new WriteRegistry(
      keys,
      resolved.retention,
      (ms, unit) => bucketOf(ms, unit, calendar).endMs,
    );
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
  eventMany(records: Iterable<EventRecord<EventId<O>>>, options?: BatchOptions): Promise<void> {
    return traced('events.eventMany', this.#context.backend.name, async (op) => {
      const write = batchWriteOptions(options);
      if (this.#identities) {
        op.records(await this.#eventManyIdentified(records, write));
        return;
      }
      // Records go straight into the batch (no intermediate objects: at a million events the
      // garbage would cost more than the work). Nothing is written before every one is valid.
      const batch = this.#batch();
      let count = 0;
      // Batches repeat a few names many times: check each distinct name once.
      const checked = new Set<unknown>();
      forEachRecord(records, '{ name, id, at? }', (r: EventRecord) => {
        if (!checked.has(r.name)) {
          validateEventName(r.name);
          checked.add(r.name);
        }
        validateId(r.id);
        batch.add(r.name, r.id, recordingTime(r.at, this.#context.options));
        count++;
      });
      op.records(count);
      if (count > 0) await this.#store(batch, true, write);
    });
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
  unevent(name: string, id: EventId<O>, at?: Instant): Promise<void> {
    return traced('events.unevent', this.#context.backend.name, async () => {
      if (this.#identities) {
        const mark = this.#mark(name, 0, at);
        // An id the dictionary never saw has no events: nothing to remove, nothing assigned.
        const [n] = await this.#identities.peek([id]);
        if (n !== null && n !== undefined) await this.#unevent(mark.name, n, mark.ms);
        return;
      }
      const mark = this.#mark(name, id, at);
      await this.#unevent(mark.name, mark.id, mark.ms);
    });
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
    const steps = plan.filter((step) => cleared.get(step.unit));
    const registry = this.#registry.plan(
      steps.map((step) => ({
        key: step.key,
        name: mark.name,
        unit: step.unit,
        bucket: localityOf(step.key),
        ms: mark.ms,
      })),
      this.#nowMs(),
    );
    const ops: WriteOp[] = steps
      .filter((step) => !registry.expired.has(step.key))
      .map((step) => ({ op: 'setBits', key: step.key, offsets: [mark.id], value: false }));
    if (ops.length === 0) return;
    await backend.write([...ops, ...registry.ops]);
    registry.commit();
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

  /**
   * The event names recorded in this namespace (by any process), sorted by code unit; with
   * `prefix`, only those starting with it. Read from the catalogue kept at write time.
   */
  names(options?: ListOptions): Promise<string[]> {
    return traced('events.names', this.#context.backend.name, async () =>
      listRecorded(this.#context.backend, this.#context.keys.names, options),
    );
  }

  /** The segment names marked in this namespace, sorted; with `prefix`, only those starting with it. */
  segments(options?: ListOptions): Promise<string[]> {
    return traced('events.segments', this.#context.backend.name, async () =>
      listRecorded(this.#context.backend, this.#context.keys.segments, options),
    );
  }

  /**
   * Give `id` a property with no time (`plan:pro`, `country:FR`, `beta-tester`): a segment,
   * bitmapist's unique events. Query it with `segment(name)`.
   */
  mark(name: string, id: number): Promise<void> {
    return this.markMany([{ name, id }]);
  }

  /** Mark many (segment, id) pairs in one backend write; every record is validated first. */
  markMany(records: Iterable<MarkRecord>, options?: BatchOptions): Promise<void> {
    return traced('events.markMany', this.#context.backend.name, async () => {
      await this.#writeSegments(records, true, batchWriteOptions(options));
    });
  }

  /** Take the segment `name` away from `id`. */
  unmark(name: string, id: number): Promise<void> {
    return traced('events.unmark', this.#context.backend.name, async () => {
      await this.#writeSegments([{ name, id }], false, {});
    });
  }

  /**
   * A query over a segment: the ids marked with `name`. It has no time: combined with a
   * bucketed query it applies to every bucket (`events.get('active').and(events.segment('plan:pro'))`),
   * and alone it answers `size()`, `has(id)` and `ids()`.
   */
  segment(name: string): EventQuery {
    validateName(name, 'name');
    return new EventQuery(this.#context, segmentNode(name));
  }

  /**
   * A literal list of ids as an operand (`events.get('active').and(events.ids([2, 12, 43]))`),
   * the same in every bucket. It is never written anywhere: the backend evaluates the rest of
   * the expression and the list is applied client-side, in the same single read.
   */
  ids(ids: Iterable<number>): EventQuery {
    return new EventQuery(this.#context, idsNode(ids));
  }

  /**
   * Delete every key of event `name` (every resolution, every bucket the catalogue lists), in
   * batches of 500 keys per write, and its catalogue entries. `onProgress(done, total)` is called
   * after each batch. Segments of the same name are not touched (`deleteSegment`).
   */
  delete(name: string, options?: DeleteOptions): Promise<DeleteResult> {
    return traced('events.delete', this.#context.backend.name, async () => {
      validateEventName(name);
      const onProgress = deleteProgress(options);
      const keys = await deleteRecorded(this.#context.backend, this.#context.keys, [name], onProgress);
      this.#registry.forget();
      return { keys, names: 1 };
    });
  }

  /** Delete segment `name` (its bitmap and its catalogue entry). */
  deleteSegment(name: string): Promise<DeleteResult> {
    return traced('events.deleteSegment', this.#context.backend.name, async () => {
      validateName(name, 'name');
      const { backend, keys } = this.#context;
      const [exists, listed] = await backend.read([
        { op: 'exists', key: keys.segment(name) },
        { op: 'setHas', key: keys.segments, member: name },
      ] as const);
      await backend.write([
        { op: 'delete', keys: [keys.segment(name)] },
        { op: 'setRemove', key: keys.segments, members: [name] },
      ]);
      this.#segments.delete(name);
      return { keys: exists ? 1 : 0, names: listed ? 1 : 0 };
    });
  }

  /**
   * Delete everything this namespace recorded: every event the catalogue lists (all of its
   * buckets), every segment, the catalogue and the largest id. Keys of other prefixes are
   * never touched. Data recorded concurrently may survive; run it again.
   */
  deleteAll(options?: DeleteOptions): Promise<DeleteResult> {
    return traced('events.deleteAll', this.#context.backend.name, async () => {
      const onProgress = deleteProgress(options);
      const { backend, keys } = this.#context;
      const [names, segments] = await backend.read([
        { op: 'setMembers', keys: [keys.names] },
        { op: 'setMembers', keys: [keys.segments] },
      ] as const);
      const extra = [...segments.map((name) => keys.segment(name)), keys.segments, keys.names, keys.maxId];
      const deleted = await deleteRecorded(backend, keys, names, onProgress, extra);
      this.#registry.forget();
      this.#segments.clear();
      return { keys: deleted + segments.length, names: names.length + segments.length };
    });
  }

  /**
   * Drop from the catalogue the buckets whose keys have expired (retention), so it does not
   * grow forever; a tooling job to run now and then. Resolves to the entries removed.
   */
  prune(options?: DeleteOptions): Promise<number> {
    return traced('events.prune', this.#context.backend.name, async () => {
      const onProgress = deleteProgress(options);
      const { backend, keys } = this.#context;
      const [names] = await backend.read([{ op: 'setMembers', keys: [keys.names] }] as const);
      const removed = await pruneRecorded(backend, keys, names, onProgress);
      this.#registry.forget();
      return removed;
    });
  }

  /**
   * Per event and resolution: keys, bitmap bytes, ids and the largest id, and what the
   * retention will free; per segment its size. A tooling path: it reads every listed bitmap.
   */
  stats(options?: StatsOptions): Promise<EventStats> {
    return traced('events.stats', this.#context.backend.name, async () => {
      return eventStats(this.#context, options);
    });
  }

  /** @internal For cohort(): the context a query runs in. */
  static context(events: AnyEvents): QueryContext {
    return events.#context;
  }

  /** Names and times are checked first, then the ids resolved in one batch: a bad record assigns nothing. */
  async #eventManyIdentified(
    records: Iterable<EventRecord<string | number>>,
    write: WriteOptions,
  ): Promise<number> {
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
    if (marks.length === 0) return 0;
    const ints = await this.#identities!.resolve(ids);
    const batch = this.#batch();
    for (let i = 0; i < marks.length; i++) batch.add(marks[i]!.name, ints[i]!, marks[i]!.ms);
    await this.#store(batch, true, write);
    return marks.length;
  }

  #mark(name: unknown, id: unknown, at: unknown): Mark {
    validateEventName(name);
    validateId(id);
    return { name, id, ms: recordingTime(at, this.#context.options) };
  }

  #write(marks: Mark[], value: boolean): Promise<void> {
    return traced('events.event', this.#context.backend.name, async (op) => {
      op.records(marks.length);
      const batch = this.#batch();
      for (const { name, id, ms } of marks) batch.add(name, id, ms);
      await this.#store(batch, value, {});
    });
  }

  /** One backend write: the batch's bits, the catalogue entries and expiries it is the first to need. */
  async #store(batch: BitBatch, value: boolean, options: WriteOptions): Promise<void> {
    const registry = this.#registry.plan(batch.fresh(), this.#nowMs());
    const ops = batch.ops(value, registry.expired);
    if (ops.length === 0) return;
    await this.#context.backend.write(registry.ops.length === 0 ? ops : [...ops, ...registry.ops], options);
    registry.commit();
  }

  async #writeSegments(records: unknown, value: boolean, options: WriteOptions): Promise<void> {
    const perName = new Map<string, number[]>();
    let max = -1;
    forEachRecord(records, '{ name, id }', (r: MarkRecord) => {
      validateName(r.name, 'name');
      validateId(r.id);
      let ids = perName.get(r.name);
      if (!ids) perName.set(r.name, (ids = []));
      ids.push(r.id);
      if (r.id > max) max = r.id;
    });
    if (perName.size === 0) return;
    const { backend, keys } = this.#context;
    const ops: WriteOp[] = [...perName].map(([name, offsets]) => ({
      op: 'setBits',
      key: keys.segment(name),
      offsets,
      value,
    }));
    const fresh = value ? [...perName.keys()].filter((name) => !this.#segments.has(name)) : [];
    if (fresh.length > 0) ops.push({ op: 'setAdd', key: keys.segments, members: fresh });
    if (value) ops.push({ op: 'max', key: keys.maxId, value: max });
    await backend.write(ops, options);
    for (const name of fresh) this.#segments.add(name);
  }

  #nowMs(): number {
    return toEpochMs(this.#context.options.now(), 'now');
  }

  #batch(): BitBatch {
    return new BitBatch(this.#context.keys, this.#context.options.resolutions, this.#keyer, this.#registry);
  }
}

/** Any Events, with or without identities. */
export type AnyEvents = Events<EventsOptions> | Events<EventsOptions & { identities: IdentityMap }>;

/** The bucket key of an event bitmap key (its last segment). */
function localityOf(key: string): string {
  return key.slice(key.lastIndexOf(':') + 1);
}

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
  /** Keys of this batch the registry has not seen in this process, with their name and bucket. */
  readonly #fresh = new Map<string, WrittenKey>();
  #max = -1;

  constructor(
    private readonly keys: EventKeys,
    resolutions: readonly Unit[],
    private readonly keyer: BucketKeyer,
    private readonly registry: WriteRegistry,
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
        keys: whole ? this.#coarse.map((unit) => this.#key(name, unit, start)) : null,
      };
      bySlot.set(slot, entry);
    }
    if (entry.keys) entry.ids.push(id);
    else for (const unit of this.#coarse) this.#looseList(name, unit, ms).push(id);
    if (this.#minute) this.#looseList(name, 'minute', ms).push(id);
  }

  /** The keys of this batch new to the registry. */
  fresh(): Iterable<WrittenKey> {
    return this.#fresh.values();
  }

  ops(value: boolean, skip: ReadonlySet<string>): WriteOp[] {
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
      if (skip.size > 0 && skip.has(key)) continue;
      let offsets = parts[0]!;
      if (parts.length > 1) {
        offsets = new Array<number>(parts.reduce((n, part) => n + part.length, 0));
        let at = 0;
        for (const part of parts) for (let i = 0; i < part.length; i++) offsets[at++] = part[i]!;
      }
      ops.push({ op: 'setBits', key, offsets, value });
    }
    if (ops.length === 0) return ops;
    if (value && this.#max >= 0) ops.push({ op: 'max', key: this.keys.maxId, value: this.#max });
    return ops;
  }

  /** The bitmap key of `name` at `ms` in `unit`, noted for the registry when it is new. */
  #key(name: string, unit: Unit, ms: number): string {
    const bucket = this.keyer.key(ms, unit);
    const key = this.keys.bitmap(name, unit, bucket);
    if (!this.registry.knows(key) && !this.#fresh.has(key))
      this.#fresh.set(key, { key, name, unit, bucket, ms });
    return key;
  }

  #looseList(name: string, unit: Unit, ms: number): number[] {
    const key = this.#key(name, unit, ms);
    let list = this.#loose.get(key);
    if (!list) this.#loose.set(key, (list = []));
    return list;
  }
}
