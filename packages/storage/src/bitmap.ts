/**
 * A bitmap over offsets in [0, 2^32), Roaring-style: offsets are grouped in chunks of 2^16
 * and each non-empty chunk is held by the cheapest of three containers:
 * - an *array* container, the chunk's offsets as sorted 16-bit values, while it holds at most
 *   ARRAY_LIMIT of them (2 bytes each, so at most 8 KiB);
 * - a *dense* container, 8 KiB of bits, above that;
 * - the shared all-ones container FULL, for a chunk with every bit set (NOT over a 2^32
 *   universe must not allocate 512 MiB); it is never mutated: a bitmap copies it first.
 * Dense bits use Redis's order (offset 0 is the most significant bit of byte 0), so chunk
 * bytes move between Redis strings and memory unchanged.
 *
 * Array containers do not get a typed array each (a Uint16Array costs ~200 bytes of V8
 * objects, more than the 30 bytes of a chunk holding 15 offsets, the case of 1 M ids spread
 * over 2^32): a bitmap keeps their values in one pool, and per chunk only a start, a length
 * and a capacity in parallel typed arrays.
 *
 * The same evaluator serves the memory backend, the Redis backend's client-side path (Redis
 * Cluster keys in different slots) and query results.
 */
import type { BitExpr } from './backend.js';
import { InvalidArgumentError } from './errors.js';
import { MAX_BIT_OFFSET, validateBitOffset } from './keys.js';

const CHUNK_SHIFT = 16;
export const CHUNK_BITS = 2 ** CHUNK_SHIFT;
export const CHUNK_BYTES = CHUNK_BITS / 8;
const CHUNK_WORDS = CHUNK_BYTES / 4;
const LOW = CHUNK_BITS - 1;
/** Chunks of a 2^32-bit bitmap. */
const CHUNK_COUNT = 2 ** (32 - CHUNK_SHIFT);
/** The most values an array container holds (8 KiB, a dense container's size); more are dense. */
export const ARRAY_LIMIT = 4096;
/** Batches of at most this many new values per chunk are sorted and merged; larger ones go through bits. */
const MERGE_LIMIT = 64;

/** 8 KiB of bits of one chunk and how many are set (always more than ARRAY_LIMIT). */
class Dense {
  readonly bytes: Uint8Array;
  readonly words: Int32Array;
  card: number;

  constructor(bytes: Uint8Array, card: number) {
    this.bytes = bytes;
    this.words = new Int32Array(bytes.buffer, bytes.byteOffset, CHUNK_WORDS);
    this.card = card;
  }
}

/** The shared all-ones container. Never mutated. */
const FULL = new Dense(new Uint8Array(CHUNK_BYTES).fill(0xff), CHUNK_BITS);

/**
 * One chunk as the evaluator sees it: null (empty), sorted distinct values (never empty;
 * possibly a view of a bitmap's pool) or a Dense (possibly stored, possibly FULL). Parts
 * are never mutated once made, so results may alias their operands.
 */
type Part = Uint16Array | Dense | null;

