/** HyperLogLog: approximate distinct counts, exact for tiny sets. */
import { beforeEach, describe, expect, it } from 'vitest';
import type { Backend } from '../../backend.js';
import type { Suite } from '../harness.js';

export function hyperLogLogSpec(suite: Suite): void {
  const { requires } = suite;
  describe('HyperLogLog', () => {
    let backend: Backend;
    beforeEach(() => {
      backend = suite.backend;
    });

    it('counts tiny sets exactly, ignoring duplicates', async (ctx) => {
      await requires(ctx, 'hyperloglog');
      await backend.write([
        { op: 'hllAdd', key: 'x:1', members: ['a', 'b', 'c', 'a'] },
        { op: 'hllAdd', key: 'x:1', members: ['b'] },
      ]);
      expect(await backend.read([{ op: 'hllCount', keys: ['x:1'] }])).toEqual([3]);
    });

    it('counts a missing HyperLogLog as 0', async (ctx) => {
      await requires(ctx, 'hyperloglog');
      expect(await backend.read([{ op: 'hllCount', keys: ['x:none'] }])).toEqual([0]);
      expect(await backend.keys()).toEqual([]);
    });

    it('counts the union of several HyperLogLogs, missing ones as empty', async (ctx) => {
      await requires(ctx, 'hyperloglog');
      await backend.write([
        { op: 'hllAdd', key: 'x:1', members: ['a', 'b', 'c'] },
        { op: 'hllAdd', key: 'x:2', members: ['c', 'd'] },
      ]);
      expect(
        await backend.read([
          { op: 'hllCount', keys: ['x:1', 'x:2'] },
          { op: 'hllCount', keys: ['x:1', 'x:2', 'x:none'] },
          { op: 'hllCount', keys: ['x:1', 'x:1'] },
          { op: 'hllCount', keys: ['x:2'] },
        ]),
      ).toEqual([4, 4, 3, 2]);
      expect(await backend.keys()).toEqual(['x:1', 'x:2']);
    });

    it('counts members by their text, non-ASCII included', async (ctx) => {
      await requires(ctx, 'hyperloglog');
      await backend.write([{ op: 'hllAdd', key: 'x:1', members: ['é', 'e', '☃', '😀', 'ß', 'ss', 'e'] }]);
      expect(await backend.read([{ op: 'hllCount', keys: ['x:1'] }])).toEqual([6]);
    });

    it('estimates 10k members within 2%', async (ctx) => {
      await requires(ctx, 'hyperloglog');
      const members = Array.from({ length: 10_000 }, (_, i) => `user-${i}`);
      await backend.write([{ op: 'hllAdd', key: 'x:big', members }]);
      const [count] = await backend.read([{ op: 'hllCount', keys: ['x:big'] }]);
      expect(Math.abs(count - 10_000)).toBeLessThan(200);
    });

    it('estimates the union of two overlapping 10k sets within 2%', async (ctx) => {
      await requires(ctx, 'hyperloglog');
      const range = (from: number) => Array.from({ length: 10_000 }, (_, i) => `user-${from + i}`);
      await backend.write([
        { op: 'hllAdd', key: 'x:1', members: range(0) },
        { op: 'hllAdd', key: 'x:2', members: range(5_000) },
      ]);
      const [union] = await backend.read([{ op: 'hllCount', keys: ['x:1', 'x:2'] }]);
      expect(Math.abs(union - 15_000)).toBeLessThan(300);
    });

    it('does not change its estimate when members are added again', async (ctx) => {
      await requires(ctx, 'hyperloglog');
      const members = Array.from({ length: 1_000 }, (_, i) => `m${i}`);
      await backend.write([{ op: 'hllAdd', key: 'x:1', members }]);
      const [before] = await backend.read([{ op: 'hllCount', keys: ['x:1'] }]);
      await backend.write([{ op: 'hllAdd', key: 'x:1', members: members.slice(0, 500) }]);
      expect(await backend.read([{ op: 'hllCount', keys: ['x:1'] }])).toEqual([before]);
    });

    it('an empty list of members creates nothing', async (ctx) => {
      await requires(ctx, 'hyperloglog');
      await backend.write([{ op: 'hllAdd', key: 'x:1', members: [] }]);
      expect(await backend.keys()).toEqual([]);
    });

    it('stores the estimate of a union as a plain integer value', async (ctx) => {
      await requires(ctx, 'hyperloglog');
      await backend.write([
        { op: 'hllAdd', key: '1:x', members: ['a', 'b'] },
        { op: 'hllAdd', key: '2:x', members: ['b', 'c'] },
        { op: 'storeCardinality', key: 'n:x', kind: 'hll', sources: ['1:x', '2:x', 'none:x'] },
        { op: 'storeCardinality', key: 'zero:x', kind: 'hll', sources: ['none:x'] },
      ]);
      expect(
        await backend.read([
          { op: 'get', key: 'n:x' },
          { op: 'get', key: 'zero:x' },
        ]),
      ).toEqual(['3', '0']);
    });
  });
}
