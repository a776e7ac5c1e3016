import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type BitExpr, Bitmap, bit, CHUNK_BITS, CHUNK_BYTES, InvalidArgumentError } from '../src/index.js';
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

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe('Bitmap containers', () => {
  it('holds a chunk of up to 4,096 offsets as an array of 2 bytes per offset', () => {
    const bitmap = Bitmap.fromOffsets(range(0, 4_096));
    expect([bitmap.containerKind(0), bitmap.byteLength, bitmap.size]).toEqual(['array', 8_192, 4_096]);
    expect(Bitmap.fromOffsets([3, 9, 70_000]).byteLength).toBe(6);
  });

  it('turns an array into 8 KiB of bits at the 4,097th offset set one by one, and back at 4,096', () => {
    const bitmap = Bitmap.empty();
    for (const offset of range(0, 4_096)) bitmap.set(offset * 3, true);
    expect(bitmap.containerKind(0)).toBe('array');
    bitmap.set(1, true);
    expect([bitmap.containerKind(0), bitmap.byteLength, bitmap.size]).toEqual(['dense', 8_192, 4_097]);
    bitmap.set(3, false);
    expect([bitmap.containerKind(0), bitmap.size]).toEqual(['array', 4_096]);
    bitmap.set(6, false);
    expect([bitmap.containerKind(0), bitmap.byteLength]).toEqual(['array', 8_190]);
    expect(bitmap.toArray().slice(0, 4)).toEqual([0, 1, 9, 12]);
  });

  it('makes the same transitions through setMany, for sorted and shuffled batches with repeats', () => {
    const bitmap = Bitmap.empty();
    bitmap.setMany(range(0, 4_000), true);
    bitmap.setMany([...range(3_900, 4_096)].reverse(), true);
    expect([bitmap.containerKind(0), bitmap.size]).toEqual(['array', 4_096]);
    bitmap.setMany([4_096, 4_096, 17], true);
    expect([bitmap.containerKind(0), bitmap.size]).toEqual(['dense', 4_097]);
    bitmap.setMany([4_096, 4_096, 99_999], false);
    expect([bitmap.containerKind(0), bitmap.size]).toEqual(['array', 4_096]);
    expect(bitmap.has(4_095) && !bitmap.has(4_096)).toBe(true);
  });

  it('holds a chunk with every bit set as the shared all-ones container, costing no bytes', () => {
    const bitmap = Bitmap.fromOffsets(range(65_536, 131_072));
    expect([bitmap.containerKind(1), bitmap.byteLength, bitmap.size]).toEqual(['full', 0, 65_536]);
    const filled = Bitmap.fromOffsets(range(1, 65_536));
    expect(filled.containerKind(0)).toBe('dense');
    filled.set(0, true);
    expect([filled.containerKind(0), filled.byteLength]).toEqual(['full', 0]);
    const batched = Bitmap.fromOffsets(range(2, 65_536));
    batched.setMany([1, 0, 1], true);
    expect([batched.containerKind(0), batched.size]).toEqual(['full', 65_536]);
  });

  it('copies the all-ones container before clearing a bit, leaving other bitmaps that share it alone', () => {
    const first = Bitmap.fromParts({ full: [[0, 2]] });
    const second = Bitmap.fromParts({ full: [[0, 1]] });
    first.setMany([0, 65_536], false);
    expect([first.containerKind(0), first.containerKind(1), first.byteLength]).toEqual([
      'dense',
      'dense',
      16_384,
    ]);
    expect([first.size, first.has(0), first.has(1)]).toEqual([131_070, false, true]);
    expect([second.containerKind(0), second.size, second.has(0)]).toEqual(['full', 65_536, true]);
    expect([...second.chunk(0)!].every((byte) => byte === 0xff)).toBe(true);
  });

  it('counts byte lengths per container kind', () => {
    const bitmap = Bitmap.fromParts({ full: [[5, 9]], offsets: [1, 2, 3, ...range(65_536, 65_536 + 5_000)] });
    expect([bitmap.containerKind(0), bitmap.containerKind(1), bitmap.containerKind(5)]).toEqual([
      'array',
      'dense',
      'full',
    ]);
    expect(bitmap.byteLength).toBe(6 + 8_192);
    expect(Bitmap.empty().byteLength).toBe(0);
  });

  it('materialises an array container as 8 KiB of bits in Redis order on chunk()', () => {
    const bitmap = Bitmap.fromOffsets([0, 7, 9, 65_535]);
    const bytes = bitmap.chunk(0)!;
    expect([bytes.length, bytes[0], bytes[1], bytes[8_191]]).toEqual([8_192, 0x81, 0x40, 0x01]);
    expect(bitmap.containerKind(0)).toBe('array');
    expect(bitmap.chunk(1)).toBeUndefined();
  });

  it('demotes operation results to arrays when they hold 4,096 offsets or fewer', () => {
    const a = Bitmap.fromOffsets(range(0, 6_000));
    const b = Bitmap.fromOffsets(range(1_904, 10_000));
    const resolve = (key: string) => (key === 'a' ? a : b);
    const and = Bitmap.evaluate(bit.and(bit.key('a'), bit.key('b')), resolve);
    expect([and.containerKind(0), and.size]).toEqual(['array', 4_096]);
    const andNot = Bitmap.evaluate(bit.andNot(bit.key('a'), bit.key('b')), resolve);
    expect([andNot.containerKind(0), andNot.size]).toEqual(['array', 1_904]);
    const xor = Bitmap.evaluate(bit.xor(bit.key('a'), bit.key('b')), resolve);
    expect([xor.containerKind(0), xor.size]).toEqual(['dense', 1_904 + 4_000]);
  });

  it('promotes operation results above 4,096 offsets to bits, and all ones to the shared container', () => {
    const a = Bitmap.fromOffsets(range(0, 2_048));
    const b = Bitmap.fromOffsets(range(2_048, 4_097));
    const resolve = (key: string) => (key === 'a' ? a : b);
    const or = Bitmap.evaluate(bit.or(bit.key('a'), bit.key('b')), resolve);
    expect([or.containerKind(0), or.size]).toEqual(['dense', 4_097]);
    const four = Bitmap.evaluate(bit.or(bit.key('a'), bit.key('a')), resolve);
    expect([four.containerKind(0), four.size]).toEqual(['array', 2_048]);
    const everything = Bitmap.evaluate(bit.or(bit.key('a'), bit.not(bit.key('a'), 65_536)), resolve);
    expect([everything.containerKind(0), everything.byteLength, everything.size]).toEqual([
      'full',
      0,
      65_536,
    ]);
    const none = Bitmap.evaluate(
      bit.xor(bit.not(bit.key('x'), 65_536), bit.not(bit.key('x'), 65_536)),
      resolve,
    );
    expect([none.isEmpty, none.size]).toEqual([true, 0]);
  });

  it('results of NOT over a missing key share the all-ones container', () => {
    const result = Bitmap.evaluate(bit.not(bit.key('missing'), 3 * 65_536 + 10), none);
    expect([result.containerKind(0), result.containerKind(2), result.containerKind(3)]).toEqual([
      'full',
      'full',
      'array',
    ]);
    expect([result.byteLength, result.size]).toEqual([20, 3 * 65_536 + 10]);
  });

  it('clones without sharing containers, except the all-ones one', () => {
    const bitmap = Bitmap.fromParts({
      full: [[0, 1]],
      offsets: [70_000, ...range(131_072, 131_072 + 5_000)],
    });
    const copy = bitmap.clone();
    copy.setMany([0, 70_000, 131_072], false);
    expect([bitmap.has(0), bitmap.has(70_000), bitmap.has(131_072), bitmap.size]).toEqual([
      true,
      true,
      true,
      65_536 + 5_001,
    ]);
    expect([copy.size, copy.containerKind(0), bitmap.containerKind(0)]).toEqual([
      65_535 + 4_999,
      'dense',
      'full',
    ]);
  });
});