function popcount32(value: number): number {
  let v = value - ((value >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

function countWords(words: Int32Array): number {
  let total = 0;
  for (let i = 0; i < CHUNK_WORDS; i++) {
    const v = words[i]!;
    if (v !== 0) total += popcount32(v);
  }
  return total;
}

const hasBit = (bytes: Uint8Array, within: number): boolean =>
  (bytes[within >>> 3]! & (0x80 >>> (within & 7))) !== 0;

/**
 * 1 if `within` is set in `bytes`, else 0. Probing loops add this instead of branching: the
 * branch is unpredictable on real data, and probing ~4,000 values then cost twice the time of
 * a word-by-word pass over 2,048 words.
 */
const bitOf = (bytes: Uint8Array, within: number): number =>
  (bytes[within >>> 3]! >>> (7 - (within & 7))) & 1;

/**
 * Write the set bits of `words` as ascending values to `out` from `at`; returns the end.
 * With `clear`, zero each word read (scratch reuse).
 */
function extract(words: Int32Array, out: Uint16Array, at: number, clear: boolean): number {
  let k = at;
  for (let w = 0; w < CHUNK_WORDS; w++) {
    const word = words[w]!;
    if (word === 0) continue;
    if (clear) words[w] = 0;
    // Little-endian view: byte 4w is the word's low byte; within a byte the top bit comes first.
    for (let b = 0; b < 4; b++) {
      let byte = (word >>> (b * 8)) & 0xff;
      const base = w * 32 + b * 8;
      while (byte !== 0) {
        const bit = Math.clz32(byte) - 24;
        out[k++] = base + bit;
        byte &= ~(0x80 >>> bit);
      }
    }
  }
  return k;
}

/** A Part from bits: null, sorted values when few, FULL when all set, otherwise a Dense of `bytes` (owned). */
function fromBits(bytes: Uint8Array, words: Int32Array, card: number): Part {
  if (card === 0) return null;
  if (card === CHUNK_BITS) return FULL;
  if (card <= ARRAY_LIMIT) {
    const out = new Uint16Array(card);
    extract(words, out, 0, false);
    return out;
  }
  return new Dense(bytes, card);
}

function denseOf(values: Uint16Array): Dense {
  const bytes = new Uint8Array(CHUNK_BYTES);
  for (let i = 0; i < values.length; i++) bytes[values[i]! >>> 3]! |= 0x80 >>> (values[i]! & 7);
  return new Dense(bytes, values.length);
}

const cardinality = (part: Part): number =>
  part === null ? 0 : part instanceof Dense ? part.card : part.length;

/** First index in sorted a[from, to) whose value is >= target (galloping, then binary search). */
function gallop(a: Uint16Array, from: number, to: number, target: number): number {
  let step = 1;
  let low = from;
  let high = from;
  while (high < to && a[high]! < target) {
    low = high + 1;
    high = from + step;
    step *= 2;
  }
  if (high > to) high = to;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (a[mid]! < target) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** Scratch bits for intersecting large arrays; all zero between uses. */
const PROBE = new Uint8Array(CHUNK_BYTES);
/** From this size of the smaller array on, arrays are intersected through PROBE. */
const PROBE_MIN = 256;

/** Intersect sorted arrays into `out` (or only count when out is null). */
function intersectArrays(a: Uint16Array, b: Uint16Array, out: Uint16Array | null): number {
  if (a.length > b.length) [a, b] = [b, a];
  let k = 0;
  if (a.length * 32 < b.length) {
    // Very different sizes: gallop through the larger.
    let j = 0;
    for (let i = 0; i < a.length && j < b.length; i++) {
      const v = a[i]!;
      j = gallop(b, j, b.length, v);
      if (j < b.length && b[j] === v) {
        if (out) out[k] = v;
        k++;
        j++;
      }
    }
    return k;
  }
  if (a.length >= PROBE_MIN) {
    // Both large: mark one in bits and probe with the other, which measured ~1.6x faster than
    // a merge (whose compare branch is unpredictable); the output stays sorted.
    for (let i = 0; i < a.length; i++) PROBE[a[i]! >>> 3]! |= 0x80 >>> (a[i]! & 7);
    if (out) {
      for (let j = 0; j < b.length; j++) {
        const v = b[j]!;
        out[k] = v;
        k += bitOf(PROBE, v);
      }
    } else for (let j = 0; j < b.length; j++) k += bitOf(PROBE, b[j]!);
    for (let i = 0; i < a.length; i++) PROBE[a[i]! >>> 3] = 0;
    return k;
  }
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    if (x < y) i++;
    else if (x > y) j++;
    else {
      if (out) out[k] = x;
      k++;
      i++;
      j++;
    }
  }
  return k;
}

/** Merge sorted arrays: 'or' keeps values of either, 'xor' of exactly one, 'andnot' of a only. */
function mergeArrays(a: Uint16Array, b: Uint16Array, op: 'or' | 'xor' | 'andnot', out: Uint16Array): number {
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    if (x < y) {
      out[k++] = x;
      i++;
    } else if (x > y) {
      if (op !== 'andnot') out[k++] = y;
      j++;
    } else {
      if (op === 'or') out[k++] = x;
      i++;
      j++;
    }
  }
  while (i < a.length) out[k++] = a[i++]!;
  if (op !== 'andnot') while (j < b.length) out[k++] = b[j++]!;
  return k;
}

/** values[0, length) (sorted, distinct) as a fresh Part: null when empty, a Dense when too many. */
function fromValues(values: Uint16Array, length: number): Part {
  if (length === 0) return null;
  return length > ARRAY_LIMIT ? denseOf(values.subarray(0, length)) : values.slice(0, length);
}

/** Sort `values` in place and drop repeats; returns the distinct prefix. */
function sortedDistinct(values: Uint16Array): Uint16Array {
  values.sort();
  let k = 0;
  for (let i = 0; i < values.length; i++)
    if (i === 0 || values[i] !== values[k - 1]) values[k++] = values[i]!;
  return values.subarray(0, k);
}

const MERGE_OUT = new Uint16Array(2 * CHUNK_BITS);

function and(a: Part, b: Part): Part {
  if (a === null || b === null) return null;
  if (a === FULL) return b;
  if (b === FULL) return a;
  if (a instanceof Dense && b instanceof Dense) {
    const bytes = new Uint8Array(CHUNK_BYTES);
    const o = new Int32Array(bytes.buffer);
    const x = a.words;
    const y = b.words;
    let card = 0;
    for (let i = 0; i < CHUNK_WORDS; i++) {
      const v = x[i]! & y[i]!;
      o[i] = v;
      if (v !== 0) card += popcount32(v);
    }
    return fromBits(bytes, o, card);
  }
  if (a instanceof Dense || b instanceof Dense) {
    const values = (a instanceof Dense ? b : a) as Uint16Array;
    const bits = (a instanceof Dense ? a : b) as Dense;
    const bytes = bits.bytes;
    let k = 0;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      MERGE_OUT[k] = v;
      k += bitOf(bytes, v);
    }
    return k === 0 ? null : MERGE_OUT.slice(0, k);
  }
  const k = intersectArrays(a, b, MERGE_OUT);
  return k === 0 ? null : MERGE_OUT.slice(0, k);
}

function countAnd(a: Part, b: Part): number {
  if (a === null || b === null) return 0;
  if (a === FULL) return cardinality(b);
  if (b === FULL) return cardinality(a);
  if (a instanceof Dense && b instanceof Dense) {
    const x = a.words;
    const y = b.words;
    let total = 0;
    for (let i = 0; i < CHUNK_WORDS; i++) {
      const v = x[i]! & y[i]!;
      if (v !== 0) total += popcount32(v);
    }
    return total;
  }
  if (a instanceof Dense || b instanceof Dense) {
    const values = (a instanceof Dense ? b : a) as Uint16Array;
    const bits = (a instanceof Dense ? a : b) as Dense;
    const bytes = bits.bytes;
    let total = 0;
    for (let i = 0; i < values.length; i++) total += bitOf(bytes, values[i]!);
    return total;
  }
  return intersectArrays(a, b, null);
}

/** Word-by-word op of two Densities, or of a Dense and itself complemented (b null: NOT a). */
function combineDense(a: Dense, b: Dense | null, op: 'or' | 'xor' | 'andnot'): Part {
  const bytes = new Uint8Array(CHUNK_BYTES);
  const o = new Int32Array(bytes.buffer);
  const x = a.words;
  let card = 0;
  if (b === null) {
    for (let i = 0; i < CHUNK_WORDS; i++) {
      const v = ~x[i]!;
      o[i] = v;
      if (v !== 0) card += popcount32(v);
    }
    return fromBits(bytes, o, card);
  }
  const y = b.words;
  for (let i = 0; i < CHUNK_WORDS; i++) {
    const v = op === 'or' ? x[i]! | y[i]! : op === 'xor' ? x[i]! ^ y[i]! : x[i]! & ~y[i]!;
    o[i] = v;
    if (v !== 0) card += popcount32(v);
  }
  return fromBits(bytes, o, card);
}

/** A copy of `bits` with `values` set (or), toggled (xor) or cleared (andnot). */
function applyValues(bits: Dense, values: Uint16Array, op: 'or' | 'xor' | 'andnot'): Part {
  const bytes = bits.bytes.slice();
  let card = bits.card;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    const at = v >>> 3;
    const mask = 0x80 >>> (v & 7);
    const was = (bytes[at]! & mask) !== 0;
    if (op === 'or') {
      if (!was) card++;
      bytes[at]! |= mask;
    } else if (op === 'xor') {
      card += was ? -1 : 1;
      bytes[at]! ^= mask;
    } else if (was) {
      card--;
      bytes[at]! &= ~mask;
    }
  }
  return fromBits(bytes, new Int32Array(bytes.buffer), card);
}

/** All ones of the chunk except `part` (NOT within one chunk). */
function complement(part: Part): Part {
  if (part === null) return FULL;
  if (part === FULL) return null;
  if (part instanceof Dense) return combineDense(part, null, 'xor');
  return applyValues(FULL, part, 'andnot');
}

