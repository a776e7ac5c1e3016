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