describe('Bitmap.fromParts', () => {
  it('unites chunk bytes, all-ones ranges and loose offsets in any order', () => {
    const bitmap = Bitmap.fromParts({
      chunks: [
        [3, Uint8Array.of(0x80)],
        [1, Uint8Array.of(0x00, 0x01)],
      ],
      full: [[5, 7]],
      offsets: [TOP, 9, 3 * 65_536 + 1, 9],
    });
    expect(bitmap.chunkIndices()).toEqual([0, 1, 3, 5, 6, 65_535]);
    expect(bitmap.size).toBe(1 + 1 + 2 + 2 * 65_536 + 1);
    expect([
      bitmap.has(65_536 + 15),
      bitmap.has(3 * 65_536),
      bitmap.has(6 * 65_536 + 5),
      bitmap.has(TOP),
    ]).toEqual([true, true, true, true]);
    expect(bitmap.toArray().slice(0, 5)).toEqual([9, 65_551, 196_608, 196_609, 327_680]);
  });

  it('covers 2^32 bits with all-ones ranges without a container per chunk', () => {
    const before = process.memoryUsage().arrayBuffers;
    const bitmap = Bitmap.fromParts({ full: [[0, 65_536]] });
    expect([bitmap.size, bitmap.byteLength, bitmap.max(), bitmap.chunkIndices().length]).toEqual([
      2 ** 32,
      0,
      TOP,
      65_536,
    ]);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(8 * 1024 * 1024);
  });

  it('lets overlapping ranges, chunks inside ranges and repeated chunks add up to their union', () => {
    const bitmap = Bitmap.fromParts({
      chunks: [
        [2, Uint8Array.of(0x01)],
        [0, Uint8Array.of(0x80)],
        [0, Uint8Array.of(0x40)],
      ],
      full: [
        [1, 3],
        [2, 4],
        [2, 2],
      ],
    });
    expect(bitmap.chunkIndices()).toEqual([0, 1, 2, 3]);
    expect([bitmap.size, bitmap.containerKind(2), bitmap.toArray().slice(0, 3)]).toEqual([
      2 + 3 * 65_536,
      'full',
      [0, 1, 65_536],
    ]);
  });

  it('drops all-zero chunks and ignores bytes past a chunk', () => {
    const long = new Uint8Array(CHUNK_BYTES + 1).fill(0xff);
    const bitmap = Bitmap.fromParts({
      chunks: [
        [0, long],
        [1, new Uint8Array(5)],
      ],
    });
    expect([bitmap.chunkIndices(), bitmap.size, bitmap.containerKind(0)]).toEqual([[0], 65_536, 'full']);
  });

  it('rejects invalid chunk numbers, ranges and offsets with InvalidArgumentError', () => {
    const bad = [
      { chunks: [[65_536, Uint8Array.of(1)] as const] },
      { full: [[-1, 2] as const] },
      { full: [[2, 1] as const] },
      { full: [[0, 65_537] as const] },
      { full: [[0.5, 2] as const] },
      { offsets: [1, 2 ** 32] },
      { offsets: [-1] },
    ];
    for (const parts of bad) expect(() => Bitmap.fromParts(parts)).toThrow(InvalidArgumentError);
  });

  it('copies the bytes it is given', () => {
    const bytes = new Uint8Array(CHUNK_BYTES).fill(0xf0);
    const bitmap = Bitmap.fromParts({ chunks: [[0, bytes]] });
    bytes.fill(0);
    expect([bitmap.size, bitmap.has(0), bitmap.has(4)]).toEqual([32_768, true, false]);
  });
});

