/**
 * How a bitmap is laid out in Redis, and the client-side half of moving bits in and out.
 *
 * A bitmap at physical key K is an index sorted set K plus one string per chunk of
 * REDIS_CHUNK_BITS bits (2^20: 4,096 chunks cover offsets up to 2^32-1):
 * - a *dense* chunk c (index member "c") is the Redis bitmap string K:c<c>, so BITOP and
 *   BITCOUNT run on it natively;
 * - a *sparse* chunk c (index member "s<c>") is the string K:s<c> of the chunk's offsets,
 *   3 bytes each (appended, possibly repeated), until it holds more than SPARSE_LIMIT of
 *   them and becomes dense.
 * Large chunks keep dense queries to a few BITOPs per bitmap (10 chunks for 10 M ids); the
 * sparse form keeps ids scattered over 2^32 at a few bytes each instead of a 128 KiB chunk.
 * The index also marks the key as a bitmap (its type is zset), which scripts check.
 */
import { Bitmap, CHUNK_BITS } from '../bitmap.js';

const CHUNK_SHIFT = 20;
export const REDIS_CHUNK_BITS = 2 ** CHUNK_SHIFT;
/** Offsets a sparse chunk holds before it becomes dense (about 0.5 KiB per id at the switch). */
export const SPARSE_LIMIT = 256;

const WITHIN = REDIS_CHUNK_BITS - 1;
const PIECES = REDIS_CHUNK_BITS / CHUNK_BITS;
/** Chunks of a 2^32-bit bitmap. */
const CHUNK_COUNT = 2 ** (32 - CHUNK_SHIFT);
const PIECE_BYTES = CHUNK_BITS / 8;
/** Dense chunks travel in pieces of 2^16 bits (8 KiB): measured fastest to allocate and send. */
const SEND_SHIFT = 16;
const SEND_PIECES = REDIS_CHUNK_BITS >>> SEND_SHIFT;
const SEND_BYTES = 2 ** SEND_SHIFT / 8;

/** Reply kinds of a chunk in CHUNKS and BITQUERY 'bytes' replies. */
const BYTES = 0;
const OFFSETS = 1;
const FULL = 2;

export interface EncodedBits {
  /**
   * Chunks with more than SPARSE_LIMIT bits in this batch, as bitmap bytes in pieces of at
   * most 8 KiB (pieces without a bit are left out): chunk index, byte offset, bytes, ...
   */
  readonly dense: Array<number | Buffer>;
  /** Other chunks: chunk index, then their offsets, 3 bytes each, ... */
  readonly sparse: Array<number | Buffer>;
}

// Scratch space for one encode call, one slot per chunk index.
const counts = new Uint32Array(CHUNK_COUNT);
const highest = new Int32Array(CHUNK_COUNT);
const cursor = new Uint32Array(CHUNK_COUNT);
const packed = new Uint8Array(CHUNK_COUNT);
const offsetSlots: Array<Buffer | undefined> = new Array(CHUNK_COUNT);
const pieceSlots: Array<Buffer | undefined> = new Array(CHUNK_COUNT * SEND_PIECES);

/**
 * Split offsets (any order, repeats allowed) into per-chunk payloads in two passes over
 * typed scratch arrays: no per-chunk arrays, no per-bit objects. Dense chunks travel as
 * 8 KiB pieces: larger buffers are a fresh mmap each (page faults, and the client copies
 * every payload twice), which made big chunks slower to send than the same bytes in pieces.
 * With `allSparse` (clearing bits) every chunk is sent as offsets.
 */
export function encodeBits(offsets: readonly number[], allSparse = false): EncodedBits {
  const touched: number[] = [];
  try {
    return encodeInto(offsets, allSparse, touched);
  } finally {
    // The scratch must be clean for the next call, even if this one failed midway.
    for (const c of touched) {
      counts[c] = 0;
      offsetSlots[c] = undefined;
      for (let p = 0; p < SEND_PIECES; p++) pieceSlots[c * SEND_PIECES + p] = undefined;
    }
  }
}

