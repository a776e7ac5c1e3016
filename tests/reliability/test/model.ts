/**
 * Reference models: plain Maps and Sets, obviously correct, that the property tests
 * compare every backend against.
 */
import {
  type Bucket,
  bucketOf,
  bucketsWithin,
  divides,
  resolutionFor,
  type TimeRange,
  UNITS,
  type Unit,
} from '@porpoise/timerange';

export type QueryNode =
  | { kind: 'event'; name: string }
  /** A time-less segment (events.segment). */
  | { kind: 'segment'; name: string }
  /** A literal id list (events.ids). */
  | { kind: 'ids'; ids: number[] }
  /** `arg` over the whole of `range`, the same in every bucket (query.during). */
  | { kind: 'during'; arg: QueryNode; range: TimeRange }
  | { kind: 'and' | 'or' | 'xor'; args: QueryNode[] }
  | { kind: 'andnot'; args: [QueryNode, QueryNode] }
  | { kind: 'not'; arg: QueryNode };

export class EventsModel {
  readonly #marks = new Map<string, Set<number>>();
  readonly #segments = new Map<string, Set<number>>();
  #maxId = -1;

  mark(name: string, id: number): void {
    this.#maxId = Math.max(this.#maxId, id);
    let set = this.#segments.get(name);
    if (!set) this.#segments.set(name, (set = new Set()));
    set.add(id);
  }

  unmark(name: string, id: number): void {
    this.#segments.get(name)?.delete(id);
  }

  constructor(
    readonly resolutions: Unit[],
    readonly zone: string,
  ) {}