describe('Bitmap.setMany', () => {
  it('changes nothing when an offset is invalid', () => {
    const bitmap = Bitmap.fromOffsets([1]);
    expect(() => bitmap.setMany([2, 3, 2 ** 32], true)).toThrow(InvalidArgumentError);
    expect(() => bitmap.setMany([1, Number.NaN], false)).toThrow(InvalidArgumentError);
    expect(bitmap.toArray()).toEqual([1]);
  });

  it('accepts typed arrays', () => {
    const bitmap = Bitmap.empty();
    bitmap.setMany(Uint32Array.of(TOP, 5, 5, 70_000), true);
    expect(bitmap.toArray()).toEqual([5, 70_000, TOP]);
  });
});

// A model: a plain Set of offsets, or (co) everything in [0, 2^32) except a Set's offsets,
// which is what NOT over a universe near 2^32 yields.
interface Model {
  readonly co: boolean;
  readonly set: ReadonlySet<number>;
}

const UNIVERSE = 2 ** 32;
const finite = (set: ReadonlySet<number>): Model => ({ co: false, set });
const intersect = (a: ReadonlySet<number>, b: ReadonlySet<number>) => new Set([...a].filter((x) => b.has(x)));
const minus = (a: ReadonlySet<number>, b: ReadonlySet<number>) => new Set([...a].filter((x) => !b.has(x)));
const union = (a: ReadonlySet<number>, b: ReadonlySet<number>) => new Set([...a, ...b]);