function or(a: Part, b: Part): Part {
  if (a === null) return b;
  if (b === null) return a;
  if (a === FULL || b === FULL) return FULL;
  if (a instanceof Dense && b instanceof Dense) return combineDense(a, b, 'or');
  if (a instanceof Dense) return applyValues(a, b as Uint16Array, 'or');
  if (b instanceof Dense) return applyValues(b, a, 'or');
  return fromValues(MERGE_OUT, mergeArrays(a, b, 'or', MERGE_OUT));
}

function xor(a: Part, b: Part): Part {
  if (a === null) return b;
  if (b === null) return a;
  if (a === FULL) return complement(b);
  if (b === FULL) return complement(a);
  if (a instanceof Dense && b instanceof Dense) return combineDense(a, b, 'xor');
  if (a instanceof Dense) return applyValues(a, b as Uint16Array, 'xor');
  if (b instanceof Dense) return applyValues(b, a, 'xor');
  return fromValues(MERGE_OUT, mergeArrays(a, b, 'xor', MERGE_OUT));
}

function andNot(a: Part, b: Part): Part {
  if (a === null || b === FULL) return null;
  if (b === null) return a;
  if (a === FULL) return complement(b);
  if (a instanceof Dense && b instanceof Dense) return combineDense(a, b, 'andnot');
  if (a instanceof Dense) return applyValues(a, b as Uint16Array, 'andnot');
  if (b instanceof Dense) {
    const bytes = b.bytes;
    let k = 0;
    for (let i = 0; i < a.length; i++) {
      const v = a[i]!;
      MERGE_OUT[k] = v;
      k += 1 - bitOf(bytes, v);
    }
    return k === 0 ? null : MERGE_OUT.slice(0, k);
  }
  return fromValues(MERGE_OUT, mergeArrays(a, b, 'andnot', MERGE_OUT));
}

/** The universe [0, bits) within chunk `index`: null, FULL or a prefix of the chunk. */
function universePart(index: number, bits: number): Part {
  const first = index * CHUNK_BITS;
  if (first >= bits) return null;
  if (first + CHUNK_BITS <= bits) return FULL;
  const within = bits - first;
  if (within <= ARRAY_LIMIT) {
    const values = new Uint16Array(within);
    for (let i = 0; i < within; i++) values[i] = i;
    return values;
  }
  const bytes = new Uint8Array(CHUNK_BYTES);
  bytes.fill(0xff, 0, within >>> 3);
  if (within & 7) bytes[within >>> 3] = (0xff00 >>> (within & 7)) & 0xff;
  return new Dense(bytes, within);
}

function validateUniverse(bits: unknown): asserts bits is number {
  if (typeof bits !== 'number' || !Number.isInteger(bits) || bits < 0 || bits > MAX_BIT_OFFSET + 1) {
    throw new InvalidArgumentError(
      'bits',
      bits,
      `a NOT universe must be an integer in [0, ${MAX_BIT_OFFSET + 1}]`,
    );
  }
}

function validateChunkIndex(index: unknown, argument = 'index'): asserts index is number {
  if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= CHUNK_COUNT) {
    throw new InvalidArgumentError(
      argument,
      index,
      `not a valid chunk index (an integer in [0, ${CHUNK_COUNT}))`,
    );
  }
}

export type BitmapResolver = (key: string) => Bitmap | undefined;

/** What the evaluator reads of one stored bitmap. */
interface Source {
  /** Chunk indices held, ascending. */
  readonly keys: Int32Array;
  part(index: number): Part;
}

/** Parts to build a bitmap from, with `fromParts`. */
export interface BitmapParts {
  /** Chunk bytes, as `fromChunks` takes them (copied; shorter than 8 KiB is zero-padded). */
  chunks?: Iterable<readonly [number, Uint8Array]>;
  /** Ranges [firstChunk, endChunk) of chunks with every bit set: no per-chunk storage. */
  full?: Iterable<readonly [number, number]>;
  /** Loose offsets in any order, repeats allowed, validated and set as `setMany` sets them. */
  offsets?: ArrayLike<number>;
}

/** Chunks appended in ascending order (the layout evaluate, clone and fromParts produce). */
class Builder {
  count = 0;
  keys: Int32Array = new Int32Array(16);
  dense: Array<Dense | undefined> = [];
  starts: Int32Array = new Int32Array(16);
  lengths: Int32Array = new Int32Array(16);
  pool: Uint16Array = new Uint16Array(64);
  poolEnd = 0;

  #slot(index: number): number {
    if (this.count === this.keys.length) {
      const capacity = this.count * 2;
      this.keys = grown(this.keys, capacity);
      this.starts = grown(this.starts, capacity);
      this.lengths = grown(this.lengths, capacity);
    }
    const slot = this.count++;
    this.keys[slot] = index;
    return slot;
  }

  /** Append a copy of `part` (a shared FULL stays shared). */
  append(index: number, part: Part): void {
    if (part === null) return;
    if (part instanceof Dense)
      this.appendOwned(index, part === FULL ? FULL : new Dense(part.bytes.slice(), part.card));
    else this.appendValues(index, part);
  }

  /** Append an array container with a copy of `part`, even when empty. */
  appendValues(index: number, part: Uint16Array): void {
    const slot = this.#slot(index);
    this.dense.push(undefined);
    if (this.poolEnd + part.length > this.pool.length) {
      const pool = new Uint16Array(Math.max(this.pool.length * 2, this.poolEnd + part.length));
      pool.set(this.pool.subarray(0, this.poolEnd));
      this.pool = pool;
    }
    this.pool.set(part, this.poolEnd);
    this.starts[slot] = this.poolEnd;
    this.lengths[slot] = part.length;
    this.poolEnd += part.length;
  }

  /** Append a Dense the builder may keep (just made by the caller). */
  appendOwned(index: number, part: Dense): void {
    const slot = this.#slot(index);
    this.dense.push(part);
    this.starts[slot] = 0;
    this.lengths[slot] = 0;
  }

  /** Append FULL for every chunk in [first, end). */
  appendFull(first: number, end: number): void {
    for (let index = first; index < end; index++) this.appendOwned(index, FULL);
  }

  /** The pool, trimmed when more than 1/8 is slack: results and decoded replies live long. */
  trimmedPool(): Uint16Array {
    return this.pool.length - this.poolEnd > this.pool.length / 8
      ? this.pool.slice(0, this.poolEnd)
      : this.pool;
  }
}

function grown(array: Int32Array, capacity: number): Int32Array {
  const out = new Int32Array(capacity);
  out.set(array.subarray(0, Math.min(array.length, capacity)));
  return out;
}

