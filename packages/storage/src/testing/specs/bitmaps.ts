/** Bitmaps: bits, expressions (AND, OR, XOR, ANDNOT, NOT) and their results. */
import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Backend, BitExpr } from '../../backend.js';
import { bit } from '../../expr.js';
import { type Suite, TOP } from '../harness.js';
import { bitExprArbitrary, evaluateModel, offsetsArbitrary } from '../model.js';

export function bitmapSpec(suite: Suite): void {
  const { requires } = suite;
  describe('bitmaps', () => {
    let backend: Backend;
    beforeEach(() => {
      backend = suite.backend;
    });

    it('sets and reads bits at byte and chunk boundaries and at the top of the id space', async (ctx) => {
      await requires(ctx, 'bitmaps');
      await backend.write([
        { op: 'setBits', key: 'b:1', offsets: [0, 7, 8, 65_535, 65_536, 2 ** 31, 2 ** 32 - 1] },
      ]);
      expect(
        await backend.read([
          { op: 'getBit', key: 'b:1', offset: 0 },
          { op: 'getBit', key: 'b:1', offset: 7 },
          { op: 'getBit', key: 'b:1', offset: 8 },
          { op: 'getBit', key: 'b:1', offset: 65_535 },
          { op: 'getBit', key: 'b:1', offset: 65_536 },
          { op: 'getBit', key: 'b:1', offset: 2 ** 31 },
          { op: 'getBit', key: 'b:1', offset: TOP },
          { op: 'getBit', key: 'b:1', offset: 1 },
          { op: 'getBit', key: 'b:1', offset: 9 },
          { op: 'getBit', key: 'b:1', offset: 65_537 },
          { op: 'getBit', key: 'b:1', offset: TOP - 1 },
          { op: 'bitCount', expr: bit.key('b:1') },
        ]),
      ).toEqual([true, true, true, true, true, true, true, false, false, false, false, 7]);
      const [bitmap] = await backend.read([{ op: 'bitmap', expr: bit.key('b:1') }]);
      expect(bitmap.toArray()).toEqual([0, 7, 8, 65_535, 65_536, 2 ** 31, TOP]);
    });

    it('reads a missing bitmap as empty', async (ctx) => {
      await requires(ctx, 'bitmaps');
      const [has, count, bitmap] = await backend.read([
        { op: 'getBit', key: 'b:none', offset: 5 },
        { op: 'bitCount', expr: bit.key('b:none') },
        { op: 'bitmap', expr: bit.key('b:none') },
      ]);
      expect([has, count, bitmap.toArray()]).toEqual([false, 0, []]);
      expect(await backend.keys()).toEqual([]);
    });

    it('clears bits without touching their neighbours', async (ctx) => {
      await requires(ctx, 'bitmaps');
      await backend.write([{ op: 'setBits', key: 'b:1', offsets: [1, 2, 3, 65_536, 65_537] }]);
      await backend.write([{ op: 'setBits', key: 'b:1', offsets: [2, 65_536, 999_999], value: false }]);
      const [bitmap, count] = await backend.read([
        { op: 'bitmap', expr: bit.key('b:1') },
        { op: 'bitCount', expr: bit.key('b:1') },
      ]);
      expect(bitmap.toArray()).toEqual([1, 3, 65_537]);
      expect(count).toBe(3);
    });

    it('clearing bits of a missing bitmap creates nothing', async (ctx) => {
      await requires(ctx, 'bitmaps');
      await backend.write([{ op: 'setBits', key: 'b:none', offsets: [5, 70_000], value: false }]);
      expect(await backend.keys()).toEqual([]);
      expect(await backend.read([{ op: 'exists', key: 'b:none' }])).toEqual([false]);
    });

    it('clearing every bit leaves an existing, empty bitmap (as Redis keeps a zeroed string)', async (ctx) => {
      await requires(ctx, 'bitmaps');
      await backend.write([{ op: 'setBits', key: 'b:1', offsets: [4, 70_000] }]);
      await backend.write([{ op: 'setBits', key: 'b:1', offsets: [4, 70_000], value: false }]);
      expect(
        await backend.read([
          { op: 'bitCount', expr: bit.key('b:1') },
          { op: 'getBit', key: 'b:1', offset: 4 },
        ]),
      ).toEqual([0, false]);
      expect(await backend.keys()).toEqual(['b:1']);
    });

    it('setting an empty list of offsets creates nothing', async (ctx) => {
      await requires(ctx, 'bitmaps');
      await backend.write([
        { op: 'setBits', key: 'b:1', offsets: [] },
        { op: 'setBits', key: 'b:2', offsets: [], value: false },
      ]);
      expect(await backend.keys()).toEqual([]);
    });

    it('counts a bit set twice, or twice in one operation, once', async (ctx) => {
      await requires(ctx, 'bitmaps');
      await backend.write([
        { op: 'setBits', key: 'b:1', offsets: [3, 3, 70_000, 3] },
        { op: 'setBits', key: 'b:1', offsets: [3, 70_000] },
      ]);
      expect(await backend.read([{ op: 'bitCount', expr: bit.key('b:1') }])).toEqual([2]);
    });

    it('evaluates AND, OR, XOR and ANDNOT with literal results', async (ctx) => {
      await requires(ctx, 'bitmaps');
      await backend.write([
        { op: 'setBits', key: 'b:a', offsets: [1, 2, 3, 100_000] },
        { op: 'setBits', key: 'b:b', offsets: [2, 3, 4] },
        { op: 'setBits', key: 'b:c', offsets: [3, 4, 5, 100_000] },
      ]);
      const [a, b, c] = [bit.key('b:a'), bit.key('b:b'), bit.key('b:c')];
      const exprs: BitExpr[] = [
        bit.and(a, b),
        bit.and(a, b, c),
        bit.or(a, b),
        bit.or(a, b, c),
        bit.xor(a, b),
        bit.xor(a, b, c),
        bit.andNot(a, b),
        bit.andNot(c, a),
      ];
      const expected = [
        [2, 3],
        [3],
        [1, 2, 3, 4, 100_000],
        [1, 2, 3, 4, 5, 100_000],
        [1, 4, 100_000],
        [1, 3, 5],
        [1, 100_000],
        [4, 5],
      ];
      const maps = await backend.read(exprs.map((expr) => ({ op: 'bitmap', expr }) as const));
      const counts = await backend.read(exprs.map((expr) => ({ op: 'bitCount', expr }) as const));
      expect(maps.map((map) => map.toArray())).toEqual(expected);
      expect(counts).toEqual([2, 1, 5, 6, 3, 3, 2, 2]);
    });

    it('an operator with one operand yields that operand', async (ctx) => {
      await requires(ctx, 'bitmaps');
      await backend.write([{ op: 'setBits', key: 'b:a', offsets: [1, 70_000] }]);
      const a = bit.key('b:a');
      const counts = await backend.read([
        { op: 'bitCount', expr: bit.and(a) },
        { op: 'bitCount', expr: bit.or(a) },
        { op: 'bitCount', expr: bit.xor(a) },
      ]);
      expect(counts).toEqual([2, 2, 2]);
    });

    it('handles an operand repeated within one expression', async (ctx) => {
      await requires(ctx, 'bitmaps');
      await backend.write([{ op: 'setBits', key: 'b:a', offsets: [1, 2, 70_000] }]);
      const a = bit.key('b:a');
      expect(
        await backend.read([
          { op: 'bitCount', expr: bit.and(a, a) },
          { op: 'bitCount', expr: bit.or(a, a, a) },
          { op: 'bitCount', expr: bit.xor(a, a) },
          { op: 'bitCount', expr: bit.xor(a, a, a) },
          { op: 'bitCount', expr: bit.andNot(a, a) },
          { op: 'bitCount', expr: bit.and(a, bit.not(a, 100_000)) },
        ]),
      ).toEqual([3, 3, 0, 3, 0, 0]);
    });

    it('keeps NOT inside its universe, for empty, tiny, unaligned and chunk-crossing universes', async (ctx) => {
      await requires(ctx, 'bitmaps');
      await backend.write([{ op: 'setBits', key: 'b:a', offsets: [0, 3, 65_536, 200_000] }]);
      const a = bit.key('b:a');
      expect(
        await backend.read([
          { op: 'bitCount', expr: bit.not(a, 0) },
          { op: 'bitCount', expr: bit.not(a, 1) },
          { op: 'bitCount', expr: bit.not(a, 9) },
          { op: 'bitCount', expr: bit.not(a, 65_536) },
          { op: 'bitCount', expr: bit.not(a, 65_537) },
          { op: 'bitCount', expr: bit.not(a, 65_538) },
        ]),
      ).toEqual([0, 0, 7, 65_534, 65_534, 65_535]);
      const [none, nine, crossing] = await backend.read([
        { op: 'bitmap', expr: bit.not(a, 0) },
        { op: 'bitmap', expr: bit.not(a, 9) },
        { op: 'bitmap', expr: bit.andNot(bit.not(a, 65_540), bit.not(bit.key('b:none'), 65_530)) },
      ]);
      expect(none.toArray()).toEqual([]);
      expect(nine.toArray()).toEqual([1, 2, 4, 5, 6, 7, 8]);
      expect(crossing.toArray()).toEqual([
        65_530, 65_531, 65_532, 65_533, 65_534, 65_535, 65_537, 65_538, 65_539,
      ]);
    });

    it('counts NOT over the whole 2^32 id space as 2^32 minus the set bits', async (ctx) => {
      await requires(ctx, 'bitmaps');
      await backend.write([{ op: 'setBits', key: 'b:a', offsets: [5, 65_536, 2 ** 31, TOP] }]);
      expect(
        await backend.read([
          { op: 'bitCount', expr: bit.not(bit.key('b:a'), 2 ** 32) },
          { op: 'bitCount', expr: bit.not(bit.key('b:none'), 2 ** 32) },
          { op: 'bitCount', expr: bit.and(bit.key('b:a'), bit.not(bit.key('b:none'), 2 ** 32)) },
          { op: 'bitCount', expr: bit.not(bit.not(bit.key('b:a'), 2 ** 32), 2 ** 32) },
        ]),
      ).toEqual([2 ** 32 - 4, 2 ** 32, 4, 4]);
    });

    it('NOT of a missing bitmap is its whole universe', async (ctx) => {
      await requires(ctx, 'bitmaps');
      const [count, bitmap] = await backend.read([
        { op: 'bitCount', expr: bit.not(bit.key('b:none'), 70_000) },
        { op: 'bitmap', expr: bit.not(bit.key('b:none'), 12) },
      ]);
      expect(count).toBe(70_000);
      expect(bitmap.toArray()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
      expect(await backend.keys()).toEqual([]);
    });

    it('evaluates expressions over missing bitmaps as empty', async (ctx) => {
      await requires(ctx, 'bitmaps');
      await backend.write([{ op: 'setBits', key: 'b:a', offsets: [1, 2] }]);
      const [a, none, other] = [bit.key('b:a'), bit.key('b:none'), bit.key('b:other')];
      expect(
        await backend.read([
          { op: 'bitCount', expr: bit.and(none, other) },
          { op: 'bitCount', expr: bit.or(none) },
          { op: 'bitCount', expr: bit.xor(none, other) },
          { op: 'bitCount', expr: bit.and(a, none) },
          { op: 'bitCount', expr: bit.or(a, none) },
          { op: 'bitCount', expr: bit.andNot(none, a) },
          { op: 'bitCount', expr: bit.andNot(a, none) },
        ]),
      ).toEqual([0, 0, 0, 0, 2, 0, 2]);
      const [empty] = await backend.read([{ op: 'bitmap', expr: bit.and(none, other) }]);
      expect(empty.toArray()).toEqual([]);
      expect(await backend.keys()).toEqual(['b:a']);
    });

    it('nests expressions four deep', async (ctx) => {
      await requires(ctx, 'bitmaps');
      await backend.write([
        { op: 'setBits', key: 'b:a', offsets: [1, 2, 3, 4, 5, 6] },
        { op: 'setBits', key: 'b:b', offsets: [2, 4, 6] },
        { op: 'setBits', key: 'b:c', offsets: [3, 6] },
        { op: 'setBits', key: 'b:d', offsets: [6, 7] },
      ]);
      const [a, b, c, d] = ['b:a', 'b:b', 'b:c', 'b:d'].map((key) => bit.key(key)) as [
        BitExpr,
        BitExpr,
        BitExpr,
        BitExpr,
      ];
      const fourDeep = bit.or(bit.andNot(bit.and(a, bit.xor(b, c)), d), d);
      const withNot = bit.xor(bit.not(bit.and(bit.or(b, c), bit.not(d, 7)), 8), a);
      const [result, count, second] = await backend.read([
        { op: 'bitmap', expr: fourDeep },
        { op: 'bitCount', expr: fourDeep },
        { op: 'bitmap', expr: withNot },
      ]);
      expect(result.toArray()).toEqual([2, 3, 4, 6, 7]);
      expect(count).toBe(5);
      // or(b, c) = {2,3,4,6}; and with not(d, 7) = {0..5} gives {2,3,4}; not(…, 8) = {0,1,5,6,7}; xor a.
      expect(second.toArray()).toEqual([0, 2, 3, 4, 7]);
    });

    it('accepts expressions nested 64 deep, the documented limit', async (ctx) => {
      await requires(ctx, 'bitmaps');
      await backend.write([{ op: 'setBits', key: 'b:a', offsets: [1, 3, 5] }]);
      let even: BitExpr = bit.key('b:a');
      for (let depth = 0; depth < 64; depth++) even = bit.not(even, 10);
      let odd: BitExpr = bit.key('b:a');
      for (let depth = 0; depth < 63; depth++)
        odd = depth % 2 ? bit.or(odd, bit.key('b:none')) : bit.not(odd, 10);
      const [evenMap, oddCount] = await backend.read([
        { op: 'bitmap', expr: even },
        { op: 'bitCount', expr: odd },
      ]);
      expect(evenMap.toArray()).toEqual([1, 3, 5]);
      // 32 NOTs interleaved with 31 ORs of a missing bitmap: an even number of NOTs.
      expect(oddCount).toBe(3);
    });

    it('returns bitmaps that iterate in ascending order and answer has()', async (ctx) => {
      await requires(ctx, 'bitmaps');
      await backend.write([{ op: 'setBits', key: 'b:1', offsets: [70_005, 3, TOP, 0, 65_536, 8] }]);
      const [bitmap] = await backend.read([{ op: 'bitmap', expr: bit.key('b:1') }]);
      expect([...bitmap]).toEqual([0, 3, 8, 65_536, 70_005, TOP]);
      expect(bitmap.size).toBe(6);
      expect([0, 3, 8, 65_536, 70_005, TOP].map((offset) => bitmap.has(offset))).toEqual(Array(6).fill(true));
      expect([1, 7, 65_535, 70_004, TOP - 1, -1, 1.5, 2 ** 32].map((offset) => bitmap.has(offset))).toEqual(
        Array(8).fill(false),
      );
    });

    it('returns bitmaps that do not change when the store changes later', async (ctx) => {
      await requires(ctx, 'bitmaps');
      await backend.write([{ op: 'setBits', key: 'b:1', offsets: [1, 70_000] }]);
      const [plain, combined] = await backend.read([
        { op: 'bitmap', expr: bit.key('b:1') },
        { op: 'bitmap', expr: bit.or(bit.key('b:1'), bit.key('b:none')) },
      ]);
      await backend.write([
        { op: 'setBits', key: 'b:1', offsets: [2, 70_001] },
        { op: 'setBits', key: 'b:1', offsets: [1], value: false },
      ]);
      expect(plain.toArray()).toEqual([1, 70_000]);
      expect(combined.toArray()).toEqual([1, 70_000]);
    });

    it('a bitmap replaced by set and then deleted leaves no bits behind', async (ctx) => {
      await requires(ctx, 'bitmaps');
      await backend.write([{ op: 'setBits', key: 'b:1', offsets: [1, 70_000] }]);
      await backend.write([{ op: 'set', key: 'b:1', value: 'text' }]);
      expect(await backend.read([{ op: 'get', key: 'b:1' }])).toEqual(['text']);
      await backend.write([{ op: 'delete', keys: ['b:1'] }]);
      await backend.write([{ op: 'setBits', key: 'b:1', offsets: [5] }]);
      const [bitmap] = await backend.read([{ op: 'bitmap', expr: bit.key('b:1') }]);
      expect(bitmap.toArray()).toEqual([5]);
      expect(await backend.keys()).toEqual(['b:1']);
    });

    it('agrees with a set model on random expressions over random bitmaps', async (ctx) => {
      await requires(ctx, 'bitmaps');
      const keys = ['b:p', 'b:q', 'b:r'];
      await fc.assert(
        fc.asyncProperty(
          fc.tuple(offsetsArbitrary, offsetsArbitrary, offsetsArbitrary),
          fc.array(bitExprArbitrary(keys, 'b:absent'), { minLength: 1, maxLength: 4 }),
          async (data, exprs) => {
            try {
              await backend.write(keys.map((key, i) => ({ op: 'setBits', key, offsets: data[i]! }) as const));
              const counts = await backend.read(exprs.map((expr) => ({ op: 'bitCount', expr }) as const));
              const maps = await backend.read(exprs.map((expr) => ({ op: 'bitmap', expr }) as const));
              const model = new Map(keys.map((key, i) => [key, new Set(data[i])]));
              exprs.forEach((expr, i) => {
                const expected = [...evaluateModel(expr, model)].sort((x, y) => x - y);
                expect(counts[i]).toBe(expected.length);
                expect(maps[i]!.toArray()).toEqual(expected);
              });
            } finally {
              await backend.write([{ op: 'delete', keys }]);
            }
          },
        ),
        { numRuns: 50 },
      );
      expect(await backend.keys()).toEqual([]);
    });

    it('agrees with a set model over random sequences of set and clear batches', async (ctx) => {
      await requires(ctx, 'bitmaps');
      const keys = ['b:s', 'b:t'];
      const step = fc.record({
        key: fc.constantFrom(...keys),
        offsets: offsetsArbitrary,
        value: fc.boolean(),
      });
      await fc.assert(
        fc.asyncProperty(
          fc.array(step, { minLength: 1, maxLength: 8 }),
          bitExprArbitrary(keys, 'b:absent'),
          async (steps, expr) => {
            const model = new Map(keys.map((key) => [key, new Set<number>()]));
            try {
              for (const { key, offsets, value } of steps) {
                await backend.write([{ op: 'setBits', key, offsets, value }]);
                for (const offset of offsets) {
                  if (value) model.get(key)!.add(offset);
                  else model.get(key)!.delete(offset);
                }
              }
              const probes = [...new Set(steps.flatMap((s) => s.offsets.slice(0, 5)))];
              const [count, bitmap, first, second, ...bits] = await backend.read([
                { op: 'bitCount', expr },
                { op: 'bitmap', expr },
                { op: 'bitmap', expr: bit.key('b:s') },
                { op: 'bitmap', expr: bit.key('b:t') },
                ...probes.map((offset) => ({ op: 'getBit', key: 'b:s', offset }) as const),
              ]);
              const expected = [...evaluateModel(expr, model)].sort((x, y) => x - y);
              expect(count).toBe(expected.length);
              expect((bitmap as { toArray(): number[] }).toArray()).toEqual(expected);
              expect((first as { toArray(): number[] }).toArray()).toEqual(
                [...model.get('b:s')!].sort((x, y) => x - y),
              );
              expect((second as { toArray(): number[] }).toArray()).toEqual(
                [...model.get('b:t')!].sort((x, y) => x - y),
              );
              expect(bits).toEqual(probes.map((offset) => model.get('b:s')!.has(offset)));
            } finally {
              await backend.write([{ op: 'delete', keys }]);
            }
          },
        ),
        { numRuns: 50 },
      );
      expect(await backend.keys()).toEqual([]);
    });

    it('sets and clears 100k bits in one operation each', async (ctx) => {
      await requires(ctx, 'bitmaps');
      const offsets = Array.from({ length: 100_000 }, (_, i) => i * 37);
      await backend.write([{ op: 'setBits', key: 'b:big', offsets }]);
      expect(
        await backend.read([
          { op: 'bitCount', expr: bit.key('b:big') },
          { op: 'getBit', key: 'b:big', offset: 99_999 * 37 },
          { op: 'getBit', key: 'b:big', offset: 99_999 * 37 + 1 },
        ]),
      ).toEqual([100_000, true, false]);
      await backend.write([
        { op: 'setBits', key: 'b:big', offsets: offsets.filter((_, i) => i % 2 === 0), value: false },
      ]);
      expect(await backend.read([{ op: 'bitCount', expr: bit.key('b:big') }])).toEqual([50_000]);
    });
  });
}