function modelAnd(a: Model, b: Model): Model {
  if (!a.co && !b.co) return finite(intersect(a.set, b.set));
  if (a.co && b.co) return { co: true, set: union(a.set, b.set) };
  return a.co ? finite(minus(b.set, a.set)) : finite(minus(a.set, b.set));
}
const modelComplement = (a: Model): Model => ({ co: !a.co, set: a.set });
const modelOr = (a: Model, b: Model) => modelComplement(modelAnd(modelComplement(a), modelComplement(b)));
function modelXor(a: Model, b: Model): Model {
  const sym = union(minus(a.set, b.set), minus(b.set, a.set));
  return { co: a.co !== b.co, set: sym };
}
function modelUniverse(bits: number): Model {
  if (bits <= UNIVERSE / 2) return finite(new Set(range(0, bits)));
  return { co: true, set: new Set(range(bits, UNIVERSE)) };
}

function evaluateModelOf(expr: BitExpr, data: ReadonlyMap<string, ReadonlySet<number>>): Model {
  switch (expr.op) {
    case 'key':
      return finite(data.get(expr.key) ?? new Set());
    case 'and':
      return expr.args.length === 0
        ? finite(new Set())
        : expr.args.map((arg) => evaluateModelOf(arg, data)).reduce(modelAnd);
    case 'or':
      return expr.args.map((arg) => evaluateModelOf(arg, data)).reduce(modelOr, finite(new Set()));
    case 'xor':
      return expr.args.map((arg) => evaluateModelOf(arg, data)).reduce(modelXor, finite(new Set()));
    case 'andnot':
      return modelAnd(
        evaluateModelOf(expr.args[0], data),
        modelComplement(evaluateModelOf(expr.args[1], data)),
      );
    case 'not':
      return modelAnd(modelUniverse(expr.bits), modelComplement(evaluateModelOf(expr.args[0], data)));
  }
}

/** Bits per chunk of a model; for a co model only the chunks its set touches (others are full). */
function chunkCounts(model: Model): Map<number, number> {
  const counts = new Map<number, number>();
  for (const offset of model.set) {
    const index = Math.floor(offset / 65_536);
    counts.set(index, (counts.get(index) ?? 0) + 1);
  }
  if (model.co) for (const [index, n] of counts) counts.set(index, 65_536 - n);
  return counts;
}

const kindOf = (bits: number) => (bits === 65_536 ? 'full' : bits > 4_096 ? 'dense' : 'array');
const bytesOf = (bits: number) => (bits === 65_536 ? 0 : bits > 4_096 ? 8_192 : 2 * bits);

/** Arrays of up to 2^16 offsets compared quickly; the first difference is shown in context. */
function expectSameOffsets(actual: readonly number[], expected: readonly number[]): void {
  const n = Math.max(actual.length, expected.length);
  for (let i = 0; i < n; i++) {
    if (actual[i] !== expected[i]) {
      expect({ at: i, actual: actual.slice(Math.max(0, i - 2), i + 3), length: actual.length }).toEqual({
        at: i,
        actual: expected.slice(Math.max(0, i - 2), i + 3),
        length: expected.length,
      });
    }
  }
}

