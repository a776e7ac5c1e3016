import {
  type Backend,
  Coalescer,
  mapRecords,
  recordingTime,
  resolveSeriesOptions,
  type SeriesOptions,
  validateBackend,
  type WriteOp,
} from '@porpoise/storage';
import { BucketKeyer, type Instant, InvalidArgumentError } from '@porpoise/timerange';
import { EventKeys } from './keys.js';
import { EventQuery, eventNode, type QueryContext } from './query.js';
import { validateEventName } from './validate.js';

export type EventsOptions = SeriesOptions;

export interface EventRecord {
  name: string;
  id: number;
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
export class Events {
  readonly #context: QueryContext;
  readonly #keyer: BucketKeyer;
  readonly #coalescer: Coalescer<Mark>;

  constructor(backend: Backend, options?: EventsOptions) {
    validateBackend(backend);
    const resolved = resolveSeriesOptions(options, 'events');
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
  event(name: string, id: number, at?: Instant): Promise<void> {
    try {
      return this.#coalescer.add(this.#mark(name, id, at));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Record many events in one backend write. Every record is validated before anything is written. */
  async eventMany(records: Iterable<EventRecord>): Promise<void> {
    const marks = mapRecords(records, '{ name, id, at? }', (r: EventRecord) =>
      this.#mark(r.name, r.id, r.at),
    );
    if (marks.length > 0) await this.#write(marks, true);
  }

  /** Remove `id` from `name` at `at` (default now), at every resolution. The max id stays. */
  async unevent(name: string, id: number, at?: Instant): Promise<void> {
    await this.#write([this.#mark(name, id, at)], false);
  }

  /** A query over one event, to combine with and/or/xor/andNot/not. */
  get(name: string): EventQuery {
    validateEventName(name);
    return new EventQuery(this.#context, eventNode(name));
  }

  /** @internal For cohort(): the context a query runs in. */
  static context(events: Events): QueryContext {
    return events.#context;
  }

  #mark(name: unknown, id: unknown, at: unknown): Mark {
    validateEventName(name);
    validateId(id);
    return { name, id, ms: recordingTime(at, this.#context.options) };
  }

  async #write(marks: Mark[], value: boolean): Promise<void> {
    const { keys, options, backend } = this.#context;
    const offsets = new Map<string, number[]>();
    const listFor = (key: string) => {
      let list = offsets.get(key);
      if (!list) offsets.set(key, (list = []));
      return list;
    };
    // The hot path: events of one name within one 15-minute slot share their hour, day, week,
    // month and year keys, so resolve those lists once per (name, slot), not per event.
    const coarse = options.resolutions.filter((unit) => unit !== 'minute');
    const minute = coarse.length !== options.resolutions.length;
    const perName = new Map<string, Map<number, number[][] | null>>();
    let max = -1;
    for (const { name, id, ms } of marks) {
      if (id > max) max = id;
      let bySlot = perName.get(name);
      if (!bySlot) perName.set(name, (bySlot = new Map()));
      const slot = Math.floor(ms / SLOT);
      let lists = bySlot.get(slot);
      if (lists === undefined) {
        const start = slot * SLOT;
        // A slot split by a bucket boundary (only historical offsets with seconds) is not cached.
        const whole = coarse.every(
          (unit) => this.#keyer.key(start, unit) === this.#keyer.key(start + SLOT - 1, unit),
        );
        lists = whole
          ? coarse.map((unit) => listFor(keys.bitmap(name, unit, this.#keyer.key(start, unit))))
          : null;
        bySlot.set(slot, lists);
      }
      if (lists) for (const list of lists) list.push(id);
      else for (const unit of coarse) listFor(keys.bitmap(name, unit, this.#keyer.key(ms, unit))).push(id);
      if (minute) listFor(keys.bitmap(name, 'minute', this.#keyer.key(ms, 'minute'))).push(id);
    }
    const ops: WriteOp[] = [];
    for (const [key, list] of offsets) ops.push({ op: 'setBits', key, offsets: list, value });
    if (value) ops.push({ op: 'max', key: keys.maxId, value: max });
    await backend.write(ops);
  }
}
