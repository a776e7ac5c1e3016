import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Bitmap, bit, CHUNK_BITS, CHUNK_BYTES, InvalidArgumentError } from '../src/index.js';
import { bitExprArbitrary, evaluateModel, offsetsArbitrary } from '../src/testing/index.js';

const TOP = 2 ** 32 - 1;
const none = () => undefined;

describe('Bitmap layout', () => {
  it('uses chunks of 65536 bits (8 KiB)', () => {
    expect([CHUNK_BITS, CHUNK_BYTES]).toEqual([65_536, 8_192]);
  });

  it('stores offset 0 in the most significant bit of byte 0, as Redis does', () => {
    const bitmap = Bitmap.fromOffsets([0, 7, 9]);
    expect([...bitmap.chunk(0)!.subarray(0, 2)]).toEqual([0x81, 0x40]);
  });

  it('splits offsets at chunk boundaries', () => {
    const bitmap = Bitmap.fromOffsets([65_535, 65_536, 131_071, 131_072]);
    expect(bitmap.chunkIndices()).toEqual([0, 1, 2]);
    expect(bitmap.chunk(0)![8_191]).toBe(0x01);
    expect(bitmap.chunk(1)![0]).toBe(0x80);
    expect(bitmap.chunk(1)![8_191]).toBe(0x01);
    expect(bitmap.chunk(2)![0]).toBe(0x80);
  });

  it('holds one id near 2^32 in one chunk of 2 bytes', () => {
    const bitmap = Bitmap.fromOffsets([TOP]);
    expect(bitmap.chunkIndices()).toEqual([65_535]);
    expect(bitmap.byteLength).toBe(2);
    expect(bitmap.chunk(65_535)![8_191]).toBe(0x01);
    expect(bitmap.has(TOP)).toBe(true);
  });
});

describe('Bitmap bits', () => {
  it('sets, clears and answers has() at byte and chunk boundaries', () => {
    const bitmap = Bitmap.empty();
    for (const offset of [0, 7, 8, 65_535, 65_536, 2 ** 31, TOP]) bitmap.set(offset, true);
    bitmap.set(8, false);
    expect([0, 7, 8, 9, 65_535, 65_536, 2 ** 31, TOP].map((offset) => bitmap.has(offset))).toEqual([
      true,
      true,
      false,
      false,
      true,
      true,
      true,
      true,
    ]);
    expect(bitmap.size).toBe(6);
  });

  it('answers has() with false for anything that is not an offset', () => {
    const bitmap = Bitmap.fromOffsets([0, 1]);
    expect([-1, 0.5, Number.NaN, 2 ** 32, Number.POSITIVE_INFINITY].map((x) => bitmap.has(x))).toEqual(
      Array(5).fill(false),
    );
  });

  it('rejects offsets outside [0, 2^32) with InvalidArgumentError', () => {
    for (const offset of [-1, 1.5, Number.NaN, 2 ** 32]) {
      expect(() => Bitmap.empty().set(offset, true)).toThrow(InvalidArgumentError);
    }
  });

  it('clearing a bit of an absent chunk allocates nothing', () => {
    const bitmap = Bitmap.empty();
    bitmap.set(5, false);
    bitmap.set(1_000_000, false);
    expect([bitmap.isEmpty, bitmap.byteLength, bitmap.size]).toEqual([true, 0, 0]);
  });

  it('keeps a chunk whose bits were all cleared, counting zero', () => {
    const bitmap = Bitmap.fromOffsets([5]);
    bitmap.set(5, false);
    expect([bitmap.isEmpty, bitmap.size, bitmap.toArray()]).toEqual([false, 0, []]);
  });

  it('keeps its size current through sets and clears', () => {
    const bitmap = Bitmap.fromOffsets([1, 2]);
    expect(bitmap.size).toBe(2);
    bitmap.set(2, true);
    expect(bitmap.size).toBe(2);
    bitmap.set(70_000, true);
    expect(bitmap.size).toBe(3);
    bitmap.set(1, false);
    expect(bitmap.size).toBe(2);
  });

  it('iterates in ascending order whatever the order bits were set in', () => {
    const bitmap = Bitmap.fromOffsets([TOP, 70_000, 3, 65_536, 0, 2 ** 31, 9]);
    expect([...bitmap]).toEqual([0, 3, 9, 65_536, 70_000, 2 ** 31, TOP]);
    expect(bitmap.toArray()).toEqual([...bitmap]);
    expect(bitmap.chunkIndices()).toEqual([0, 1, 32_768, 65_535]);
  });

  it('clones independently', () => {
    const bitmap = Bitmap.fromOffsets([1]);
    const copy = bitmap.clone();
    copy.set(2, true);
    bitmap.set(3, true);
    expect([bitmap.toArray(), copy.toArray()]).toEqual([
      [1, 3],
      [1, 2],
    ]);
  });
});

describe('Bitmap.max', () => {
  it('is -1 for an empty bitmap and for one whose bits were all cleared', () => {
    expect(Bitmap.empty().max()).toBe(-1);
    const cleared = Bitmap.fromOffsets([5, 70_000]);
    cleared.set(5, false);
    cleared.set(70_000, false);
    expect(cleared.max()).toBe(-1);
  });

  it('finds the largest offset in any bit of any byte of any chunk', () => {
    expect(Bitmap.fromOffsets([0]).max()).toBe(0);
    expect(Bitmap.fromOffsets([0, 7]).max()).toBe(7);
    expect(Bitmap.fromOffsets([3, 65_535]).max()).toBe(65_535);
    expect(Bitmap.fromOffsets([3, 65_536]).max()).toBe(65_536);
    expect(Bitmap.fromOffsets([3, 3 * 65_536 + 17]).max()).toBe(196_625);
    expect(Bitmap.fromOffsets([1, TOP]).max()).toBe(TOP);
  });

  it('falls back to a lower chunk when the top chunk is cleared', () => {
    const bitmap = Bitmap.fromOffsets([100, TOP]);
    bitmap.set(TOP, false);
    expect(bitmap.max()).toBe(100);
  });
});