/** The bitmap holds exactly the model's offsets, each chunk in the container its count calls for. */
function expectMatches(bitmap: Bitmap, model: Model, probes: readonly number[]): void {
  const counts = chunkCounts(model);
  if (!model.co) {
    const expected = [...model.set].sort((a, b) => a - b);
    expectSameOffsets(bitmap.toArray(), expected);
    expectSameOffsets([...bitmap], expected);
    expect(bitmap.size).toBe(expected.length);
    expect(bitmap.max()).toBe(expected.length === 0 ? -1 : expected[expected.length - 1]);
  } else {
    expect(bitmap.size).toBe(UNIVERSE - model.set.size);
    for (const offset of model.set) expect(bitmap.has(offset)).toBe(false);
    // Every chunk the set does not touch is full.
    const held = 65_536 - [...counts.values()].filter((n) => n === 0).length;
    expect(bitmap.chunkIndices().length).toBe(held);
  }
  for (const offset of probes) expect(bitmap.has(offset)).toBe(model.co !== model.set.has(offset));
  let bytes = 0;
  for (const [index, n] of counts) {
    if (n === 0) continue;
    bytes += bytesOf(n);
    expect([index, bitmap.containerKind(index)]).toEqual([index, kindOf(n)]);
  }
  expect(bitmap.byteLength).toBe(bytes);
}

const CHUNK_BASES = [0, 65_536, 2 * 65_536, UNIVERSE - 65_536];
/** Offsets near 0, near chunk boundaries and near 2^32 - 1. */
const clusteredOffset = fc.oneof(
  fc.integer({ min: 0, max: 300 }),
  fc.integer({ min: 65_536 - 40, max: 65_536 + 40 }),
  fc.integer({ min: 2 * 65_536 - 40, max: 2 * 65_536 + 40 }),
  fc.integer({ min: UNIVERSE - 65_536 - 40, max: UNIVERSE - 65_536 + 40 }),
  fc.integer({ min: UNIVERSE - 300, max: UNIVERSE - 1 }),
);
/** Blocks that bring a chunk to about 4,096 offsets, or to (nearly) every offset. */
const thresholdBlock = fc.oneof(
  fc
    .tuple(
      fc.constantFrom(...CHUNK_BASES),
      fc.integer({ min: 0, max: 50 }),
      fc.integer({ min: 4_090, max: 4_100 }),
    )
    .map(([base, shift, n]) => range(base + shift, base + shift + n)),
  fc
    .tuple(fc.constantFrom(...CHUNK_BASES), fc.integer({ min: 4_090, max: 4_100 }))
    .map(([base, n]) => range(0, n).map((i) => base + ((i * 13) % 65_536))),
  fc
    .tuple(fc.constantFrom(...CHUNK_BASES), fc.integer({ min: 0, max: 3 }))
    .map(([base, missing]) => range(base + missing, base + 65_536)),
);
const clusteredOffsets = fc.oneof(
  { weight: 3, arbitrary: fc.array(clusteredOffset, { maxLength: 40 }) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.array(clusteredOffset, { maxLength: 20 }), thresholdBlock)
      .map(([loose, block]) => [...loose, ...block]),
  },
);

const UNIVERSES = [
  0,
  1,
  13,
  300,
  4_096,
  4_097,
  65_535,
  65_536,
  65_537,
  65_536 + 4_097,
  2 * 65_536 - 1,
  2 * 65_536,
  2 * 65_536 + 1,
  UNIVERSE - 65_537,
  UNIVERSE - 65_536,
  UNIVERSE - 65_535,
  UNIVERSE - 300,
  UNIVERSE - 1,
  UNIVERSE,
];

function expressionArbitrary(keys: readonly string[]): fc.Arbitrary<BitExpr> {
  const leaf = fc.constantFrom(...keys.map((key) => bit.key(key)), bit.key('absent'));
  const node = (sub: fc.Arbitrary<BitExpr>, most: number): fc.Arbitrary<BitExpr> =>
    fc.oneof(
      fc.array(sub, { minLength: 1, maxLength: most }).map((args) => bit.and(...args)),
      fc.array(sub, { minLength: 1, maxLength: most }).map((args) => bit.or(...args)),
      fc.array(sub, { minLength: 1, maxLength: most }).map((args) => bit.xor(...args)),
      fc.tuple(sub, sub).map(([left, right]) => bit.andNot(left, right)),
      fc.tuple(sub, fc.constantFrom(...UNIVERSES)).map(([arg, bits]) => bit.not(arg, bits)),
    );
  // At least three operations deep along every path, four along some.
  return node(node(node(fc.oneof({ weight: 3, arbitrary: leaf }, node(leaf, 2)), 2), 2), 3);
}

