/**
 * Turning a write into script calls (lua/write.lua): every operation of a locality group goes
 * into that group's calls, in order (on a standalone server, one stream of calls for the
 * whole write), and a call is closed once it holds about CALL_WORK units of server work or
 * CALL_BYTES of arguments, so no call holds the server for long and none meets Lua's or V8's
 * limits on list sizes. Splitting depends only on the write's content, so a retried write
 * splits the same way (idempotency markers are per call).
 */
import type { WriteOp } from '../backend.js';
import { localityGroup } from '../keys.js';
import { encodeBits } from './chunks.js';
import type { Arg } from './connection.js';
import type { KeyLayout } from './layout.js';

/**
 * Work units of one call: a unit is about what setting one bit sparsely or adding one set
 * member costs; a chunk touched costs 40 (its index and string checks), a hash field 5 (its
 * overflow check and HINCRBY). Sized to keep a call near 10-20 ms on this project's 2-core
 * machines (tests/chaos measures the longest call).
 */
export const CALL_WORK = 40_000;
/** Argument bytes of one call. */
export const CALL_BYTES = 4 * 2 ** 20;
/** Arguments of one call (each is a separate value for the client to send). */
const CALL_ARGS = 30_000;

export interface WriteCallPlan {
  readonly group: string;
  readonly keys: string[];
  /** Operations, as write.lua reads them after its 4 header arguments. */
  readonly ops: Arg[];
  work: number;
  bytes: number;
}

class CallBuilder implements WriteCallPlan {
  readonly keys: string[] = [];
  readonly ops: Arg[] = [];
  work = 0;
  bytes = 0;
  readonly #index = new Map<string, number>();

  constructor(
    readonly group: string,
    private readonly maxArgs: number,
  ) {}

  key(physical: string): number {
    let i = this.#index.get(physical);
    if (i === undefined) {
      i = this.keys.push(physical);
      this.#index.set(physical, i);
    }
    return i;
  }

  wouldOverflow(work: number, bytes: number, args: number): boolean {
    return (
      this.ops.length > 0 &&
      (this.work + work > CALL_WORK ||
        this.bytes + bytes > CALL_BYTES ||
        this.ops.length + args > this.maxArgs)
    );
  }
}

/** Per group, the calls of a write, in order. */
export class WritePlan {
  readonly #streams = new Map<string, CallBuilder[]>();
  readonly #splittable: boolean;

  constructor(
    private readonly layout: KeyLayout,
    private readonly cluster: boolean,
    /** Atomic writes are one call, whatever their size (the size is checked up front). */
    atomic: boolean,
    /** Arguments per call (emulators that spread them need fewer). */
    private readonly maxArgs = CALL_ARGS,
  ) {
    this.#splittable = !atomic;
  }

  /** Calls grouped into rounds: round r holds call r of every group. */
  rounds(): WriteCallPlan[][] {
    const rounds: WriteCallPlan[][] = [];
    for (const calls of this.#streams.values()) {
      calls.forEach((call, r) => {
        if (call.ops.length === 0) return;
        (rounds[r] ??= []).push(call);
      });
    }
    return rounds;
  }

