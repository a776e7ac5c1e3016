/**
 * A MemoryBackend as bytes and back: `snapshotOf(backend)` and `restoreSnapshot(bytes)`, e.g.
 * to cache a seeded store on disk. Every kind of value is kept (bitmaps, hashes, sets,
 * HyperLogLogs, plain values) with its expiry, so every read of the restored backend answers
 * as the original's did.
 *
 * Format, version 1 (integers are unsigned LEB128 varints unless noted):
 *
 *   magic "PORPOISE-MEMORY" (15 bytes) · format version (1 byte) · entry count
 *   entry: kind (1 byte: 1 bitmap, 2 hash, 3 set, 4 HyperLogLog, 5 plain value)
 *          · flags (1 byte: bit 0 = has an expiry) · key (string)
 *          · [expiry: epoch ms, float64 little-endian] · value
 *   bitmap: count · offsets ascending, the first as is, then each minus the one before
 *   hash:   count · (field (string) · value (float64 little-endian: any safe integer))…
 *   set:    count · member (string)…
 *   HyperLogLog: its 16384 registers, one byte each
 *   plain value: string
 *   string: byte length · UTF-8 bytes
 *   trailer: FNV-1a 32-bit hash of every byte before it (4 bytes, little-endian)
 *
 * Bitmaps go through the Bitmap public API only (`toArray` and `setMany`). Entries, hash
 * fields and set members keep their store order, so a restored store iterates the same way.
 */
import { Bitmap } from '../bitmap.js';
import { InvalidArgumentError } from '../errors.js';
import type { Entry } from './entry.js';
import { HLL_REGISTERS, HyperLogLog } from './hyperloglog.js';
import { MemoryBackend, type MemoryBackendOptions } from './memory-backend.js';

const MAGIC = new TextEncoder().encode('PORPOISE-MEMORY');
/** Bumped whenever the layout changes; older snapshots are then refused, never misread. */
export const SNAPSHOT_FORMAT_VERSION = 1;

const KIND_CODES = { bitmap: 1, hash: 2, set: 3, hll: 4, string: 5 } as const;
const HAS_EXPIRY = 1;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

function fnv1a(bytes: Uint8Array, end: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < end; i++) {
    hash ^= bytes[i]!;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

class Writer {
  #buffer = new Uint8Array(1 << 16);
  #view = new DataView(this.#buffer.buffer);
  length = 0;

  #reserve(bytes: number): void {
    if (this.length + bytes <= this.#buffer.length) return;
    let size = this.#buffer.length * 2;
    while (size < this.length + bytes) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buffer.subarray(0, this.length));
    this.#buffer = next;
    this.#view = new DataView(next.buffer);
  }

  bytes(data: Uint8Array): void {
    this.#reserve(data.length);
    this.#buffer.set(data, this.length);
    this.length += data.length;
  }

  byte(value: number): void {
    this.#reserve(1);
    this.#buffer[this.length++] = value;
  }

  /** Values up to 2^32 (counts, lengths, bit offsets and their gaps). */
  varint(value: number): void {
    this.#reserve(5);
    let rest = value;
    while (rest >= 0x80) {
      this.#buffer[this.length++] = (rest & 0x7f) | 0x80;
      rest >>>= 7;
    }
    this.#buffer[this.length++] = rest;
  }

  float64(value: number): void {
    this.#reserve(8);
    this.#view.setFloat64(this.length, value, true);
    this.length += 8;
  }

  string(value: string): void {
    const data = encoder.encode(value);
    this.varint(data.length);
    this.bytes(data);
  }

  finish(): Uint8Array {
    this.#reserve(4);
    this.#view.setUint32(this.length, fnv1a(this.#buffer, this.length), true);
    this.length += 4;
    return this.#buffer.slice(0, this.length);
  }
}

function corrupt(reason: string): InvalidArgumentError {
  return new InvalidArgumentError('bytes', '(snapshot)', `not a readable memory snapshot: ${reason}`);
}

class Reader {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  readonly #end: number;
  offset = 0;

  constructor(bytes: Uint8Array, end: number) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#end = end;
  }

  #need(bytes: number): void {
    if (this.offset + bytes > this.#end) throw corrupt('it ends too early');
  }

  byte(): number {
    this.#need(1);
    return this.#bytes[this.offset++]!;
  }

  varint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 5; i++) {
      const b = this.byte();
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value;
      scale *= 128;
    }
    throw corrupt(`a number at byte ${this.offset} is too long`);
  }

  /**
   * `count` delta-encoded offsets, summed back: the bulk of a snapshot, so decoded in one
   * tight loop rather than a call per byte.
   */
  deltas(count: number): number[] {
    const bytes = this.#bytes;
    const end = this.#end;
    const out = new Array<number>(count);
    let at = this.offset;
    let offset = 0;
    for (let i = 0; i < count; i++) {
      let b = at < end ? bytes[at++]! : -1;
      let gap = b & 0x7f;
      let scale = 128;
      while (b >= 0x80) {
        if (scale > 2 ** 28) throw corrupt(`a number at byte ${at} is too long`);
        b = at < end ? bytes[at++]! : -1;
        gap += (b & 0x7f) * scale;
        scale *= 128;
      }
      if (b < 0) throw corrupt('it ends too early');
      offset += gap;
      out[i] = offset;
    }
    this.offset = at;
    return out;
  }

  float64(): number {
    this.#need(8);
    const value = this.#view.getFloat64(this.offset, true);
    this.offset += 8;
    return value;
  }

  bytes(length: number): Uint8Array {
    this.#need(length);
    const out = this.#bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }

  string(): string {
    const bytes = this.bytes(this.varint());
    // Keys, ids and fields are short and nearly always ASCII: TextDecoder costs more per call
    // than the copy itself.
    if (bytes.length <= 64) {
      let ascii = true;
      for (let i = 0; i < bytes.length; i++) {
        if (bytes[i]! >= 0x80) {
          ascii = false;
          break;
        }
      }
      if (ascii) return String.fromCharCode.apply(null, bytes as unknown as number[]);
    }
    try {
      return decoder.decode(bytes);
    } catch (error) {
      if (error instanceof InvalidArgumentError) throw error;
      throw corrupt(`invalid UTF-8 before byte ${this.offset}`);
    }
  }
}

