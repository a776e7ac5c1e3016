/** keys(): exactly the logical keys written, and nothing a read left behind. */
import { beforeEach, describe, expect, it } from 'vitest';
import type { Backend, ReadOp, WriteOp } from '../../backend.js';
import { bit } from '../../expr.js';
import { expectWrongType, rejection, type Suite, TOP } from '../harness.js';

export function keysSpec(suite: Suite): void {
  const { supported } = suite;
  describe('keys', () => {
    let backend: Backend;
    beforeEach(() => {
      backend = suite.backend;
    });

    it('lists exactly the logical keys written, sorted by UTF-16 code unit', async () => {
      const written = ['b', 'B', 'a:1', 'a', 'a:1:z', 'café:☃', 'x%3Ay:1', 'Z:9', '9:Z'];
      await backend.write(written.map((key) => ({ op: 'set', key, value: key }) as const));
      const extra: string[] = [];
      if (await supported('bitmaps')) {
        await backend.write([{ op: 'setBits', key: 'bits:1', offsets: [1, 70_000, TOP] }]);
        extra.push('bits:1');
      }
      if (await supported('hyperloglog')) {
        await backend.write([{ op: 'hllAdd', key: 'hll:1', members: ['a'] }]);
        extra.push('hll:1');
      }
      await backend.write([
        { op: 'increment', key: 'hash:1', increments: [['f', 1]] },
        { op: 'setAdd', key: 'set:1', members: ['a'] },
      ]);
      expect(await backend.keys()).toEqual([...written, ...extra, 'hash:1', 'set:1'].sort());
    });

    it('is empty for a fresh backend', async () => {
      expect(await backend.keys()).toEqual([]);
    });

    it('leaves no other key behind after reads of every kind, including failed ones', async () => {
      const bitmaps = await supported('bitmaps');
      const hll = await supported('hyperloglog');
      const setup: WriteOp[] = [
        { op: 'increment', key: 'r:h', increments: [['f', 1]] },
        { op: 'setAdd', key: 'r:s', members: ['a', 'b'] },
        { op: 'setAdd', key: 'r:t', members: ['b', 'c'] },
        { op: 'set', key: 'r:v', value: '1' },
      ];
      if (bitmaps) {
        setup.push(
          { op: 'setBits', key: 'r:b', offsets: [1, 70_000, 2 ** 31] },
          { op: 'setBits', key: 'q:c', offsets: [2, 70_000] },
        );
      }
      if (hll)
        setup.push(
          { op: 'hllAdd', key: 'r:x', members: ['a'] },
          { op: 'hllAdd', key: 'q:y', members: ['b'] },
        );
      await backend.write(setup);
      const before = await backend.keys();

      const reads: ReadOp[] = [
        { op: 'hashGetAll', key: 'r:h' },
        { op: 'hashGet', key: 'r:h', field: 'f' },
        { op: 'setCardinality', keys: ['r:s', 'r:t', 'r:none'] },
        { op: 'setMembers', keys: ['r:s', 'r:t'] },
        { op: 'setHas', key: 'r:s', member: 'a' },
        { op: 'get', key: 'r:v' },
        { op: 'exists', key: 'r:none' },
        { op: 'ttl', key: 'r:v' },
      ];
      const failing: ReadOp[][] = [
        [{ op: 'hashGetAll', key: 'r:s' }],
        [{ op: 'setMembers', keys: ['r:s', 'r:h'] }],
        [{ op: 'setCardinality', keys: ['r:s', 'r:v'] }],
      ];
      if (bitmaps) {
        const [b, c] = [bit.key('r:b'), bit.key('q:c')];
        reads.push(
          { op: 'getBit', key: 'r:b', offset: 1 },
          { op: 'bitCount', expr: bit.xor(b, bit.not(c, 200_000)) },
          { op: 'bitmap', expr: bit.and(bit.or(b, c), bit.not(bit.key('r:none'), 100_000)) },
          { op: 'bitCount', expr: bit.andNot(b, c) },
          { op: 'bitCount', expr: bit.not(b, 2 ** 32) },
        );
        failing.push(
          [{ op: 'bitCount', expr: bit.and(b, bit.key('r:s')) }],
          [{ op: 'bitmap', expr: bit.or(bit.not(b, 100), bit.key('r:h')) }],
          [
            { op: 'bitCount', expr: bit.xor(b, c) },
            { op: 'getBit', key: 'r:v', offset: 1 },
          ],
        );
      }
      if (hll) {
        reads.push({ op: 'hllCount', keys: ['r:x', 'q:y', 'r:none'] });
        failing.push([{ op: 'hllCount', keys: ['r:x', 'r:s'] }], [{ op: 'hllCount', keys: ['q:y', 'r:v'] }]);
      }
      await backend.read(reads);
      for (const batch of failing) expectWrongType(await rejection(backend.read(batch)));
      expect(await backend.keys()).toEqual(before);
    });
  });
}
