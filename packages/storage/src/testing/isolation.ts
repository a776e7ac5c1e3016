/** Namespace isolation: two backends (two Redis prefixes, say) never see each other's keys. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Backend, WriteOp } from '../backend.js';
import { bit } from '../expr.js';

/** Two backends from `makePair` (e.g. two Redis prefixes on one server) never see each other's keys. */
export function runNamespaceIsolation(name: string, makePair: () => Promise<[Backend, Backend]>): void {
  describe(`Namespace isolation: ${name}`, () => {
    let pair: [Backend, Backend] | undefined;
    beforeEach(async () => {
      pair = await makePair();
    });
    afterEach(async () => {
      if (!pair) return;
      for (const backend of pair) {
        await backend.write([{ op: 'delete', keys: await backend.keys() }]);
        await backend.close();
      }
      pair = undefined;
    });

    it('keeps the two namespaces apart for every kind of data', async () => {
      const [a, b] = pair!;
      const bitmaps = (await a.supports('bitmaps')) && (await b.supports('bitmaps'));
      const hll = (await a.supports('hyperloglog')) && (await b.supports('hyperloglog'));
      const ops: WriteOp[] = [
        { op: 'set', key: 'shared:v', value: 'from-a' },
        { op: 'setAdd', key: 'shared:s', members: ['x'] },
        { op: 'increment', key: 'shared:h', increments: [['f', 1]] },
      ];
      if (bitmaps) ops.push({ op: 'setBits', key: 'shared:b', offsets: [1, 70_000] });
      if (hll) ops.push({ op: 'hllAdd', key: 'shared:x', members: ['m'] });
      await a.write(ops);
      const written = ops.map((op) => (op as { key: string }).key).sort();
      expect(await b.keys()).toEqual([]);
      expect(
        await b.read([
          { op: 'get', key: 'shared:v' },
          { op: 'setCardinality', keys: ['shared:s'] },
          { op: 'hashGet', key: 'shared:h', field: 'f' },
          { op: 'exists', key: 'shared:v' },
        ]),
      ).toEqual([null, 0, 0, false]);
      if (bitmaps) expect(await b.read([{ op: 'bitCount', expr: bit.key('shared:b') }])).toEqual([0]);
      if (hll) expect(await b.read([{ op: 'hllCount', keys: ['shared:x'] }])).toEqual([0]);

      // b may use the same names for other kinds of values without a WRONGTYPE from a's data.
      await b.write([
        { op: 'increment', key: 'shared:v', increments: [['g', 2]] },
        { op: 'set', key: 'shared:s', value: 'from-b' },
      ]);
      await b.write([{ op: 'delete', keys: ['shared:h'] }]);
      expect(await a.keys()).toEqual(written);
      expect(await b.keys()).toEqual(['shared:s', 'shared:v']);
      expect(
        await a.read([
          { op: 'get', key: 'shared:v' },
          { op: 'setMembers', keys: ['shared:s'] },
          { op: 'hashGet', key: 'shared:h', field: 'f' },
        ]),
      ).toEqual(['from-a', ['x'], 1]);
    });
  });
}
