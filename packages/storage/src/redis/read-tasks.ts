/** The read operations of lua/read.lua as tasks (see read-plan.ts). */
import type { Bitmap } from '../bitmap.js';
import { decodeChunks } from './chunks.js';
import type { Arg } from './connection.js';
import { op, PromisedTask, text } from './read-plan.js';

/** A task with a single answer, no continuation. */
export class SimpleTask<T> extends PromisedTask<T> {
  constructor(
    group: string,
    private readonly physical: readonly string[],
    private readonly name: string,
    private readonly args: (k: (i: number) => number) => readonly Arg[],
    private readonly map: (reply: unknown) => T,
  ) {
    super(group);
  }

  // PFCOUNT counts as a write (it caches its estimate in the key); merging HyperLogLogs
  // restores dumps into temporaries.
  override get writes(): boolean {
    return this.name === 'hm' || this.name === 'pc';
  }

  keys(): readonly string[] {
    return this.physical;
  }

  encode(k: (i: number) => number): readonly Arg[] {
    return op(this.name, this.args(k));
  }

  finish(reply: unknown): void {
    this.resolve(this.map(reply));
  }
}

/**
 * A bit expression over leaves of one group, compiled to read.lua's postfix program. Counts
 * add up across continued calls; bitmaps are gathered and decoded at the end.
 */
export class ExpressionTask extends PromisedTask<number | Bitmap> {
  #from = -1;
  #total = 0;
  readonly #parts: unknown[] = [];

  constructor(
    group: string,
    private readonly leaves: readonly string[],
    /** Postfix tokens; leaf tokens refer to `leaves` by 1-based index. */
    private readonly program: readonly (string | number)[],
    private readonly mode: 'count' | 'bytes',
  ) {
    super(group);
  }

  keys(): readonly string[] {
    return this.leaves;
  }

  // A single leaf is counted or copied where it lies; any operator works in temporaries.
  override get writes(): boolean {
    return this.program.length > 2;
  }

  encode(k: (i: number) => number): readonly Arg[] {
    const tokens: Arg[] = [];
    for (let i = 0; i < this.program.length; i++) {
      const token = this.program[i]!;
      tokens.push(token);
      if (token === 'k') {
        tokens.push(k((this.program[i + 1] as number) - 1));
        i++;
      }
    }
    return op('ex', [this.mode, this.#from, tokens.length, ...tokens]);
  }

  override partial(reply: unknown, resume: unknown): void {
    this.#absorb(reply);
    this.#from = Number(resume);
  }

  finish(reply: unknown): void {
    this.#absorb(reply);
    if (this.mode === 'count') this.resolve(this.#total);
    else this.resolve(decodeChunks(this.#parts.flat()));
  }

  #absorb(reply: unknown): void {
    if (this.mode === 'count') this.#total += Number(reply);
    else this.#parts.push(reply);
  }
}

/** A hash's fields: whole when small, scanned across calls when large. */
export class HashTask extends PromisedTask<Map<string, number>> {
  #cursor = '';
  readonly #fields = new Map<string, number>();

  constructor(
    group: string,
    private readonly key: string,
  ) {
    super(group);
  }

  keys(): readonly string[] {
    return [this.key];
  }

  encode(k: (i: number) => number): readonly Arg[] {
    return op('hga', [k(0), this.#cursor]);
  }

  #absorb(reply: unknown): void {
    const flat = reply as unknown[];
    // A scan may return a field twice; the later value is the newer.
    for (let i = 1; i + 1 < flat.length; i += 2) this.#fields.set(text(flat[i]), Number(text(flat[i + 1])));
  }

  override partial(reply: unknown, resume: unknown): void {
    this.#absorb(reply);
    this.#cursor = text(resume);
  }

  finish(reply: unknown): void {
    this.#absorb(reply);
    this.resolve(this.#fields);
  }
}

/** The union of sets of one group: its size, or its members (sorted by code unit). */
export class SetUnionTask extends PromisedTask<number | string[]> {
  #position = 0;
  #cursor = '';
  readonly #members = new Set<string>();

  constructor(
    group: string,
    private readonly physical: readonly string[],
    private readonly mode: 'count' | 'members',
  ) {
    super(group);
  }

  keys(): readonly string[] {
    return this.physical;
  }

  override get writes(): boolean {
    return this.mode === 'count' && this.physical.length > 1;
  }

  encode(k: (i: number) => number): readonly Arg[] {
    return op('su', [this.mode, this.#position, this.#cursor, ...this.physical.map((_, i) => k(i))]);
  }

  #absorb(reply: unknown): void {
    const list = reply as unknown[];
    for (let i = 1; i < list.length; i++) this.#members.add(text(list[i]));
  }

  override partial(reply: unknown, resume: unknown): void {
    this.#absorb(reply);
    const [position, cursor] = text(resume).split(':');
    this.#position = Number(position);
    this.#cursor = cursor!;
  }

  finish(reply: unknown): void {
    if (typeof reply === 'number') {
      this.resolve(reply);
      return;
    }
    this.#absorb(reply);
    this.resolve(this.mode === 'count' ? this.#members.size : [...this.#members].sort());
  }
}
