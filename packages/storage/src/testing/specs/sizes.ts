/**
 * Sizes: every size the interface accepts works (large batches, wide unions, large hashes and
 * sets), and what it refuses it refuses up front, writing nothing.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { Backend } from '../../backend.js';
import { bit } from '../../expr.js';
import { MAX_ATOMIC_ITEMS } from '../../validate.js';
import { expectInvalidArgument, rejection, type Suite, TOP } from '../harness.js';

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

export function sizeSpec(suite: Suite): void {
  const { requires } = suite;
  describe('sizes and limits', () => {
    let backend: Backend;
    beforeEach(() => {
      backend = suite.backend;
    });

    it('adds 200,000 members to a set in one operation, and counts and lists them', async () => {
      const members = Array.from({ length: 200_000 }, (_, i) => `m${i}`);
      await backend.write([{ op: 'setAdd', key: 's:big', members }]);
      const [count, listed, has] = await backend.read([
        { op: 'setCardinality', keys: ['s:big'] },
        { op: 'setMembers', keys: ['s:big'] },
        { op: 'setHas', key: 's:big', member: 'm199999' },
      ]);
      expect([count, listed.length, has]).toEqual([200_000, 200_000, true]);
      expect(listed.slice(0, 3)).toEqual(['m0', 'm1', 'm10']);
    });

    it('counts the union of two large overlapping sets exactly', async () => {
      const a = Array.from({ length: 60_000 }, (_, i) => `m${i}`);
      const b = Array.from({ length: 60_000 }, (_, i) => `m${i + 30_000}`);
      await backend.write([
        { op: 'setAdd', key: 'a:g', members: a },
        { op: 'setAdd', key: 'b:g', members: b },
      ]);
      const [count, members] = await backend.read([
        { op: 'setCardinality', keys: ['a:g', 'b:g'] },
        { op: 'setMembers', keys: ['a:g', 'b:g'] },
      ]);
      expect([count, members.length, new Set(members).size]).toEqual([90_000, 90_000, 90_000]);
    });

    it('increments 100,000 fields in one operation and reads them all back', async () => {
      const increments = Array.from({ length: 100_000 }, (_, i) => [`f${i}`, i] as const);
      await backend.write([{ op: 'increment', key: 'h:big', increments }]);
      const [all, one] = await backend.read([
        { op: 'hashGetAll', key: 'h:big' },
        { op: 'hashGet', key: 'h:big', field: 'f99999' },
      ]);
      expect([all.size, all.get('f12345'), one]).toEqual([100_000, 12_345, 99_999]);
    });

    it('refuses an increment that would pass 2^53 - 1, writing nothing of its operation', async () => {
      await backend.write([{ op: 'increment', key: 'h:1', increments: [['top', MAX_SAFE - 1]] }]);
      const error = await rejection(
        backend.write([
          {
            op: 'increment',
            key: 'h:1',
            increments: [
              ['other', 5],
              ['top', 2],
            ],
          },
        ]),
      );
      expect((error as Error).message).toMatch(/overflow/);
      const [all] = await backend.read([{ op: 'hashGetAll', key: 'h:1' }]);
      expect(Object.fromEntries(all)).toEqual({ top: MAX_SAFE - 1 });
      await backend.write([{ op: 'increment', key: 'h:1', increments: [['top', 1]] }]);
      expect(await backend.read([{ op: 'hashGet', key: 'h:1', field: 'top' }])).toEqual([MAX_SAFE]);
      await backend.write([{ op: 'increment', key: 'h:1', increments: [['low', -MAX_SAFE]] }]);
      expect(
        (
          (await rejection(
            backend.write([{ op: 'increment', key: 'h:1', increments: [['low', -1]] }]),
          )) as Error
        ).message,
      ).toMatch(/overflow/);
    });

    it('refuses an atomic write past the item limit before writing anything', async () => {
      const members = Array.from({ length: MAX_ATOMIC_ITEMS + 1 }, (_, i) => `m${i}`);
      const error = await rejection(
        backend.write(
          [
            { op: 'set', key: 'v:g', value: 'x' },
            { op: 'setAdd', key: 's:g', members },
          ],
          { atomic: true },
        ),
      );
      expectInvalidArgument(error);
      expect((error as Error).message).toContain(String(MAX_ATOMIC_ITEMS));
      expect(await backend.keys()).toEqual([]);
    });

    it('applies an atomic write of the largest allowed size whole', async () => {
      const members = Array.from({ length: MAX_ATOMIC_ITEMS }, (_, i) => `m${i}`);
      await backend.write([{ op: 'setAdd', key: 's:g', members }], { atomic: true });
      expect(await backend.read([{ op: 'setCardinality', keys: ['s:g'] }])).toEqual([MAX_ATOMIC_ITEMS]);
    });

    it('refuses strings with a lone surrogate in keys, members, fields and values', async () => {
      for (const ops of [
        [{ op: 'set', key: 'v:\ud800', value: 'x' }],
        [{ op: 'set', key: 'v:g', value: 'a\udc00' }],
        [{ op: 'setAdd', key: 's:g', members: ['ok', '\ud83d'] }],
        [{ op: 'increment', key: 'h:g', increments: [['\udfff', 1]] }],
      ] as const) {
        expectInvalidArgument(await rejection(backend.write(ops)));
      }
      expectInvalidArgument(await rejection(backend.read([{ op: 'setHas', key: 's:g', member: '\ud800' }])));
      expectInvalidArgument(await rejection(backend.read([{ op: 'get', key: 'v:\udbff' }])));
      expect(await backend.keys()).toEqual([]);
      // Well-formed astral characters are fine.
      await backend.write([{ op: 'setAdd', key: 's:g', members: ['\ud83d\udc2c'] }]);
      expect(await backend.read([{ op: 'setMembers', keys: ['s:g'] }])).toEqual([['\ud83d\udc2c']]);
    });

    it('counts and returns the union of 1,500 bitmaps', async (ctx) => {
      await requires(ctx, 'bitmaps');
      const writes = Array.from({ length: 1_500 }, (_, i) => ({
        op: 'setBits' as const,
        key: `b:${i}`,
        offsets: [i, 10_000 + (i % 100)],
      }));
      await backend.write(writes);
      const expr = bit.or(...writes.map((w) => bit.key(w.key)));
      const [count, bitmap] = await backend.read([
        { op: 'bitCount', expr },
        { op: 'bitmap', expr },
      ]);
      expect([count, bitmap.size, bitmap.has(1_499), bitmap.has(10_099), bitmap.has(10_100)]).toEqual([
        1_600,
        1_600,
        true,
        true,
        false,
      ]);
    });

    it('answers NOT over the whole id space without materialising it', async (ctx) => {
      await requires(ctx, 'bitmaps');
      await backend.write([{ op: 'setBits', key: 'b:1', offsets: [0, TOP] }]);
      const expr = bit.not(bit.key('b:1'), TOP + 1);
      const [count, bitmap] = await backend.read([
        { op: 'bitCount', expr },
        { op: 'bitmap', expr },
      ]);
      expect([
        count,
        bitmap.size,
        bitmap.has(0),
        bitmap.has(1),
        bitmap.has(TOP - 1),
        bitmap.has(TOP),
      ]).toEqual([TOP - 1, TOP - 1, false, true, true, false]);
    });

    it('counts 20,000 expressions in one read', async (ctx) => {
      await requires(ctx, 'bitmaps');
      await backend.write([{ op: 'setBits', key: 'b:g', offsets: [1, 2, 3] }]);
      const ops = Array.from({ length: 20_000 }, (_, i) => ({
        op: 'bitCount' as const,
        expr: i % 2 === 0 ? bit.key('b:g') : bit.key(`missing:${i}`),
      }));
      const counts = await backend.read(ops);
      expect(counts.length).toBe(20_000);
      expect(counts.slice(0, 4)).toEqual([3, 0, 3, 0]);
    });
  });
}