describe('Bitmap.fromChunks', () => {
  it('accepts Redis strings shorter than a chunk (Redis trims after the last written byte)', () => {
    const bitmap = Bitmap.fromChunks([
      [0, Uint8Array.of(0x81)],
      [2, Uint8Array.of(0x00, 0x40)],
    ]);
    expect(bitmap.toArray()).toEqual([0, 7, 2 * 65_536 + 9]);
    expect(bitmap.chunk(2)!.length).toBe(8_192);
  });

  it('copies the bytes it is given', () => {
    const bytes = Uint8Array.of(0x80);
    const bitmap = Bitmap.fromChunks([[0, bytes]]);
    bytes[0] = 0xff;
    expect(bitmap.toArray()).toEqual([0]);
  });

  it('ignores bytes past a chunk and drops all-zero chunks', () => {
    const long = new Uint8Array(CHUNK_BYTES + 1);
    long[CHUNK_BYTES] = 0xff;
    long[0] = 0x80;
    const bitmap = Bitmap.fromChunks([
      [0, long],
      [1, new Uint8Array(10)],
      [2, new Uint8Array(0)],
    ]);
    expect(bitmap.toArray()).toEqual([0]);
    expect(bitmap.chunkIndices()).toEqual([0]);
  });

  it('rejects chunk numbers outside [0, 65536)', () => {
    for (const index of [-1, 1.5, 65_536]) {
      expect(() => Bitmap.fromChunks([[index, Uint8Array.of(1)]])).toThrow(InvalidArgumentError);
    }
  });
});

describe('Bitmap.evaluate and Bitmap.count', () => {
  it('evaluate never returns stored chunks: the result can change without touching its sources', () => {
    const source = Bitmap.fromOffsets([1, 70_000]);
    const result = Bitmap.evaluate(bit.key('a'), () => source);
    result.set(2, true);
    source.set(3, true);
    expect([source.toArray(), result.toArray()]).toEqual([
      [1, 3, 70_000],
      [1, 2, 70_000],
    ]);
  });

  it('counts NOT of an empty bitmap over 2^32 as exactly 2^32 without allocating 512 MiB', () => {
    const before = process.memoryUsage().arrayBuffers;
    const everything = bit.not(bit.key('missing'), 2 ** 32);
    expect(Bitmap.count(everything, none)).toBe(2 ** 32);
    const result = Bitmap.evaluate(everything, none);
    expect(result.size).toBe(2 ** 32);
    expect(result.max()).toBe(TOP);
    expect(result.has(0) && result.has(2 ** 31) && result.has(TOP)).toBe(true);
    // Every chunk of the result is one shared all-ones chunk.
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 1024 * 1024);
  });

  it('copies a shared all-ones chunk before changing it', () => {
    const everything = bit.not(bit.key('missing'), 2 ** 32);
    const first = Bitmap.evaluate(everything, none);
    first.set(0, false);
    first.set(TOP, false);
    const second = Bitmap.evaluate(everything, none);
    expect([first.has(0), first.has(1), first.has(TOP), first.size]).toEqual([
      false,
      true,
      false,
      2 ** 32 - 2,
    ]);
    expect([second.has(0), second.has(TOP), second.size]).toEqual([true, true, 2 ** 32]);
  });

  it('counts NOT of a sparse bitmap over 2^32 as 2^32 minus its bits', () => {
    const sparse = Bitmap.fromOffsets([0, 65_536, 2 ** 31, TOP]);
    expect(Bitmap.count(bit.not(bit.key('a'), 2 ** 32), () => sparse)).toBe(2 ** 32 - 4);
  });

  it('keeps NOT inside universes that end within a byte or a chunk', () => {
    expect(Bitmap.evaluate(bit.not(bit.key('a'), 13), none).toArray()).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
    ]);
    expect(Bitmap.count(bit.not(bit.key('a'), 65_537), none)).toBe(65_537);
    expect(Bitmap.count(bit.not(bit.key('a'), 0), none)).toBe(0);
  });

  it('agrees with a set model on random expressions', () => {
    const keys = ['p', 'q', 'r'];
    fc.assert(
      fc.property(
        fc.tuple(offsetsArbitrary, offsetsArbitrary, offsetsArbitrary),
        bitExprArbitrary(keys, 'absent'),
        (data, expr) => {
          const bitmaps = new Map(keys.map((key, i) => [key, Bitmap.fromOffsets(data[i]!)]));
          const model = new Map(keys.map((key, i) => [key, new Set(data[i])]));
          const expected = [...evaluateModel(expr, model)].sort((a, b) => a - b);
          const resolve = (key: string) => bitmaps.get(key);
          expect(Bitmap.evaluate(expr, resolve).toArray()).toEqual(expected);
          expect(Bitmap.count(expr, resolve)).toBe(expected.length);
        },
      ),
      { numRuns: 200 },
    );
  });
});