// Scratch for setMany: per chunk number, how many offsets the batch has, then where they go.
const GROUP_COUNTS = new Int32Array(CHUNK_COUNT);
const GROUP_ENDS = new Int32Array(CHUNK_COUNT);
/** Scratch bits for merging a batch into an array container; all zero between uses. */
const SCRATCH = new Dense(new Uint8Array(CHUNK_BYTES), 0);

export class Bitmap implements Iterable<number> {
  // Parallel per-chunk arrays, slots [0, #count) sorted by chunk index. A slot holds an array
  // container (#dense[slot] undefined, values at #pool[#starts .. #starts + #lengths), room
  // for #capacities) or a Dense (possibly FULL). An array container may hold no values: a
  // chunk whose bits were all cleared is kept, as before containers.
  #count: number;
  #keys: Int32Array;
  #dense: Array<Dense | undefined>;
  #starts: Int32Array;
  #lengths: Int32Array;
  #capacities: Int32Array;
  #pool: Uint16Array;
  #poolEnd: number;
  #size = -1;

  private constructor(
    count: number,
    keys: Int32Array,
    dense: Array<Dense | undefined>,
    starts: Int32Array,
    lengths: Int32Array,
    capacities: Int32Array,
    pool: Uint16Array,
    poolEnd: number,
  ) {
    this.#count = count;
    this.#keys = keys;
    this.#dense = dense;
    this.#starts = starts;
    this.#lengths = lengths;
    this.#capacities = capacities;
    this.#pool = pool;
    this.#poolEnd = poolEnd;
  }