const depth = (expr: BitExpr): number => (expr.op === 'key' ? 0 : 1 + Math.max(...expr.args.map(depth)));

// Each property takes 3-6 s on an idle machine; the timeouts leave room for a loaded one.
describe('Bitmap against a Set model', () => {
  const probes = [0, 1, 299, 4_095, 4_096, 65_535, 65_536, 65_537, 131_072, UNIVERSE - 65_536, UNIVERSE - 1];

  it('agrees on set, setMany, clone and fromParts', () => {
    const command = fc.oneof(
      fc.tuple(fc.constant('set' as const), clusteredOffset, fc.boolean()),
      fc.tuple(fc.constant('setMany' as const), clusteredOffsets, fc.boolean()),
      fc.tuple(fc.constant('clone' as const)),
    );
    fc.assert(
      fc.property(
        clusteredOffsets,
        fc.array(command, { maxLength: 8 }),
        fc.boolean(),
        (initial, commands, parts) => {
          const model = new Set(initial);
          const held = new Set(initial.map((offset) => Math.floor(offset / 65_536)));
          // Built from its own chunk bytes, full ranges and loose offsets, or from offsets.
          let bitmap = Bitmap.fromOffsets(initial);
          if (parts) {
            const source = bitmap;
            const indices = source.chunkIndices();
            const chunks = indices.filter(
              (_, i) => i % 2 === 0 && source.containerKind(indices[i]!) !== 'full',
            );
            const full = indices.filter((index) => source.containerKind(index) === 'full');
            const loose = initial.filter((offset) => !chunks.includes(Math.floor(offset / 65_536)));
            bitmap = Bitmap.fromParts({
              chunks: chunks.reverse().map((index) => [index, source.chunk(index)!] as const),
              full: full.map((index) => [index, index + 1] as const),
              offsets: loose,
            });
          }
          for (const step of commands) {
            if (step[0] === 'clone') {
              const previous = bitmap;
              bitmap = bitmap.clone();
              previous.set(0, !previous.has(0));
              continue;
            }
            const offsets = step[0] === 'set' ? [step[1]] : step[1];
            const value = step[2];
            if (step[0] === 'set') bitmap.set(step[1], value);
            else bitmap.setMany(offsets, value);
            for (const offset of offsets) {
              if (value) {
                model.add(offset);
                held.add(Math.floor(offset / 65_536));
              } else model.delete(offset);
            }
          }
          expect(bitmap.chunkIndices()).toEqual([...held].sort((a, b) => a - b));
          expectMatches(bitmap, finite(model), probes);
        },
      ),
      { numRuns: 150 },
    );
  }, 180_000);

  it('agrees on every operation in expressions three or more deep, NOT universes around chunk boundaries', () => {
    const keys = ['p', 'q', 'r'];
    fc.assert(
      fc.property(
        fc.tuple(clusteredOffsets, clusteredOffsets, clusteredOffsets),
        expressionArbitrary(keys),
        (data, expr) => {
          expect(depth(expr)).toBeGreaterThanOrEqual(3);
          const bitmaps = new Map(keys.map((key, i) => [key, Bitmap.fromOffsets(data[i]!)]));
          const sets = new Map(keys.map((key, i) => [key, new Set(data[i])]));
          const model = evaluateModelOf(expr, sets);
          const resolve = (key: string) => bitmaps.get(key);
          const result = Bitmap.evaluate(expr, resolve);
          expectMatches(result, model, [...probes, ...data.flat().slice(0, 50)]);
          expect(Bitmap.count(expr, resolve)).toBe(model.co ? UNIVERSE - model.set.size : model.set.size);
          // Sources are untouched: results never share their storage.
          for (const [key, bitmap] of bitmaps) expect(bitmap.size).toBe(sets.get(key)!.size);
        },
      ),
      { numRuns: 40 },
    );
  }, 180_000);
});
