/**
 * A per-process guard for the query routes: at most `concurrent` queries at once and at most
 * `perMinute` started in any fixed minute. One process serves one team's dashboard, so a
 * shared store (Redis-backed limits) would be machinery without a user; the point is that a
 * reloading page or a script cannot queue unbounded work on the backend.
 */
export interface LimitOptions {
  /** Queries running at once; the next one is refused (429), never queued. Default 4. */
  concurrent?: number;
  /** Queries started per clock minute. Default 120. */
  perMinute?: number;
}

export type Admission =
  | { ok: true; release: () => void }
  | { ok: false; reason: 'concurrent' | 'rate'; retryAfterSeconds: number };

export class QueryLimiter {
  readonly concurrent: number;
  readonly perMinute: number;
  #running = 0;
  #window = -1;
  #started = 0;

  constructor(
    options: LimitOptions = {},
    private readonly clock: () => number = Date.now,
  ) {
    this.concurrent = options.concurrent ?? 4;
    this.perMinute = options.perMinute ?? 120;
    for (const [name, value] of [
      ['concurrent', this.concurrent],
      ['perMinute', this.perMinute],
    ] as const) {
      if (!Number.isSafeInteger(value) || value < 1) {
        throw new RangeError(`limits.${name} must be a whole number >= 1, not ${value}`);
      }
    }
  }

  admit(): Admission {
    const now = this.clock();
    const window = Math.floor(now / 60_000);
    if (window !== this.#window) {
      this.#window = window;
      this.#started = 0;
    }
    if (this.#started >= this.perMinute) {
      return {
        ok: false,
        reason: 'rate',
        retryAfterSeconds: Math.ceil(((window + 1) * 60_000 - now) / 1000),
      };
    }
    if (this.#running >= this.concurrent) return { ok: false, reason: 'concurrent', retryAfterSeconds: 1 };
    this.#started++;
    this.#running++;
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        this.#running--;
      },
    };
  }
}