  #key(name: string, unit: Unit, bucketKey: string): string {
    return `${name}\u0000${unit}\u0000${bucketKey}`;
  }

  event(name: string, id: number, ms: number): void {
    this.#maxId = Math.max(this.#maxId, id);
    for (const unit of this.resolutions) {
      const key = this.#key(name, unit, bucketOf(ms, unit, { zone: this.zone }).key);
      let set = this.#marks.get(key);
      if (!set) this.#marks.set(key, (set = new Set()));
      set.add(id);
    }
  }

  /** Finest first: a coarser bucket loses the id only when no finer bucket inside it holds it. */
  unevent(name: string, id: number, ms: number): void {
    const units = [...this.resolutions].sort((a, b) => UNITS.indexOf(a) - UNITS.indexOf(b));
    units.forEach((unit, i) => {
      const bucket = bucketOf(ms, unit, { zone: this.zone });
      const finer = units.slice(0, i).findLast((candidate) => divides(candidate, unit));
      const held =
        finer !== undefined &&
        bucketsWithin(bucket, finer, { zone: this.zone }).some((inner) =>
          this.#marks.get(this.#key(name, finer, inner.key))?.has(id),
        );
      if (!held) this.#marks.get(this.#key(name, unit, bucket.key))?.delete(id);
    });
  }

  /** The ids of `node` in `bucket` (null: a query without bucketed events outside during). */
  ids(node: QueryNode, bucket: Bucket | null): Set<number> {
    switch (node.kind) {
      case 'segment':
        return new Set(this.#segments.get(node.name));
      case 'ids':
        return new Set(node.ids);
      case 'during': {
        const out = new Set<number>();
        for (const inner of node.range) for (const id of this.ids(node.arg, inner)) out.add(id);
        return out;
      }
      case 'event': {
        if (bucket === null) throw new Error('a bucketed event outside during needs a bucket');
        const stored = resolutionFor(bucket.unit, this.resolutions);
        const out = new Set<number>();
        for (const leaf of bucketsWithin(bucket, stored, { zone: this.zone })) {
          for (const id of this.#marks.get(this.#key(node.name, stored, leaf.key)) ?? []) out.add(id);
        }
        return out;
      }
      case 'and': {
        const [first, ...rest] = node.args.map((a) => this.ids(a, bucket));
        return new Set([...first!].filter((id) => rest.every((s) => s.has(id))));
      }
      case 'or':
        return new Set(node.args.flatMap((a) => [...this.ids(a, bucket)]));
      case 'xor': {
        const out = new Set<number>();
        for (const set of node.args.map((a) => this.ids(a, bucket))) {
          for (const id of set) {
            if (out.has(id)) out.delete(id);
            else out.add(id);
          }
        }
        return out;
      }
      case 'andnot': {
        const right = this.ids(node.args[1], bucket);
        return new Set([...this.ids(node.args[0], bucket)].filter((id) => !right.has(id)));
      }
      case 'not': {
        const inner = this.ids(node.arg, bucket);
        const out = new Set<number>();
        // The universe is [0, max id]; the generators keep ids where this loop is small,
        // and a huge max id is only ever paired with a count check (see the test).
        for (let id = 0; id <= this.#maxId; id++) if (!inner.has(id)) out.add(id);
        return out;
      }
    }
  }

  get maxId(): number {
    return this.#maxId;
  }
}

export class CountersModel {
  readonly #counts = new Map<string, Map<string, number>>();

  constructor(
    readonly resolutions: Unit[],
    readonly zone: string,
  ) {}

  count(key: string, id: string, by: number, ms: number): void {
    for (const unit of this.resolutions) {
      const hash = `${key}\u0000${unit}\u0000${bucketOf(ms, unit, { zone: this.zone }).key}`;
      let fields = this.#counts.get(hash);
      if (!fields) this.#counts.set(hash, (fields = new Map()));
      fields.set(id, (fields.get(id) ?? 0) + by);
    }
  }

  values(key: string, bucket: Bucket): Record<string, number> {
    const stored = resolutionFor(bucket.unit, this.resolutions);
    const out = new Map<string, number>();
    for (const leaf of bucketsWithin(bucket, stored, { zone: this.zone })) {
      for (const [id, n] of this.#counts.get(`${key}\u0000${stored}\u0000${leaf.key}`) ?? []) {
        out.set(id, (out.get(id) ?? 0) + n);
      }
    }
    return Object.fromEntries([...out].filter(([, n]) => n !== 0).sort());
  }
}

/** Daily activity with buckets web/ios and the aggregate total = web ∪ ios. */
export class ActivityModel {
  readonly #raw = new Map<string, Set<string>>();
  readonly #collapsed = new Map<number, Record<string, number>>();
  /** The first day ever tracked: collapse walks back no further (none tracked: no floor). */
  #first = Number.NEGATIVE_INFINITY;
  #tracked = false;

  #seen(day: number): void {
    this.#first = this.#tracked ? Math.min(this.#first, day) : day;
    this.#tracked = true;
  }

  #set(bucket: string, day: number): Set<string> {
    const key = `${bucket}|${day}`;
    let set = this.#raw.get(key);
    if (!set) this.#raw.set(key, (set = new Set()));
    return set;
  }

  track(id: string, bucket: string, day: number): void {
    this.#seen(day);
    this.#set(bucket, day).add(id);
  }

  replace(oldId: string, oldBucket: string, id: string, bucket: string, day: number): void {
    this.#seen(day);
    this.#set(oldBucket, day).delete(oldId);
    this.#set(bucket, day).add(id);
  }

  #live(day: number): Record<string, number> {
    const web = this.#set('web', day);
    const ios = this.#set('ios', day);
    return { web: web.size, ios: ios.size, total: new Set([...web, ...ios]).size };
  }

  /**
   * Collapse closed days before `today`, newest first, at most maxPeriods, stopping at a
   * collapsed one or before the first day tracked.
   */
  collapse(today: number, maxPeriods: number): void {
    let day = today - 1;
    for (let n = 0; n < maxPeriods && day >= this.#first; n++, day--) {
      if (this.#collapsed.has(day)) break;
      this.#collapsed.set(day, this.#live(day));
      this.#raw.delete(`web|${day}`);
      this.#raw.delete(`ios|${day}`);
    }
  }

  lookup(day: number): { counts: Record<string, number>; final: boolean } {
    const final = this.#collapsed.get(day);
    return final ? { counts: final, final: true } : { counts: this.#live(day), final: false };
  }
}