  /** The stream's current call, or a fresh one when the next piece would not fit. */
  #call(group: string, work: number, bytes: number, args: number): CallBuilder {
    const stream = this.cluster ? group : '';
    let calls = this.#streams.get(stream);
    if (!calls) this.#streams.set(stream, (calls = [new CallBuilder(group, this.maxArgs)]));
    let call = calls[calls.length - 1]!;
    if (this.#splittable && call.wouldOverflow(work, bytes, args)) {
      call = new CallBuilder(group, this.maxArgs);
      calls.push(call);
    }
    return call;
  }

  /** Push one operation (or a piece of one) into the stream of `key`'s group. */
  #push(key: string, name: string, list: readonly Arg[], work: number, bytes: number): void {
    const call = this.#call(localityGroup(key), work, bytes, list.length + 3);
    const k = call.key(this.layout.physical(key));
    call.ops.push(name, k, list.length);
    for (const arg of list) call.ops.push(arg);
    call.work += work;
    call.bytes += bytes;
  }

  /** A list split into slices of at most `size` items. */
  static *slices<T>(list: readonly T[], size: number): Generator<readonly T[]> {
    for (let i = 0; i < list.length; i += size) yield list.slice(i, i + size);
  }

  add(op: WriteOp): void {
    switch (op.op) {
      case 'setBits': {
        if (op.offsets.length === 0) return;
        const clear = op.value === false;
        const { dense, sparse } = encodeBits(op.offsets, clear);
        // Dense pieces: chunk, byte offset, bytes (8 KiB at most each).
        let pieces: Arg[] = [];
        let work = 0;
        let bytes = 0;
        const flushDense = () => {
          if (pieces.length > 0) this.#push(op.key, 'oc', pieces, work, bytes);
          pieces = [];
          work = 0;
          bytes = 0;
        };
        for (let i = 0; i < dense.length; i += 3) {
          const buffer = dense[i + 2] as Buffer;
          const pieceWork = 8 + (buffer.length >>> 6);
          if (
            this.#splittable &&
            pieces.length > 0 &&
            (work + pieceWork > CALL_WORK / 2 || bytes + buffer.length > CALL_BYTES / 2)
          ) {
            flushDense();
          }
          pieces.push(dense[i]!, dense[i + 1]!, buffer);
          work += pieceWork;
          bytes += buffer.length;
        }
        flushDense();
        // Sparse chunks: chunk, packed offsets; a chunk's offsets may be split too.
        let entries: Arg[] = [];
        const flushSparse = () => {
          if (entries.length > 0) this.#push(op.key, clear ? 'cb' : 'sb', entries, work, bytes);
          entries = [];
          work = 0;
          bytes = 0;
        };
        for (let i = 0; i < sparse.length; i += 2) {
          const chunk = sparse[i] as number;
          const packed = sparse[i + 1] as Buffer;
          for (let at = 0; at < packed.length; ) {
            const room = this.#splittable ? 3 * Math.max(1, Math.floor(CALL_WORK / 2 - work)) : packed.length;
            const piece = packed.subarray(at, at + Math.min(packed.length - at, room));
            entries.push(chunk, piece);
            work += 40 + piece.length / 3;
            bytes += piece.length;
            at += piece.length;
            if (this.#splittable && work >= CALL_WORK / 2) flushSparse();
          }
        }
        flushSparse();
        return;
      }
      case 'increment': {
        if (op.increments.length === 0) return;
        // A field incremented twice in one write would be checked against its value before the
        // first increment if split; summing first keeps each field in one piece.
        const sums = new Map<string, number>();
        for (const [field, by] of op.increments) sums.set(field, (sums.get(field) ?? 0) + by);
        const flat: Arg[] = [];
        for (const [field, by] of sums) flat.push(field, by);
        for (const slice of this.#splittable ? WritePlan.slices(flat, 10_000) : [flat]) {
          this.#push(op.key, 'hi', slice, (slice.length / 2) * 5, byteLength(slice));
        }
        return;
      }
      case 'setAdd':
      case 'setRemove':
      case 'hllAdd': {
        if (op.members.length === 0) return;
        const name = op.op === 'setAdd' ? 'sa' : op.op === 'setRemove' ? 'sr' : 'pa';
        for (const slice of this.#splittable ? WritePlan.slices(op.members, 10_000) : [op.members]) {
          this.#push(op.key, name, slice, slice.length, byteLength(slice));
        }
        return;
      }
      case 'set':
        this.#push(op.key, 'set', [op.value], 5, Buffer.byteLength(op.value));
        return;
      case 'max':
        this.#push(op.key, 'max', [String(op.value)], 5, 16);
        return;
      case 'storeCardinality': {
        // Sources share the destination's group (checked before planning).
        const call = this.#call(
          localityGroup(op.key),
          20 + op.sources.length * 20,
          op.sources.length * 8,
          op.sources.length + 4,
        );
        const k = call.key(this.layout.physical(op.key));
        call.ops.push('sc', k, op.sources.length + 1, op.kind);
        for (const source of op.sources) call.ops.push(call.key(this.layout.physical(source)));
        call.work += 20 + op.sources.length * 20;
        call.bytes += op.sources.length * 8;
        return;
      }
      case 'delete': {
        // One deletion per key, each in its own group's stream.
        for (const key of op.keys) {
          const call = this.#call(localityGroup(key), 50, 8, 4);
          call.ops.push('del', 0, 1, call.key(this.layout.physical(key)));
          call.work += 50;
          call.bytes += 8;
        }
        return;
      }
      case 'expire':
        this.#push(op.key, 'exp', [String(op.seconds * 1000)], 50, 16);
        return;
    }
  }
}

function byteLength(list: readonly Arg[]): number {
  let n = 0;
  for (const item of list)
    n += typeof item === 'string' ? item.length + 2 : typeof item === 'number' ? 8 : item.length;
  return n;
}
