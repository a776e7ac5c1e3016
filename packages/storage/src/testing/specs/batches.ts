/** Batches and concurrency: result order, large batches, concurrent callers. */
import { beforeEach, describe, expect, it } from 'vitest';
import type { Backend, WriteOp } from '../../backend.js';
import { bit } from '../../expr.js';
import { type Suite, sum } from '../harness.js';

export function batchSpec(suite: Suite): void {
  const { supported } = suite;
  describe('batches and concurrency', () => {
    let backend: Backend;
    beforeEach(() => {
      backend = suite.backend;
    });

    it('returns read results in the order of the operations', async () => {
      await backend.write([
        { op: 'set', key: 'o:1', value: 'one' },
        { op: 'setAdd', key: 'o:2', members: ['m'] },
        { op: 'increment', key: 'o:3', increments: [['f', 7]] },
      ]);
      expect(
        await backend.read([
          { op: 'setCardinality', keys: ['o:2'] },
          { op: 'get', key: 'o:1' },
          { op: 'exists', key: 'o:4' },
          { op: 'hashGet', key: 'o:3', field: 'f' },
          { op: 'setHas', key: 'o:2', member: 'm' },
          { op: 'get', key: 'o:1' },
          { op: 'ttl', key: 'o:1' },
        ]),
      ).toEqual([1, 'one', false, 7, true, 'one', null]);
    });

    it('an empty read resolves to an empty list', async () => {
      expect(await backend.read([])).toEqual([]);
    });

    it('applies the operations of a write in order', async () => {
      await backend.write([
        { op: 'set', key: 'o:1', value: 'first' },
        { op: 'delete', keys: ['o:1'] },
        { op: 'setAdd', key: 'o:1', members: ['second'] },
        { op: 'setRemove', key: 'o:1', members: ['second'] },
        { op: 'increment', key: 'o:1', increments: [['third', 3]] },
      ]);
      expect(await backend.read([{ op: 'hashGetAll', key: 'o:1' }])).toEqual([new Map([['third', 3]])]);
    });

    it('takes 10k operations in one write', async () => {
      const ops = Array.from(
        { length: 10_000 },
        (_, i) => ({ op: 'increment', key: `n:${i % 10}`, increments: [[`f${i % 7}`, 1]] }) as const,
      );
      await backend.write(ops);
      const all = await backend.read(
        Array.from({ length: 10 }, (_, i) => ({ op: 'hashGetAll', key: `n:${i}` }) as const),
      );
      expect(all.map((map) => sum(map.values()))).toEqual(Array(10).fill(1_000));
    });

    it('gives the same totals under 100 concurrent writers and readers as sequentially', async () => {
      const bitmaps = await supported('bitmaps');
      const writeOf = (prefix: string, i: number): WriteOp[] => [
        { op: 'increment', key: `${prefix}:h`, increments: [['n', 1]] },
        { op: 'setAdd', key: `${prefix}:s`, members: [`m${i % 10}`] },
        { op: 'max', key: `${prefix}:m`, value: i },
        ...(bitmaps ? [{ op: 'setBits', key: `${prefix}:b`, offsets: [i * 1_000] } as const] : []),
      ];
      const totals = (prefix: string) =>
        backend.read([
          { op: 'hashGet', key: `${prefix}:h`, field: 'n' },
          { op: 'setCardinality', keys: [`${prefix}:s`] },
          { op: 'get', key: `${prefix}:m` },
        ]);
      for (let i = 0; i < 100; i++) await backend.write(writeOf('seq', i));
      const seen: number[] = [];
      await Promise.all(
        Array.from({ length: 100 }, async (_, i) => {
          await backend.write(writeOf('par', i));
          const [n] = await backend.read([{ op: 'hashGet', key: 'par:h', field: 'n' }]);
          seen.push(n);
        }),
      );
      expect(await totals('par')).toEqual(await totals('seq'));
      expect(await totals('par')).toEqual([100, 10, '99']);
      expect(Math.max(...seen)).toBe(100);
      expect(Math.min(...seen)).toBeGreaterThan(0);
      if (bitmaps) {
        expect(
          await backend.read([
            { op: 'bitCount', expr: bit.key('par:b') },
            { op: 'bitCount', expr: bit.xor(bit.key('par:b'), bit.key('seq:b')) },
          ]),
        ).toEqual([100, 0]);
      }
    });
  });
}
