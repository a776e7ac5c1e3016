/**
 * Turning a read into script calls (lua/read.lua) and putting continued answers back
 * together. Each read operation becomes a task in its locality group; every round sends one
 * call per group with that group's next tasks, in order. A call that runs out of its work
 * or reply budget returns what it finished and where it stopped, and the rest goes in the
 * next round, so no call holds the server for long, whatever the size of the data.
 */
import type { Arg, Connection, ScriptCall, Settled } from './connection.js';
import { script } from './connection.js';
import type { KeyLayout } from './layout.js';
import { READ } from './lua/scripts.js';

const READ_SCRIPT = script(READ);
// Calls that make no temporaries run flagged no-writes: they work on a replica too.
const READ_ONLY_SCRIPT = script(READ.replace(/^#!lua flags=allow-oom\n/, '#!lua flags=no-writes\n'));

/** Tasks of one call, at most: a range of 87,600 hourly counts goes in several calls. */
const CALL_TASKS = 2_000;
const CALL_ARGS = 30_000;

export interface ReadBudget {
  /** Server milliseconds one call may spend before it stops at the next safe point. */
  readonly workMs: number;
  /** Reply bytes one call may return before it stops. */
  readonly replyBytes: number;
}

/** One read operation (or one step of one), as read.lua's operations. */
export abstract class ReadTask {
  done = false;

  constructor(readonly group: string) {}

  /** Physical keys this task reads, in the order its arguments refer to them. */
  abstract keys(): readonly string[];
  /** Whether answering makes temporary keys (and so needs a writable server). */
  get writes(): boolean {
    return false;
  }
  /** The operation's name and arguments; `k(i)` is the call's index of keys()[i]. */
  abstract encode(k: (i: number) => number): readonly Arg[];
  /** A finished answer. */
  abstract finish(reply: unknown): void;
  /** A partial answer and where to resume; by default a task cannot be partial. */
  partial(_reply: unknown, _resume: unknown): void {
    throw new Error(`internal: ${this.constructor.name} cannot resume`);
  }
  abstract fail(error: unknown): void;
}

/** A task whose answer is one promise. */
export abstract class PromisedTask<T> extends ReadTask {
  readonly promise: Promise<T>;
  #resolve!: (value: T) => void;
  #reject!: (error: unknown) => void;

  constructor(group: string) {
    super(group);
    this.promise = new Promise<T>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // Observed by the caller; this only keeps an early failure from counting as unhandled.
    this.promise.catch(() => {});
  }

  protected resolve(value: T): void {
    this.done = true;
    this.#resolve(value);
  }

  fail(error: unknown): void {
    this.done = true;
    this.#reject(error);
  }
}

const MORE = '__more';

function isMore(value: unknown): value is [unknown, unknown, unknown] {
  return (
    Array.isArray(value) &&
    value.length === 3 &&
    (value[0] === MORE || (Buffer.isBuffer(value[0]) && value[0].toString() === MORE))
  );
}

/** Runs tasks round by round until every one is done. Tasks may enqueue follow-ups. */
export class ReadScheduler {
  readonly #queues = new Map<string, ReadTask[]>();

  constructor(
    private readonly connection: Connection,
    private readonly layout: KeyLayout,
    private readonly budget: ReadBudget,
  ) {}

  add(task: ReadTask): void {
    const stream = this.connection.cluster ? task.group : '';
    let queue = this.#queues.get(stream);
    if (!queue) this.#queues.set(stream, (queue = []));
    queue.push(task);
  }

  async run(): Promise<void> {
    for (;;) {
      const calls: ScriptCall[] = [];
      const members: ReadTask[][] = [];
      for (const queue of this.#queues.values()) {
        while (queue.length > 0 && queue[0]!.done) queue.shift();
        if (queue.length === 0) continue;
        const { call, tasks } = this.#build(queue);
        calls.push(call);
        members.push(tasks);
      }
      // Tasks enqueue their follow-ups synchronously as they finish, so an empty round is the end.
      if (calls.length === 0) return;
      const settled = await this.connection.round(calls);
      settled.forEach((result, i) => {
        this.#absorb(members[i]!, result);
      });
    }
  }

  #build(queue: readonly ReadTask[]): { call: ScriptCall; tasks: ReadTask[] } {
    const keys: string[] = [];
    const index = new Map<string, number>();
    const ops: Arg[] = [];
    const tasks: ReadTask[] = [];
    // Where a new locality group begins: a call stops early only there, so the operations of
    // one group (a period's marker, counts and raw ids) are answered from one snapshot.
    const starts: number[] = [];
    let writes = false;
    let previous: string | undefined;
    for (const task of queue) {
      if (task.done) continue;
      const boundary = task.group !== previous;
      if (boundary && tasks.length > 0 && (tasks.length >= CALL_TASKS || ops.length > CALL_ARGS)) break;
      if (tasks.length >= CALL_TASKS * 2) break;
      if (boundary) starts.push(tasks.length + 1);
      previous = task.group;
      const own = task.keys().map((key) => {
        let i = index.get(key);
        if (i === undefined) {
          i = keys.push(key);
          index.set(key, i);
        }
        return i;
      });
      const encoded = task.encode((i) => own[i]!);
      for (const arg of encoded) ops.push(arg);
      tasks.push(task);
      writes ||= task.writes;
    }
    const group = tasks[0]!.group;
    const temporary = this.layout.temporary(group);
    // A cluster routes a call by its first key, so a call needs one (it is never read).
    if (keys.length === 0) keys.push(temporary);
    const args: Arg[] = [
      this.budget.workMs,
      this.budget.replyBytes,
      temporary,
      tasks.length,
      starts.join(','),
    ];
    for (const arg of ops) args.push(arg);
    return {
      call: {
        group,
        script: writes ? READ_SCRIPT : READ_ONLY_SCRIPT,
        keys,
        args,
        buffer: true,
        temporaries: writes,
      },
      tasks,
    };
  }

  #absorb(tasks: readonly ReadTask[], result: Settled): void {
    if (!result.ok) {
      for (const task of tasks) task.fail(result.error);
      return;
    }
    const replies = result.value as unknown[];
    if (!Array.isArray(replies) || replies.length === 0) {
      // read.lua always makes progress on its first operation; a reply without any would
      // otherwise be sent again forever.
      const error = new Error(
        `internal: a read call made no progress (reply: ${String(result.value).slice(0, 80)})`,
      );
      for (const task of tasks) task.fail(error);
      return;
    }
    for (let i = 0; i < replies.length && i < tasks.length; i++) {
      const task = tasks[i]!;
      const reply = replies[i];
      try {
        if (isMore(reply)) task.partial(reply[1], reply[2]);
        else task.finish(reply);
      } catch (error) {
        task.fail(error);
      }
    }
  }
}

/** Build one operation's arguments: name, count, args. */
export function op(name: string, args: readonly Arg[]): Arg[] {
  return [name, args.length, ...args];
}

/** A bulk reply (Buffer in buffer mode) as text. */
export function text(value: unknown): string {
  return Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
}