function writeValue(out: Writer, entry: Entry): void {
  switch (entry.kind) {
    case 'bitmap': {
      const offsets = entry.value.toArray();
      out.varint(offsets.length);
      let previous = 0;
      for (const offset of offsets) {
        out.varint(offset - previous);
        previous = offset;
      }
      return;
    }
    case 'hash':
      out.varint(entry.value.size);
      for (const [field, value] of entry.value) {
        out.string(field);
        out.float64(value);
      }
      return;
    case 'set':
      out.varint(entry.value.size);
      for (const member of entry.value) out.string(member);
      return;
    case 'hll':
      out.bytes(entry.value.registers);
      return;
    case 'string':
      out.string(entry.value);
      return;
  }
}

/** The whole store of `backend` (its live keys, with their expiries) as bytes. */
export function snapshotOf(backend: MemoryBackend): Uint8Array {
  if (!(backend instanceof MemoryBackend)) {
    throw new InvalidArgumentError('backend', backend, 'snapshots are taken of a MemoryBackend');
  }
  const entries = MemoryBackend.entriesOf(backend);
  const out = new Writer();
  out.bytes(MAGIC);
  out.byte(SNAPSHOT_FORMAT_VERSION);
  out.varint(entries.length);
  for (const [key, entry] of entries) {
    out.byte(KIND_CODES[entry.kind]);
    out.byte(entry.expiresAt === undefined ? 0 : HAS_EXPIRY);
    out.string(key);
    if (entry.expiresAt !== undefined) out.float64(entry.expiresAt);
    writeValue(out, entry);
  }
  return out.finish();
}

function readEntry(input: Reader, kind: number): Entry {
  switch (kind) {
    case KIND_CODES.bitmap: {
      const offsets = input.deltas(input.varint());
      const bitmap = Bitmap.empty();
      try {
        // setMany validates every offset: a damaged gap cannot make an out-of-range bit.
        bitmap.setMany(offsets, true);
      } catch {
        throw corrupt(`a bitmap offset before byte ${input.offset} is out of range`);
      }
      return { kind: 'bitmap', value: bitmap };
    }
    case KIND_CODES.hash: {
      const count = input.varint();
      const hash = new Map<string, number>();
      for (let i = 0; i < count; i++) {
        const field = input.string();
        const value = input.float64();
        if (!Number.isSafeInteger(value))
          throw corrupt(`hash field ${JSON.stringify(field)} is not an integer`);
        hash.set(field, value);
      }
      return { kind: 'hash', value: hash };
    }
    case KIND_CODES.set: {
      const count = input.varint();
      const set = new Set<string>();
      for (let i = 0; i < count; i++) set.add(input.string());
      return { kind: 'set', value: set };
    }
    case KIND_CODES.hll:
      return { kind: 'hll', value: new HyperLogLog(input.bytes(HLL_REGISTERS).slice()) };
    case KIND_CODES.string:
      return { kind: 'string', value: input.string() };
    default:
      throw corrupt(`unknown kind of value ${kind} at byte ${input.offset - 1}`);
  }
}

/**
 * A new MemoryBackend holding what `snapshotOf` saved (`options` as for `new MemoryBackend`:
 * the clock decides which saved expiries have passed). Bytes that are not a complete snapshot of
 * this format version are refused with an `InvalidArgumentError`, never half-loaded.
 */
export function restoreSnapshot(bytes: Uint8Array, options: MemoryBackendOptions = {}): MemoryBackend {
  if (!(bytes instanceof Uint8Array)) throw new InvalidArgumentError('bytes', bytes, 'must be a Uint8Array');
  if (bytes.length < MAGIC.length + 1 + 4) throw corrupt('too short');
  for (let i = 0; i < MAGIC.length; i++) if (bytes[i] !== MAGIC[i]) throw corrupt('wrong magic bytes');
  const version = bytes[MAGIC.length]!;
  if (version !== SNAPSHOT_FORMAT_VERSION) {
    throw corrupt(`format version ${version}, this is version ${SNAPSHOT_FORMAT_VERSION}`);
  }
  const body = bytes.length - 4;
  const stored = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(body, true);
  if (stored !== fnv1a(bytes, body)) throw corrupt('checksum mismatch');

  const input = new Reader(bytes, body);
  input.offset = MAGIC.length + 1;
  const count = input.varint();
  const loaded: Array<readonly [string, Entry]> = [];
  for (let i = 0; i < count; i++) {
    const kind = input.byte();
    const flags = input.byte();
    const key = input.string();
    const expiresAt = flags & HAS_EXPIRY ? input.float64() : undefined;
    const entry = readEntry(input, kind);
    if (expiresAt !== undefined) entry.expiresAt = expiresAt;
    loaded.push([key, entry]);
  }
  if (input.offset !== body) throw corrupt(`${body - input.offset} bytes left over`);
  const backend = new MemoryBackend(options);
  for (const [key, entry] of loaded) MemoryBackend.loadEntry(backend, key, entry);
  return backend;
}
