/**
 * Coalesces calls made in the same tick into one batch: 10k concurrent `event()` calls
 * become one backend write instead of 10k round trips. Each caller's promise settles with
 * its batch.
 */
export class Coalescer<T> {
  #pending: T[] = [];
  #waiters: Array<{ resolve: () => void; reject: (error: unknown) => void }> = [];
  #scheduled = false;

  constructor(private readonly flush: (items: T[]) => Promise<unknown>) {}

  add(item: T): Promise<void> {
    this.#pending.push(item);
    const promise = new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }));
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(() => this.#run());
    }
    return promise;
  }

  #run(): void {
    const items = this.#pending;
    const waiters = this.#waiters;
    this.#pending = [];
    this.#waiters = [];
    this.#scheduled = false;
    this.flush(items).then(
      () => {
        for (const w of waiters) w.resolve();
      },
      (error: unknown) => {
        for (const w of waiters) w.reject(error);
      },
    );
  }
}