function encodeInto(offsets: readonly number[], allSparse: boolean, touched: number[]): EncodedBits {
  for (let i = 0; i < offsets.length; i++) {
    const o = offsets[i]!;
    const c = o >>> CHUNK_SHIFT;
    if (counts[c] === 0) {
      touched.push(c);
      highest[c] = -1;
    }
    counts[c]!++;
    const within = o & WITHIN;
    if (within > highest[c]!) highest[c] = within;
  }
  touched.sort((a, b) => a - b);
  for (const c of touched) {
    packed[c] = !allSparse && counts[c]! > SPARSE_LIMIT ? 1 : 0;
    if (packed[c] === 0) offsetSlots[c] = Buffer.allocUnsafe(3 * counts[c]!);
    cursor[c] = 0;
  }
  for (let i = 0; i < offsets.length; i++) {
    const o = offsets[i]!;
    const c = o >>> CHUNK_SHIFT;
    const within = o & WITHIN;
    if (packed[c] === 1) {
      const slot = c * SEND_PIECES + (within >>> SEND_SHIFT);
      let piece = pieceSlots[slot];
      if (piece === undefined) {
        // The chunk's last piece ends at its highest set byte, as Redis would trim it.
        const last = highest[c]! >>> SEND_SHIFT === within >>> SEND_SHIFT;
        piece = Buffer.alloc(last ? ((highest[c]! >>> 3) & (SEND_BYTES - 1)) + 1 : SEND_BYTES);
        pieceSlots[slot] = piece;
      }
      const bit = within & (2 ** SEND_SHIFT - 1);
      piece[bit >>> 3]! |= 0x80 >>> (bit & 7);
    } else {
      const buffer = offsetSlots[c]!;
      const at = cursor[c]!;
      buffer[at] = within >>> 16;
      buffer[at + 1] = (within >>> 8) & 0xff;
      buffer[at + 2] = within & 0xff;
      cursor[c] = at + 3;
    }
  }
  const dense: Array<number | Buffer> = [];
  const sparse: Array<number | Buffer> = [];
  for (const c of touched) {
    if (packed[c] === 1) {
      for (let p = 0; p < SEND_PIECES; p++) {
        const piece = pieceSlots[c * SEND_PIECES + p];
        if (piece === undefined) continue;
        dense.push(c, p * SEND_BYTES, piece);
      }
    } else {
      sparse.push(c, offsetSlots[c]!);
    }
  }
  return { dense, sparse };
}

/** A bitmap from a flat CHUNKS/BITQUERY reply: chunk index, kind, payload, ... */
export function decodeChunks(reply: unknown): Bitmap {
  const flat = reply as Array<number | Buffer>;
  const pieces: Array<[number, Uint8Array]> = [];
  const full: Array<[number, number]> = [];
  const scattered: number[] = [];
  for (let i = 0; i < flat.length; i += 3) {
    const c = Number(flat[i]);
    const kind = Number(flat[i + 1]);
    const payload = flat[i + 2] as Buffer;
    if (kind === OFFSETS) {
      const base = c * REDIS_CHUNK_BITS;
      for (let j = 0; j + 2 < payload.length; j += 3) {
        scattered.push(base + payload[j]! * 65536 + payload[j + 1]! * 256 + payload[j + 2]!);
      }
    } else if (kind === FULL) {
      // All ones: the bitmap shares one container for every piece, nothing is allocated.
      full.push([c * PIECES, (c + 1) * PIECES]);
    } else if (kind === BYTES) {
      for (
        let start = 0, piece = 0;
        start < payload.length && piece < PIECES;
        start += PIECE_BYTES, piece++
      ) {
        pieces.push([c * PIECES + piece, payload.subarray(start, start + PIECE_BYTES)]);
      }
    }
  }
  return Bitmap.fromParts({ chunks: pieces, full, offsets: scattered });
}