  static #build(builder: Builder): Bitmap {
    return new Bitmap(
      builder.count,
      builder.keys,
      builder.dense,
      builder.starts,
      builder.lengths,
      builder.lengths.slice(),
      builder.trimmedPool(),
      builder.poolEnd,
    );
  }

  static empty(): Bitmap {
    return new Bitmap(
      0,
      new Int32Array(0),
      [],
      new Int32Array(0),
      new Int32Array(0),
      new Int32Array(0),
      new Uint16Array(0),
      0,
    );
  }

  static fromOffsets(offsets: Iterable<number>): Bitmap {
    const bitmap = Bitmap.empty();
    bitmap.setMany(Array.isArray(offsets) ? offsets : [...offsets], true);
    return bitmap;
  }

  /**
   * Build from chunk bytes, e.g. Redis strings, which may be shorter than a chunk (Redis
   * trims a string to its highest written byte). Bytes are copied. A chunk listed twice
   * keeps its last bytes.
   */
  static fromChunks(entries: Iterable<readonly [number, Uint8Array]>): Bitmap {
    const last = new Map<number, Uint8Array>();
    for (const [index, bytes] of entries) {
      validateChunkIndex(index);
      last.set(index, bytes);
    }
    return Bitmap.fromParts({ chunks: last });
  }

  /**
   * Build from the pieces a Redis reply decodes to: the union of chunk bytes (as
   * `fromChunks`), ranges of all-ones chunks (each costs a reference to the shared FULL
   * container, nothing more) and loose offsets (validated and set as `setMany` sets them).
   */
  static fromParts(parts: BitmapParts): Bitmap {
    const indices: number[] = [];
    const chunkParts: Part[] = [];
    let sorted = true;
    for (const [index, bytes] of parts.chunks ?? []) {
      validateChunkIndex(index);
      const part = partOfBytes(bytes);
      if (part === null) continue;
      if (indices.length > 0 && index <= indices[indices.length - 1]!) sorted = false;
      indices.push(index);
      chunkParts.push(part);
    }
    const ranges: Array<readonly [number, number]> = [];
    for (const range of parts.full ?? []) {
      const [first, end] = range;
      validateChunkIndex(first, 'full');
      if (typeof end !== 'number' || !Number.isInteger(end) || end < first || end > CHUNK_COUNT) {
        throw new InvalidArgumentError(
          'full',
          range,
          `a range [firstChunk, endChunk) within [0, ${CHUNK_COUNT}]`,
        );
      }
      if (end > first) ranges.push([first, end]);
    }
    let order = indices.map((_, i) => i);
    if (!sorted) order = order.sort((x, y) => indices[x]! - indices[y]! || x - y);
    ranges.sort((x, y) => x[0] - y[0]);
    const builder = new Builder();
    let r = 0;
    let fullEnd = 0;
    for (let k = 0; k < order.length; k++) {
      const index = indices[order[k]!]!;
      let part: Part = chunkParts[order[k]!]!;
      // Repeats of a chunk are ORed.
      while (k + 1 < order.length && indices[order[k + 1]!] === index)
        part = or(part, chunkParts[order[++k]!]!);
      // Full ranges starting before this chunk.
      while (r < ranges.length && ranges[r]![0] <= index) {
        const [first, end] = ranges[r++]!;
        if (end > fullEnd) {
          builder.appendFull(Math.max(first, fullEnd), end);
          fullEnd = end;
        }
      }
      if (index < fullEnd || part === null) continue;
      if (part instanceof Dense) builder.appendOwned(index, part);
      else builder.append(index, part);
    }
    for (; r < ranges.length; r++) {
      const [first, end] = ranges[r]!;
      if (end > fullEnd) {
        builder.appendFull(Math.max(first, fullEnd), end);
        fullEnd = end;
      }
    }
    const bitmap = Bitmap.#build(builder);
    if (parts.offsets !== undefined && parts.offsets.length > 0) bitmap.setMany(parts.offsets, true);
    return bitmap;
  }

  /** Evaluate an expression over stored bitmaps; missing keys are empty. */
  static evaluate(expr: BitExpr, resolve: BitmapResolver): Bitmap {
    const sources = Bitmap.#sources(expr, resolve);
    const builder = new Builder();
    for (const index of candidates(expr, sources)) {
      // Results never alias stored containers: the store may change after we return.
      builder.append(index, evaluatePart(expr, index, sources));
    }
    return Bitmap.#build(builder);
  }

  /** Count an expression's set bits without materialising its result. */
  static count(expr: BitExpr, resolve: BitmapResolver): number {
    const sources = Bitmap.#sources(expr, resolve);
    let total = 0;
    for (const index of candidates(expr, sources)) total += countPart(expr, index, sources);
    return total;
  }

  /** Each key of `expr` resolved once. */
  static #sources(expr: BitExpr, resolve: BitmapResolver): Map<string, Source> {
    const sources = new Map<string, Source>();
    const visit = (e: BitExpr): void => {
      if (e.op === 'key') {
        if (sources.has(e.key)) return;
        const bitmap = resolve(e.key);
        sources.set(e.key, bitmap ? bitmap.#source() : EMPTY_SOURCE);
        return;
      }
      if (e.op === 'not') validateUniverse(e.bits);
      for (const arg of e.args) visit(arg);
    };
    visit(expr);
    return sources;
  }

  #source(): Source {
    return { keys: this.#keys.subarray(0, this.#count), part: (index) => this.#part(index) };
  }

  /** The chunk as a Part (a view of this bitmap's storage). */
  #part(index: number): Part {
    const slot = this.#find(index);
    if (slot < 0) return null;
    const dense = this.#dense[slot];
    if (dense !== undefined) return dense;
    const length = this.#lengths[slot]!;
    if (length === 0) return null;
    const start = this.#starts[slot]!;
    return this.#pool.subarray(start, start + length);
  }

  /** The slot of chunk `index`, or -(insertion point) - 1. */
  #find(index: number): number {
    const keys = this.#keys;
    let low = 0;
    let high = this.#count - 1;
    // Appending in order is common: check the last slot first.
    if (high >= 0 && keys[high]! < index) return -(high + 1) - 1;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      const key = keys[mid]!;
      if (key < index) low = mid + 1;
      else if (key > index) high = mid - 1;
      else return mid;
    }
    return -low - 1;
  }

  has(offset: number): boolean {
    if (!Number.isInteger(offset) || offset < 0 || offset > MAX_BIT_OFFSET) return false;
    const slot = this.#find(Math.floor(offset / CHUNK_BITS));
    if (slot < 0) return false;
    const within = offset & LOW;
    const dense = this.#dense[slot];
    if (dense !== undefined) return hasBit(dense.bytes, within);
    const start = this.#starts[slot]!;
    const end = start + this.#lengths[slot]!;
    const at = lowerBound(this.#pool, start, end, within);
    return at < end && this.#pool[at] === within;
  }

  /** Set or clear one bit. Clearing a bit of an absent chunk allocates nothing. */
  set(offset: number, value: boolean): void {
    validateBitOffset(offset);
    const index = Math.floor(offset / CHUNK_BITS);
    const within = offset & LOW;
    let slot = this.#find(index);
    if (slot < 0) {
      if (!value) return;
      slot = -slot - 1;
      this.#insertSlots([slot], [index]);
    }
    this.#size = -1;
    const dense = this.#dense[slot];
    if (dense !== undefined) {
      if (dense === FULL) {
        if (value) return;
        this.#dense[slot] = new Dense(FULL.bytes.slice(), CHUNK_BITS);
      }
      const bits = this.#dense[slot]!;
      const mask = 0x80 >>> (within & 7);
      const was = (bits.bytes[within >>> 3]! & mask) !== 0;
      if (was === value) return;
      if (value) {
        bits.bytes[within >>> 3]! |= mask;
        if (++bits.card === CHUNK_BITS) this.#dense[slot] = FULL;
      } else {
        bits.bytes[within >>> 3]! &= ~mask;
        if (--bits.card <= ARRAY_LIMIT) this.#demote(slot);
      }
      return;
    }
    const start = this.#starts[slot]!;
    const length = this.#lengths[slot]!;
    const at = lowerBound(this.#pool, start, start + length, within);
    const present = at < start + length && this.#pool[at] === within;
    if (present === value) return;
    if (!value) {
      this.#pool.copyWithin(at, at + 1, start + length);
      this.#lengths[slot] = length - 1;
      return;
    }
    if (length === ARRAY_LIMIT) {
      const bits = denseOf(this.#pool.subarray(start, start + length));
      bits.bytes[within >>> 3]! |= 0x80 >>> (within & 7);
      bits.card++;
      this.#release(slot);
      this.#dense[slot] = bits;
      return;
    }
    if (length < this.#capacities[slot]!) {
      this.#pool.copyWithin(at + 1, at, start + length);
      this.#pool[at] = within;
      this.#lengths[slot] = length + 1;
      return;
    }
    // Move to a larger place: double the room, as an array list would.
    const capacity = Math.min(ARRAY_LIMIT, Math.max(4, length * 2));
    const moved = this.#allocate(capacity, false);
    const pool = this.#pool;
    const from = this.#starts[slot]!;
    pool.copyWithin(moved, from, from + (at - start));
    pool[moved + (at - start)] = within;
    pool.copyWithin(moved + (at - start) + 1, from + (at - start), from + length);
    this.#starts[slot] = moved;
    this.#lengths[slot] = length + 1;
    this.#capacities[slot] = capacity;
  }

  /**
   * Set or clear many bits, as `set` for each offset (validated the same way; an invalid
   * offset throws before any bit changes). Offsets are grouped by chunk in two passes over
   * typed scratch arrays and each chunk's container is updated once, so sorted and random
   * input cost about the same.
   */
  setMany(offsets: ArrayLike<number>, value: boolean): void {
    const n = offsets.length;
    if (n === 0) return;
    const touched: number[] = [];
    const counts = GROUP_COUNTS;
    try {
      for (let i = 0; i < n; i++) {
        const offset = offsets[i]!;
        validateBitOffset(offset);
        const index = offset >>> CHUNK_SHIFT;
        if (counts[index]!++ === 0) touched.push(index);
      }
      let ascending = true;
      for (let t = 1; t < touched.length && ascending; t++) ascending = touched[t - 1]! < touched[t]!;
      const chunks = ascending ? Int32Array.from(touched) : Int32Array.from(touched).sort();
      const ends = GROUP_ENDS;
      let at = 0;
      for (let t = 0; t < chunks.length; t++) {
        const index = chunks[t]!;
        ends[index] = at;
        at += counts[index]!;
      }
      const grouped = new Uint16Array(n);
      for (let i = 0; i < n; i++) {
        const offset = offsets[i]!;
        grouped[ends[offset >>> CHUNK_SHIFT]!++] = offset & LOW;
      }
      this.#size = -1;
      if (value) this.#addGroups(chunks, grouped);
      else this.#clearGroups(chunks, grouped);
    } finally {
      for (const index of touched) counts[index] = 0;
    }
  }

  /** Slots of `chunks` (ascending), -1 for chunks not held. */
  #slotsOf(chunks: Int32Array): Int32Array {
    const slots = new Int32Array(chunks.length);
    let s = 0;
    for (let t = 0; t < chunks.length; t++) {
      const index = chunks[t]!;
      while (s < this.#count && this.#keys[s]! < index) s++;
      slots[t] = s < this.#count && this.#keys[s] === index ? s : -1;
    }
    return slots;
  }

  #addGroups(chunks: Int32Array, grouped: Uint16Array): void {
    let slots = this.#slotsOf(chunks);
    const missing: number[] = [];
    const at: number[] = [];
    let s = 0;
    for (let t = 0; t < chunks.length; t++) {
      if (slots[t] !== -1) continue;
      const index = chunks[t]!;
      while (s < this.#count && this.#keys[s]! < index) s++;
      missing.push(index);
      at.push(s);
    }
    if (missing.length > 0) {
      this.#insertSlots(at, missing);
      slots = this.#slotsOf(chunks);
    }
    // Room for the array containers that will grow or be made, in one allocation.
    let room = 0;
    for (let t = 0; t < chunks.length; t++) {
      const slot = slots[t]!;
      if (this.#dense[slot] !== undefined) continue;
      const total = this.#lengths[slot]! + GROUP_COUNTS[chunks[t]!]!;
      // An upper bound: compaction may take away room a container has now.
      if (total <= ARRAY_LIMIT && total > this.#lengths[slot]!) room += total;
    }
    this.#reserve(room);
    let end = 0;
    for (let t = 0; t < chunks.length; t++) {
      const start = end;
      end += GROUP_COUNTS[chunks[t]!]!;
      this.#addValues(slots[t]!, grouped.subarray(start, end));
    }
  }

  #addValues(slot: number, values: Uint16Array): void {
    const dense = this.#dense[slot];
    if (dense === FULL) return;
    if (dense !== undefined) {
      const bytes = dense.bytes;
      let card = dense.card;
      for (let i = 0; i < values.length; i++) {
        const v = values[i]!;
        const mask = 0x80 >>> (v & 7);
        if ((bytes[v >>> 3]! & mask) === 0) {
          bytes[v >>> 3]! |= mask;
          card++;
        }
      }
      dense.card = card;
      if (card === CHUNK_BITS) this.#dense[slot] = FULL;
      return;
    }
    const start = this.#starts[slot]!;
    const length = this.#lengths[slot]!;
    const existing = this.#pool.subarray(start, start + length);
    if (values.length <= MERGE_LIMIT && length + values.length <= ARRAY_LIMIT) {
      const merged = mergeArrays(existing, sortedDistinct(values), 'or', MERGE_OUT);
      this.#storeValues(slot, MERGE_OUT, merged);
      return;
    }
    // Many values: through scratch bits, which also sorts them and drops repeats.
    const bytes = SCRATCH.bytes;
    let card = 0;
    for (let i = 0; i < length; i++) bytes[existing[i]! >>> 3]! |= 0x80 >>> (existing[i]! & 7);
    card = length;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      const mask = 0x80 >>> (v & 7);
      if ((bytes[v >>> 3]! & mask) === 0) {
        bytes[v >>> 3]! |= mask;
        card++;
      }
    }
    if (card > ARRAY_LIMIT) {
      const bits = card === CHUNK_BITS ? FULL : new Dense(bytes.slice(), card);
      bytes.fill(0);
      this.#release(slot);
      this.#dense[slot] = bits;
      return;
    }
    const k = extract(SCRATCH.words, MERGE_OUT, 0, true);
    this.#storeValues(slot, MERGE_OUT, k);
  }

  /** Make slot's array container hold values[0, length), in place when it has room. */
  #storeValues(slot: number, values: Uint16Array, length: number): void {
    if (length > this.#capacities[slot]!) {
      this.#starts[slot] = this.#allocate(length, false);
      this.#capacities[slot] = length;
    }
    this.#pool.set(values.subarray(0, length), this.#starts[slot]!);
    this.#lengths[slot] = length;
  }

  #clearGroups(chunks: Int32Array, grouped: Uint16Array): void {
    const slots = this.#slotsOf(chunks);
    let end = 0;
    for (let t = 0; t < chunks.length; t++) {
      const start = end;
      end += GROUP_COUNTS[chunks[t]!]!;
      const slot = slots[t]!;
      if (slot < 0) continue;
      const values = grouped.subarray(start, end);
      let dense = this.#dense[slot];
      if (dense === undefined) {
        values.sort();
        const from = this.#starts[slot]!;
        const length = this.#lengths[slot]!;
        const kept = mergeArrays(this.#pool.subarray(from, from + length), values, 'andnot', MERGE_OUT);
        this.#pool.set(MERGE_OUT.subarray(0, kept), from);
        this.#lengths[slot] = kept;
        continue;
      }
      if (dense === FULL) this.#dense[slot] = dense = new Dense(FULL.bytes.slice(), CHUNK_BITS);
      const bytes = dense.bytes;
      let card = dense.card;
      for (let i = 0; i < values.length; i++) {
        const v = values[i]!;
        const mask = 0x80 >>> (v & 7);
        if ((bytes[v >>> 3]! & mask) !== 0) {
          bytes[v >>> 3]! &= ~mask;
          card--;
        }
      }
      dense.card = card;
      if (card <= ARRAY_LIMIT) this.#demote(slot);
    }
  }

  /** Turn slot's Dense (at most ARRAY_LIMIT bits) into an array container. */
  #demote(slot: number): void {
    const dense = this.#dense[slot]!;
    const k = extract(dense.words, MERGE_OUT, 0, false);
    this.#dense[slot] = undefined;
    this.#starts[slot] = this.#allocate(k, false);
    this.#capacities[slot] = k;
    this.#pool.set(MERGE_OUT.subarray(0, k), this.#starts[slot]!);
    this.#lengths[slot] = k;
  }

  /** Free slot's array storage (it becomes a Dense). */
  #release(slot: number): void {
    this.#starts[slot] = 0;
    this.#lengths[slot] = 0;
    this.#capacities[slot] = 0;
  }

  /** Insert empty array containers for `indices` (ascending) before slots `at` (ascending). */
  #insertSlots(at: readonly number[], indices: readonly number[]): void {
    const count = this.#count + indices.length;
    const keys =
      this.#keys.length >= count ? this.#keys : new Int32Array(Math.max(count, this.#keys.length * 2));
    const capacity = keys.length;
    const starts = capacity === this.#starts.length ? this.#starts : new Int32Array(capacity);
    const lengths = capacity === this.#lengths.length ? this.#lengths : new Int32Array(capacity);
    const capacities = capacity === this.#capacities.length ? this.#capacities : new Int32Array(capacity);
    // Move the old slots up, from the top down (in place when the arrays are reused).
    let to = count;
    let from = this.#count;
    const dense = this.#dense;
    for (let m = indices.length - 1; m >= -1; m--) {
      const stop = m >= 0 ? at[m]! : 0;
      const run = from - stop;
      if (run > 0) {
        move(this.#keys, keys, stop, from, to - run);
        move(this.#starts, starts, stop, from, to - run);
        move(this.#lengths, lengths, stop, from, to - run);
        move(this.#capacities, capacities, stop, from, to - run);
        to -= run;
        from = stop;
      }
      if (m >= 0) {
        to--;
        keys[to] = indices[m]!;
        starts[to] = 0;
        lengths[to] = 0;
        capacities[to] = 0;
      }
    }
    // The Dense references follow the same moves.
    const moved: Array<Dense | undefined> = new Array(count);
    let o = 0;
    let m = 0;
    for (let s = 0; s < this.#count || m < indices.length; ) {
      if (m < indices.length && at[m] === s) {
        moved[o++] = undefined;
        m++;
      } else {
        moved[o++] = dense[s++];
      }
    }
    this.#dense = moved;
    this.#keys = keys;
    this.#starts = starts;
    this.#lengths = lengths;
    this.#capacities = capacities;
    this.#count = count;
  }

  /** Ensure `extra` pool entries can be allocated without moving the pool. */
  #reserve(extra: number): void {
    if (this.#poolEnd + extra <= this.#pool.length) return;
    this.#regrow(extra, true);
  }

  /** Start of `length` new pool entries. */
  #allocate(length: number, exact: boolean): number {
    if (this.#poolEnd + length > this.#pool.length) this.#regrow(length, exact);
    const start = this.#poolEnd;
    this.#poolEnd += length;
    return start;
  }

  /** A new pool with room for `extra` more, compacted: space left behind by moved containers is dropped. */
  #regrow(extra: number, exact: boolean): void {
    let live = 0;
    for (let slot = 0; slot < this.#count; slot++)
      if (this.#dense[slot] === undefined) live += this.#lengths[slot]!;
    const needed = live + extra;
    // Exact requests (a batch's known needs) still get a quarter of slack, so that batches
    // growing a large bitmap compact it once per quarter of growth, not once per batch.
    const length = exact ? needed + (live >>> 2) : Math.max(needed, live * 2, 64);
    const pool = new Uint16Array(length);
    let end = 0;
    for (let slot = 0; slot < this.#count; slot++) {
      if (this.#dense[slot] !== undefined) continue;
      const start = this.#starts[slot]!;
      const size = this.#lengths[slot]!;
      pool.set(this.#pool.subarray(start, start + size), end);
      this.#starts[slot] = end;
      // Compaction keeps only the values: room to grow is dropped with the garbage.
      this.#capacities[slot] = size;
      end += size;
    }
    this.#pool = pool;
    this.#poolEnd = end;
  }

  /** Number of set bits. */
  get size(): number {
    if (this.#size < 0) {
      let total = 0;
      for (let slot = 0; slot < this.#count; slot++) {
        total += this.#dense[slot]?.card ?? this.#lengths[slot]!;
      }
      this.#size = total;
    }
    return this.#size;
  }

  /** True when no chunk is held (a bitmap whose bits were all cleared still holds chunks). */
  get isEmpty(): boolean {
    return this.#count === 0;
  }

  /**
   * Bytes of container storage held: 2 per value of an array container, 8 KiB per dense
   * container, nothing for the shared all-ones container. Bookkeeping (about 20 bytes per
   * chunk) and an array container's room to grow are not counted.
   */
  get byteLength(): number {
    let total = 0;
    for (let slot = 0; slot < this.#count; slot++) {
      const dense = this.#dense[slot];
      if (dense === undefined) total += 2 * this.#lengths[slot]!;
      else if (dense !== FULL) total += CHUNK_BYTES;
    }
    return total;
  }

  /** Chunk indices in ascending order. */
  chunkIndices(): number[] {
    return Array.from(this.#keys.subarray(0, this.#count));
  }

  /**
   * A held chunk's 8 KiB of bits in Redis order, or undefined. For tooling and tests: the
   * bytes are read-only by contract (a dense or shared container's own bytes may be
   * returned) and an array container is materialised into a new 8 KiB on every call.
   */
  chunk(index: number): Uint8Array | undefined {
    const slot = this.#find(index);
    if (slot < 0) return undefined;
    const dense = this.#dense[slot];
    if (dense !== undefined) return dense.bytes;
    const start = this.#starts[slot]!;
    return denseOf(this.#pool.subarray(start, start + this.#lengths[slot]!)).bytes;
  }

  /**
   * How chunk `index` is held, for tooling and tests: 'array' (sorted 16-bit values, at most
   * 4,096), 'dense' (8 KiB of bits), 'full' (the shared all-ones container) or undefined.
   */
  containerKind(index: number): 'array' | 'dense' | 'full' | undefined {
    const slot = this.#find(index);
    if (slot < 0) return undefined;
    const dense = this.#dense[slot];
    return dense === undefined ? 'array' : dense === FULL ? 'full' : 'dense';
  }

  /** Largest set offset, or -1 when none is set. */
  max(): number {
    for (let slot = this.#count - 1; slot >= 0; slot--) {
      const base = this.#keys[slot]! * CHUNK_BITS;
      const dense = this.#dense[slot];
      if (dense === undefined) {
        const length = this.#lengths[slot]!;
        if (length > 0) return base + this.#pool[this.#starts[slot]! + length - 1]!;
        continue;
      }
      const bytes = dense.bytes;
      for (let byte = CHUNK_BYTES - 1; byte >= 0; byte--) {
        const b = bytes[byte]!;
        if (b !== 0) return base + byte * 8 + (7 - Math.floor(Math.log2(b & -b)));
      }
    }
    return -1;
  }

  clone(): Bitmap {
    const builder = new Builder();
    for (let slot = 0; slot < this.#count; slot++) {
      const index = this.#keys[slot]!;
      const dense = this.#dense[slot];
      if (dense !== undefined) builder.append(index, dense);
      else {
        // An emptied array container is kept (clones answer isEmpty and chunkIndices alike).
        const start = this.#starts[slot]!;
        builder.appendValues(index, this.#pool.subarray(start, start + this.#lengths[slot]!));
      }
    }
    return Bitmap.#build(builder);
  }

  *[Symbol.iterator](): Iterator<number> {
    for (let slot = 0; slot < this.#count; slot++) {
      const base = this.#keys[slot]! * CHUNK_BITS;
      const dense = this.#dense[slot];
      if (dense === undefined) {
        const start = this.#starts[slot]!;
        const values = this.#pool.subarray(start, start + this.#lengths[slot]!);
        for (let i = 0; i < values.length; i++) yield base + values[i]!;
        continue;
      }
      const bytes = dense.bytes;
      for (let byte = 0; byte < CHUNK_BYTES; byte++) {
        const b = bytes[byte]!;
        if (b === 0) continue;
        for (let bit = 0; bit < 8; bit++) {
          if (b & (0x80 >>> bit)) yield base + byte * 8 + bit;
        }
      }
    }
  }

  /** Set offsets, ascending. */
  toArray(): number[] {
    const out: number[] = new Array(this.size);
    let k = 0;
    for (let slot = 0; slot < this.#count; slot++) {
      const base = this.#keys[slot]! * CHUNK_BITS;
      const dense = this.#dense[slot];
      if (dense === undefined) {
        const start = this.#starts[slot]!;
        const end = start + this.#lengths[slot]!;
        for (let i = start; i < end; i++) out[k++] = base + this.#pool[i]!;
        continue;
      }
      const words = dense.words;
      for (let w = 0; w < CHUNK_WORDS; w++) {
        const word = words[w]!;
        if (word === 0) continue;
        for (let b = 0; b < 4; b++) {
          let byte = (word >>> (b * 8)) & 0xff;
          const at = base + w * 32 + b * 8;
          while (byte !== 0) {
            const bit = Math.clz32(byte) - 24;
            out[k++] = at + bit;
            byte &= ~(0x80 >>> bit);
          }
        }
      }
    }
    return out;
  }
}

function move(source: Int32Array, target: Int32Array, from: number, end: number, to: number): void {
  if (source === target) target.copyWithin(to, from, end);
  else target.set(source.subarray(from, end), to);
}

/** Binary search: first index in a[from, to) with value >= target. */
function lowerBound(a: Uint16Array, from: number, to: number, target: number): number {
  let low = from;
  let high = to;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (a[mid]! < target) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** A chunk given as bytes (maybe shorter or longer than 8 KiB) as a fresh Part. */
function partOfBytes(source: Uint8Array): Part {
  const bytes = new Uint8Array(CHUNK_BYTES);
  bytes.set(source.length > CHUNK_BYTES ? source.subarray(0, CHUNK_BYTES) : source);
  const words = new Int32Array(bytes.buffer);
  return fromBits(bytes, words, countWords(words));
}

const EMPTY_SOURCE: Source = { keys: new Int32Array(0), part: () => null };

/** Chunk indices where the expression's result may be non-empty, ascending. */
function candidates(expr: BitExpr, sources: Map<string, Source>): Int32Array {
  switch (expr.op) {
    case 'key':
      return sources.get(expr.key)!.keys;
    case 'and': {
      if (expr.args.length === 0) return new Int32Array(0);
      let acc = candidates(expr.args[0]!, sources);
      for (let i = 1; i < expr.args.length && acc.length > 0; i++) {
        acc = intersectIndices(acc, candidates(expr.args[i]!, sources));
      }
      return acc;
    }
    case 'or':
    case 'xor': {
      let acc: Int32Array = new Int32Array(0);
      for (const arg of expr.args) acc = unionIndices(acc, candidates(arg, sources));
      return acc;
    }
    case 'andnot':
      return candidates(expr.args[0], sources);
    case 'not': {
      const last = Math.ceil(expr.bits / CHUNK_BITS);
      const out = new Int32Array(last);
      for (let i = 0; i < last; i++) out[i] = i;
      return out;
    }
  }
}

function intersectIndices(a: Int32Array, b: Int32Array): Int32Array {
  const out = new Int32Array(Math.min(a.length, b.length));
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) {
    if (a[i]! < b[j]!) i++;
    else if (a[i]! > b[j]!) j++;
    else {
      out[k++] = a[i]!;
      i++;
      j++;
    }
  }
  return out.subarray(0, k);
}

function unionIndices(a: Int32Array, b: Int32Array): Int32Array {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  const out = new Int32Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) {
    if (a[i]! < b[j]!) out[k++] = a[i++]!;
    else if (a[i]! > b[j]!) out[k++] = b[j++]!;
    else {
      out[k++] = a[i++]!;
      j++;
    }
  }
  while (i < a.length) out[k++] = a[i++]!;
  while (j < b.length) out[k++] = b[j++]!;
  return out.subarray(0, k);
}

/** One chunk of the result (may alias stored containers: callers copy before keeping it). */
function evaluatePart(expr: BitExpr, index: number, sources: Map<string, Source>): Part {
  switch (expr.op) {
    case 'key':
      return sources.get(expr.key)!.part(index);
    case 'and': {
      if (expr.args.length === 0) return null;
      let acc: Part = FULL;
      for (const arg of expr.args) {
        acc = and(acc, evaluatePart(arg, index, sources));
        if (acc === null) return null;
      }
      return acc;
    }
    case 'or': {
      let acc: Part = null;
      for (const arg of expr.args) {
        acc = or(acc, evaluatePart(arg, index, sources));
        if (acc === FULL) return FULL;
      }
      return acc;
    }
    case 'xor': {
      let acc: Part = null;
      for (const arg of expr.args) acc = xor(acc, evaluatePart(arg, index, sources));
      return acc;
    }
    case 'andnot': {
      const left = evaluatePart(expr.args[0], index, sources);
      if (left === null) return null;
      return andNot(left, evaluatePart(expr.args[1], index, sources));
    }
    case 'not': {
      const universe = universePart(index, expr.bits);
      if (universe === null) return null;
      return andNot(universe, evaluatePart(expr.args[0], index, sources));
    }
  }
}

/** Bits of one chunk of the result; the last operation is counted, not built. */
function countPart(expr: BitExpr, index: number, sources: Map<string, Source>): number {
  switch (expr.op) {
    case 'key':
      return cardinality(sources.get(expr.key)!.part(index));
    case 'and': {
      const n = expr.args.length;
      if (n === 0) return 0;
      let acc: Part = FULL;
      for (let i = 0; i < n - 1; i++) {
        acc = and(acc, evaluatePart(expr.args[i]!, index, sources));
        if (acc === null) return 0;
      }
      return countAnd(acc, evaluatePart(expr.args[n - 1]!, index, sources));
    }
    case 'or':
    case 'xor': {
      const n = expr.args.length;
      if (n === 0) return 0;
      let acc: Part = null;
      for (let i = 0; i < n - 1; i++) {
        const next = evaluatePart(expr.args[i]!, index, sources);
        acc = expr.op === 'or' ? or(acc, next) : xor(acc, next);
      }
      const last = evaluatePart(expr.args[n - 1]!, index, sources);
      const both = countAnd(acc, last);
      return cardinality(acc) + cardinality(last) - (expr.op === 'or' ? both : 2 * both);
    }
    case 'andnot': {
      const left = evaluatePart(expr.args[0], index, sources);
      if (left === null) return 0;
      return cardinality(left) - countAnd(left, evaluatePart(expr.args[1], index, sources));
    }
    case 'not': {
      const universe = universePart(index, expr.bits);
      if (universe === null) return 0;
      return cardinality(universe) - countAnd(universe, evaluatePart(expr.args[0], index, sources));
    }
  }
}
