/**
 * A bitmap over offsets in [0, 2^32), stored as fixed-size chunks so that one large offset
 * costs one chunk (8 KiB), not half a gigabyte. Bits use Redis's order (offset 0 is the most
 * significant bit of byte 0), so chunk bytes move between Redis strings and memory unchanged.
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

/** A shared all-ones chunk: NOT over a 2^32 universe must not allocate 512 MiB. Never mutated. */
const FULL = new Uint8Array(CHUNK_BYTES).fill(0xff);

type Chunk = Uint8Array;

/** Scratch for `setMany`: chunk number -> chunk, empty between calls. */
const CHUNK_TABLE: Array<Chunk | undefined> = new Array(2 ** (32 - CHUNK_SHIFT)).fill(undefined);

function popcount32(value: number): number {
  let v = value - ((value >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

function words(chunk: Chunk): Uint32Array {
  return new Uint32Array(chunk.buffer, chunk.byteOffset, CHUNK_WORDS);
}

function countChunk(chunk: Chunk): number {
  if (chunk === FULL) return CHUNK_BITS;
  const w = words(chunk);
  let total = 0;
  for (let i = 0; i < CHUNK_WORDS; i++) {
    const v = w[i]!;
    if (v !== 0) total += popcount32(v);
  }
  return total;
}

function isEmptyChunk(chunk: Chunk): boolean {
  if (chunk === FULL) return false;
  const w = words(chunk);
  for (let i = 0; i < CHUNK_WORDS; i++) if (w[i] !== 0) return false;
  return true;
}

function combine(a: Chunk, b: Chunk, op: 'and' | 'or' | 'xor' | 'andnot'): Chunk {
  const out = new Uint8Array(CHUNK_BYTES);
  const o = words(out);
  const x = words(a);
  const y = words(b);
  switch (op) {
    case 'and':
      for (let i = 0; i < CHUNK_WORDS; i++) o[i] = x[i]! & y[i]!;
      break;
    case 'or':
      for (let i = 0; i < CHUNK_WORDS; i++) o[i] = x[i]! | y[i]!;
      break;
    case 'xor':
      for (let i = 0; i < CHUNK_WORDS; i++) o[i] = x[i]! ^ y[i]!;
      break;
    case 'andnot':
      for (let i = 0; i < CHUNK_WORDS; i++) o[i] = x[i]! & ~y[i]!;
      break;
  }
  return out;
}

/** The universe [0, bits) restricted to chunk `index`: FULL, null (empty) or a partial mask. */
function universeChunk(index: number, bits: number): Chunk | null {
  const first = index * CHUNK_BITS;
  if (first >= bits) return null;
  if (first + CHUNK_BITS <= bits) return FULL;
  const within = bits - first;
  const out = new Uint8Array(CHUNK_BYTES);
  out.fill(0xff, 0, within >>> 3);
  if (within & 7) out[within >>> 3] = (0xff00 >>> (within & 7)) & 0xff;
  return out;
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

export type BitmapResolver = (key: string) => Bitmap | undefined;

export class Bitmap implements Iterable<number> {
  readonly #chunks: Map<number, Chunk>;
  #size = -1;

  private constructor(chunks: Map<number, Chunk>) {
    this.#chunks = chunks;
  }

  static empty(): Bitmap {
    return new Bitmap(new Map());
  }

  static fromOffsets(offsets: Iterable<number>): Bitmap {
    const bitmap = Bitmap.empty();
    for (const offset of offsets) bitmap.set(offset, true);
    return bitmap;
  }

  /**
   * Build from chunk bytes, e.g. Redis strings, which may be shorter than a chunk (Redis
   * trims a string to its highest written byte). Bytes are copied.
   */
  static fromChunks(entries: Iterable<readonly [number, Uint8Array]>): Bitmap {
    const chunks = new Map<number, Chunk>();
    for (const [index, bytes] of entries) {
      if (!Number.isInteger(index) || index < 0 || index * CHUNK_BITS > MAX_BIT_OFFSET) {
        throw new InvalidArgumentError('index', index, 'not a valid chunk index');
      }
      const chunk = new Uint8Array(CHUNK_BYTES);
      chunk.set(bytes.length > CHUNK_BYTES ? bytes.subarray(0, CHUNK_BYTES) : bytes);
      if (!isEmptyChunk(chunk)) chunks.set(index, chunk);
    }
    return new Bitmap(chunks);
  }

  /**
   * Build from the parts of a decoded reply: chunk bytes (as `fromChunks`), ranges
   * [first, end) of all-ones chunks (shared, never allocated per chunk) and loose offsets.
   */
  static fromParts(parts: {
    chunks?: Iterable<readonly [number, Uint8Array]>;
    full?: Iterable<readonly [number, number]>;
    offsets?: ArrayLike<number>;
  }): Bitmap {
    const bitmap = Bitmap.fromChunks(parts.chunks ?? []);
    for (const [first, end] of parts.full ?? []) {
      for (let index = first; index < end; index++) bitmap.#chunks.set(index, FULL);
    }
    if (parts.offsets && parts.offsets.length > 0) bitmap.setMany(Array.from(parts.offsets), true);
    return bitmap;
  }

  /** Evaluate an expression over stored bitmaps; missing keys are empty. */
  static evaluate(expr: BitExpr, resolve: BitmapResolver): Bitmap {
    const chunks = new Map<number, Chunk>();
    for (const index of candidates(expr, resolve)) {
      const chunk = evaluateChunk(expr, index, resolve);
      if (chunk === null || isEmptyChunk(chunk)) continue;
      // Results never alias stored chunks: the store may change after we return.
      chunks.set(index, chunk === FULL ? FULL : chunk.slice());
    }
    return new Bitmap(chunks);
  }

  /** Count an expression's set bits without materialising its result. */
  static count(expr: BitExpr, resolve: BitmapResolver): number {
    let total = 0;
    for (const index of candidates(expr, resolve)) {
      const chunk = evaluateChunk(expr, index, resolve);
      if (chunk !== null) total += countChunk(chunk);
    }
    return total;
  }

  has(offset: number): boolean {
    if (!Number.isInteger(offset) || offset < 0 || offset > MAX_BIT_OFFSET) return false;
    const index = Math.floor(offset / CHUNK_BITS);
    const chunk = this.#chunks.get(index);
    if (!chunk) return false;
    const within = offset - index * CHUNK_BITS;
    return (chunk[within >>> 3]! & (0x80 >>> (within & 7))) !== 0;
  }

  /** Set or clear one bit. Clearing a bit of an absent chunk allocates nothing. */
  set(offset: number, value: boolean): void {
    validateBitOffset(offset);
    const index = Math.floor(offset / CHUNK_BITS);
    let chunk = this.#chunks.get(index);
    if (!chunk) {
      if (!value) return;
      chunk = new Uint8Array(CHUNK_BYTES);
      this.#chunks.set(index, chunk);
    } else if (chunk === FULL) {
      chunk = FULL.slice();
      this.#chunks.set(index, chunk);
    }
    const within = offset - index * CHUNK_BITS;
    const mask = 0x80 >>> (within & 7);
    if (value) chunk[within >>> 3]! |= mask;
    else chunk[within >>> 3]! &= ~mask;
    this.#size = -1;
  }

  /**
   * Set or clear many bits: `set` for each offset, validated the same way, with the chunk
   * looked up once per run of offsets in one chunk rather than once per bit.
   */
  setMany(offsets: readonly number[], value: boolean): void {
    // Chunks are found through a table indexed by chunk number (random ids would otherwise
    // cost a Map lookup per bit); only the touched slots are reset afterwards.
    const touched: number[] = [];
    try {
      for (let i = 0; i < offsets.length; i++) {
        const offset = offsets[i]!;
        validateBitOffset(offset);
        const index = offset >>> CHUNK_SHIFT;
        let chunk = CHUNK_TABLE[index];
        if (chunk === undefined) {
          chunk = this.#chunks.get(index);
          if (chunk === FULL) {
            chunk = FULL.slice();
            this.#chunks.set(index, chunk);
          } else if (chunk === undefined) {
            if (!value) continue;
            chunk = new Uint8Array(CHUNK_BYTES);
            this.#chunks.set(index, chunk);
          }
          CHUNK_TABLE[index] = chunk;
          touched.push(index);
        }
        const within = offset & (CHUNK_BITS - 1);
        if (value) chunk[within >>> 3]! |= 0x80 >>> (within & 7);
        else chunk[within >>> 3]! &= ~(0x80 >>> (within & 7));
      }
    } finally {
      for (const index of touched) CHUNK_TABLE[index] = undefined;
      this.#size = -1;
    }
  }

  /** Number of set bits. */
  get size(): number {
    if (this.#size < 0) {
      let total = 0;
      for (const chunk of this.#chunks.values()) total += countChunk(chunk);
      this.#size = total;
    }
    return this.#size;
  }

  /** True when no chunk is held (a bitmap whose bits were all cleared still holds chunks). */
  get isEmpty(): boolean {
    return this.#chunks.size === 0;
  }

  /** Bytes of chunk storage held. */
  get byteLength(): number {
    return this.#chunks.size * CHUNK_BYTES;
  }

  /** Chunk indices in ascending order. */
  chunkIndices(): number[] {
    return [...this.#chunks.keys()].sort((a, b) => a - b);
  }

  /** A chunk's bytes (read-only by contract: do not mutate), or undefined. */
  chunk(index: number): Uint8Array | undefined {
    return this.#chunks.get(index);
  }

  /** Largest set offset, or -1 when none is set. */
  max(): number {
    const indices = this.chunkIndices();
    for (let k = indices.length - 1; k >= 0; k--) {
      const index = indices[k]!;
      const chunk = this.#chunks.get(index)!;
      for (let byte = CHUNK_BYTES - 1; byte >= 0; byte--) {
        const b = chunk[byte]!;
        if (b !== 0) return index * CHUNK_BITS + byte * 8 + (7 - Math.floor(Math.log2(b & -b)));
      }
    }
    return -1;
  }

  clone(): Bitmap {
    const chunks = new Map<number, Chunk>();
    for (const [index, chunk] of this.#chunks) chunks.set(index, chunk === FULL ? FULL : chunk.slice());
    return new Bitmap(chunks);
  }

  *[Symbol.iterator](): Iterator<number> {
    for (const index of this.chunkIndices()) {
      const chunk = this.#chunks.get(index)!;
      const base = index * CHUNK_BITS;
      for (let byte = 0; byte < CHUNK_BYTES; byte++) {
        const b = chunk[byte]!;
        if (b === 0) continue;
        for (let bit = 0; bit < 8; bit++) {
          if (b & (0x80 >>> bit)) yield base + byte * 8 + bit;
        }
      }
    }
  }

  /** Set offsets, ascending. */
  toArray(): number[] {
    const out: number[] = [];
    for (const offset of this) out.push(offset);
    return out;
  }
}

/** Chunk indices where the expression's result may be non-empty, ascending. */
function candidates(expr: BitExpr, resolve: BitmapResolver): number[] {
  const set = candidateSet(expr, resolve);
  return [...set].sort((a, b) => a - b);
}

function candidateSet(expr: BitExpr, resolve: BitmapResolver): Set<number> {
  switch (expr.op) {
    case 'key':
      return new Set(resolve(expr.key)?.chunkIndices() ?? []);
    case 'and': {
      const [first, ...rest] = expr.args.map((arg) => candidateSet(arg, resolve));
      if (!first) return new Set();
      return new Set([...first].filter((i) => rest.every((s) => s.has(i))));
    }
    case 'or':
    case 'xor': {
      const out = new Set<number>();
      for (const arg of expr.args) for (const i of candidateSet(arg, resolve)) out.add(i);
      return out;
    }
    case 'andnot':
      return candidateSet(expr.args[0], resolve);
    case 'not': {
      validateUniverse(expr.bits);
      const out = new Set<number>();
      const last = Math.ceil(expr.bits / CHUNK_BITS);
      for (let i = 0; i < last; i++) out.add(i);
      return out;
    }
  }
}

/** One chunk of the result: null for empty, FULL for all ones, otherwise bytes (maybe a stored chunk). */
function evaluateChunk(expr: BitExpr, index: number, resolve: BitmapResolver): Chunk | null {
  switch (expr.op) {
    case 'key':
      return resolve(expr.key)?.chunk(index) ?? null;
    case 'and': {
      let acc: Chunk | null = FULL;
      for (const arg of expr.args) {
        const next = evaluateChunk(arg, index, resolve);
        if (next === null) return null;
        if (next === FULL) continue;
        acc = acc === FULL ? next : combine(acc!, next, 'and');
      }
      return expr.args.length === 0 ? null : acc;
    }
    case 'or': {
      let acc: Chunk | null = null;
      for (const arg of expr.args) {
        const next = evaluateChunk(arg, index, resolve);
        if (next === null) continue;
        if (next === FULL) return FULL;
        acc = acc === null ? next : combine(acc, next, 'or');
      }
      return acc;
    }
    case 'xor': {
      let acc: Chunk | null = null;
      for (const arg of expr.args) {
        const next = evaluateChunk(arg, index, resolve);
        if (next === null) continue;
        if (acc === null) acc = next;
        else if (acc === FULL) acc = combine(FULL, next, 'andnot');
        else if (next === FULL) acc = combine(FULL, acc, 'andnot');
        else acc = combine(acc, next, 'xor');
      }
      return acc;
    }
    case 'andnot': {
      const left = evaluateChunk(expr.args[0], index, resolve);
      if (left === null) return null;
      const right = evaluateChunk(expr.args[1], index, resolve);
      if (right === null) return left;
      if (right === FULL) return null;
      return combine(left, right, 'andnot');
    }
    case 'not': {
      const universe = universeChunk(index, expr.bits);
      if (universe === null) return null;
      const inner = evaluateChunk(expr.args[0], index, resolve);
      if (inner === null) return universe;
      if (inner === FULL) return null;
      return combine(universe, inner, 'andnot');
    }
  }
}
