/**
 * Brute-force models of the product-analytics answers: per-user sets of (event, bucket),
 * every definition evaluated by enumeration, nothing shared with the implementation.
 */
import fc from 'fast-check';

export interface Occurrence {
  name: string;
  id: number;
  /** Bucket index; 0 is the first bucket of the range. */
  bucket: number;
}

export class Model {
  readonly #by = new Map<number, Set<string>>();

  constructor(occurrences: readonly Occurrence[]) {
    for (const { name, id, bucket } of occurrences) {
      let set = this.#by.get(id);
      if (!set) this.#by.set(id, (set = new Set()));
      set.add(`${name}@${bucket}`);
    }
  }

  get users(): number[] {
    return [...this.#by.keys()].sort((a, b) => a - b);
  }

  did(id: number, name: string, bucket: number): boolean {
    return this.#by.get(id)?.has(`${name}@${bucket}`) ?? false;
  }

  /** Buckets in [from, to] where the user did `name`. */
  buckets(id: number, name: string, from: number, to: number): number[] {
    const out: number[] = [];
    for (let t = from; t <= to; t++) if (this.did(id, name, t)) out.push(t);
    return out;
  }
}

export interface ModelFunnel {
  counts: number[];
  timeToConvert: number[];
}

/**
 * The funnel by enumeration. For a start b (step 1 in bucket b < starts): step k is reached
 * when some tuple of buckets for steps 2…k inside [b, b + window - 1] satisfies the order;
 * its completion is the smallest bucket of step k over all such tuples ('any': the latest of
 * the earliest bucket of each step).
 */
export function modelFunnel(
  model: Model,
  steps: string[],
  starts: number,
  window: number,
  order: 'sequential' | 'strict' | 'any',
  exclude?: string,
  within?: (id: number) => boolean,
): ModelFunnel {
  const counts = new Array(steps.length).fill(0);
  const times = new Array(window).fill(0);
  for (const id of model.users) {
    if (within && !within(id)) continue;
    const reachedAt = new Array(steps.length).fill(false);
    let converted: number | null = null;
    for (let b = 0; b < starts; b++) {
      if (!model.did(id, steps[0]!, b)) continue;
      const end = b + window - 1;
      // completion[k]: the earliest bucket of step k over every valid tuple, or null.
      const completion: Array<number | null> = [b];
      for (let k = 1; k < steps.length; k++) {
        let best: number | null = null;
        if (order === 'any') {
          const firsts = steps.slice(1, k + 1).map((name) => model.buckets(id, name, b, end)[0]);
          best = firsts.some((t) => t === undefined) ? null : Math.max(b, ...(firsts as number[]));
        } else {
          const walk = (j: number, previous: number): void => {
            if (j > k) {
              if (best === null || previous < best) best = previous;
              return;
            }
            for (const t of model.buckets(id, steps[j]!, b, end)) {
              if (order === 'sequential' ? t >= previous : t > previous) walk(j + 1, t);
            }
          };
          walk(1, b);
        }
        completion.push(best);
      }
      let last = 0;
      while (last + 1 < steps.length && completion[last + 1] !== null) last++;
      if (exclude !== undefined && last >= 1) {
        const excluded = model.buckets(id, exclude, b, completion[last]!).length > 0;
        if (excluded) continue;
      }
      for (let k = 0; k <= last; k++) reachedAt[k] = true;
      if (last === steps.length - 1 && converted === null) converted = completion[last]! - b;
    }
    reachedAt.forEach((reached, k) => {
      if (reached) counts[k]++;
    });
    if (converted !== null) times[converted]++;
  }
  return { counts, timeToConvert: times };
}

/** Random occurrences of `names` by ids [0, users) in buckets [from, to]. */
export function occurrences(names: string[], users: number, from: number, to: number) {
  return fc.array(
    fc.record({
      name: fc.constantFrom(...names),
      id: fc.integer({ min: 0, max: users - 1 }),
      bucket: fc.integer({ min: from, max: to }),
    }),
    { maxLength: 60 },
  );
}

export interface ModelRetentionRow {
  size: number;
  cells: number[];
}

/**
 * Retention by enumeration, buckets as indices: cohort i in [0, cohorts); cells for periods k
 * with bucket i + k ≤ lastStarted and k < periods. History starts at `historyFrom`.
 */
export function modelRetention(
  model: Model,
  start: string,
  returning: string,
  cohorts: number,
  periods: number,
  lastStarted: number,
  kind: 'exact' | 'on-or-after',
  cohort: 'recurring' | 'first-time',
  historyFrom: number,
  within?: (id: number) => boolean,
): ModelRetentionRow[] {
  const rows: ModelRetentionRow[] = [];
  for (let i = 0; i < cohorts; i++) {
    const members = model.users.filter(
      (id) =>
        (!within || within(id)) &&
        model.did(id, start, i) &&
        (cohort === 'recurring' || model.buckets(id, start, historyFrom, i - 1).length === 0),
    );
    const cells: number[] = [];
    if (i > lastStarted) {
      rows.push({ size: 0, cells });
      continue;
    }
    const last = Math.min(periods - 1, lastStarted - i);
    for (let k = 0; k <= last; k++) {
      const until = kind === 'exact' ? i + k : i + last;
      cells.push(members.filter((id) => model.buckets(id, returning, i + k, until).length > 0).length);
    }
    rows.push({ size: members.length, cells });
  }
  return rows;
}

export function modelLifecycle(model: Model, name: string, periods: number, historyFrom: number) {
  return Array.from({ length: periods }, (_, p) => {
    const out = { new: 0, returning: 0, resurrecting: 0, dormant: 0 };
    for (const id of model.users) {
      const now = model.did(id, name, p);
      const last = model.did(id, name, p - 1);
      const before = model.buckets(id, name, historyFrom, p - 2).length > 0;
      if (now && !last && !before) out.new++;
      if (now && last) out.returning++;
      if (now && !last && before) out.resurrecting++;
      if (last && !now) out.dormant++;
    }
    return out;
  });
}

/** counts[k-1]: users active on exactly k of the buckets [from, from + size). */
export function modelStickiness(
  model: Model,
  name: string,
  from: number,
  size: number,
  within?: (id: number) => boolean,
) {
  const counts = new Array(size).fill(0);
  for (const id of model.users) {
    if (within && !within(id)) continue;
    const k = model.buckets(id, name, from, from + size - 1).length;
    if (k > 0) counts[k - 1]++;
  }
  return counts;
}
