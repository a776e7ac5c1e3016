/** Atomic writes: all or nothing, and the unlessExists guard. */
import { beforeEach, describe, expect, it } from 'vitest';
import type { Backend, WriteOp } from '../../backend.js';
import { BackendError } from '../../errors.js';
import { bit } from '../../expr.js';
import { expectWrongType, rejection, type Suite } from '../harness.js';

export function atomicSpec(suite: Suite): void {
  const { requires, supported } = suite;
  describe('atomic writes', () => {
    let backend: Backend;
    beforeEach(() => {
      backend = suite.backend;
    });

    it('apply every kind of operation together', async () => {
      const bitmaps = await supported('bitmaps');
      const hll = await supported('hyperloglog');
      await backend.write([
        { op: 'setAdd', key: 'old:a', members: ['x'] },
        { op: 'set', key: 'gone:a', value: '1' },
      ]);
      const ops: WriteOp[] = [
        { op: 'increment', key: 'h:a', increments: [['f', 2]] },
        { op: 'setAdd', key: 's:a', members: ['x', 'y'] },
        { op: 'setRemove', key: 'old:a', members: ['x'] },
        { op: 'set', key: 'v:a', value: 'text' },
        { op: 'max', key: 'm:a', value: 9 },
        { op: 'storeCardinality', key: 'n:a', kind: 'set', sources: ['s:a'] },
        { op: 'delete', keys: ['gone:a'] },
        { op: 'expire', key: 'v:a', seconds: 60 },
      ];
      if (bitmaps) ops.push({ op: 'setBits', key: 'b:a', offsets: [3, 70_000] });
      if (hll) ops.push({ op: 'hllAdd', key: 'x:a', members: ['p', 'q'] });
      expect(await backend.write(ops, { atomic: true })).toBe(true);
      const expectedKeys = [
        'h:a',
        'm:a',
        'n:a',
        's:a',
        'v:a',
        ...(bitmaps ? ['b:a'] : []),
        ...(hll ? ['x:a'] : []),
      ];
      expect(await backend.keys()).toEqual(expectedKeys.sort());
      const [hash, set, value, max, count, ttl] = await backend.read([
        { op: 'hashGet', key: 'h:a', field: 'f' },
        { op: 'setMembers', keys: ['s:a'] },
        { op: 'get', key: 'v:a' },
        { op: 'get', key: 'm:a' },
        { op: 'get', key: 'n:a' },
        { op: 'ttl', key: 'v:a' },
      ]);
      expect([hash, set, value, max, count]).toEqual([2, ['x', 'y'], 'text', '9', '2']);
      expect(ttl).toBeGreaterThan(0);
      if (bitmaps) expect(await backend.read([{ op: 'bitCount', expr: bit.key('b:a') }])).toEqual([2]);
      if (hll) expect(await backend.read([{ op: 'hllCount', keys: ['x:a'] }])).toEqual([2]);
    });

    it('apply nothing when the last operation hits the wrong type', async () => {
      const bitmaps = await supported('bitmaps');
      await backend.write([
        { op: 'set', key: 'v:a', value: 'text' },
        { op: 'setAdd', key: 'old:a', members: ['x'] },
        { op: 'increment', key: 'h:a', increments: [['f', 1]] },
      ]);
      const ops: WriteOp[] = [
        { op: 'setAdd', key: 's:a', members: ['x'] },
        { op: 'increment', key: 'h:a', increments: [['f', 10]] },
        { op: 'setRemove', key: 'old:a', members: ['x'] },
        { op: 'delete', keys: ['h:a'] },
        { op: 'set', key: 'w:a', value: 'new' },
        { op: 'expire', key: 'v:a', seconds: 60 },
        { op: 'max', key: 'm:a', value: 3 },
      ];
      if (bitmaps) ops.push({ op: 'setBits', key: 'b:a', offsets: [1] });
      ops.push({ op: 'increment', key: 'v:a', increments: [['f', 1]] });
      expectWrongType(await rejection(backend.write(ops, { atomic: true })));
      expect(await backend.keys()).toEqual(['h:a', 'old:a', 'v:a']);
      expect(
        await backend.read([
          { op: 'get', key: 'v:a' },
          { op: 'ttl', key: 'v:a' },
          { op: 'setMembers', keys: ['old:a'] },
          { op: 'hashGet', key: 'h:a', field: 'f' },
        ]),
      ).toEqual(['text', null, ['x'], 1]);
    });

    it('apply nothing when max meets a value that is not an integer', async () => {
      await backend.write([{ op: 'set', key: 'v:a', value: 'abc' }]);
      const error = await rejection(
        backend.write(
          [
            { op: 'setAdd', key: 's:a', members: ['x'] },
            { op: 'max', key: 'v:a', value: 1 },
          ],
          { atomic: true },
        ),
      );
      expect(BackendError.isInstance(error), String(error)).toBe(true);
      expect(await backend.keys()).toEqual(['v:a']);
    });

    it('apply nothing when a HyperLogLog operation meets a plain value', async (ctx) => {
      // On Redis both are strings: the type alone does not tell them apart.
      await requires(ctx, 'hyperloglog');
      await backend.write([{ op: 'set', key: 'v:a', value: 'text' }]);
      for (const op of [
        { op: 'hllAdd', key: 'v:a', members: ['m'] },
        { op: 'storeCardinality', key: 'n:a', kind: 'hll', sources: ['v:a'] },
      ] as const) {
        const error = await rejection(
          backend.write([{ op: 'setAdd', key: 's:a', members: ['x'] }, op], { atomic: true }),
        );
        expectWrongType(error);
        expect(await backend.keys()).toEqual(['v:a']);
      }
    });

    it('check each operation against the kinds the earlier ones leave', async () => {
      const error = await rejection(
        backend.write(
          [
            { op: 'set', key: 'k:a', value: 'text' },
            { op: 'increment', key: 'k:a', increments: [['f', 1]] },
          ],
          { atomic: true },
        ),
      );
      expectWrongType(error);
      expect(await backend.keys()).toEqual([]);
    });

    it('let an earlier delete make room for another kind of value', async () => {
      await backend.write([{ op: 'increment', key: 'k:a', increments: [['f', 1]] }]);
      const applied = await backend.write(
        [
          { op: 'delete', keys: ['k:a'] },
          { op: 'setAdd', key: 'k:a', members: ['x'] },
        ],
        { atomic: true },
      );
      expect(applied).toBe(true);
      expect(await backend.read([{ op: 'setMembers', keys: ['k:a'] }])).toEqual([['x']]);
    });

    it('skip everything and resolve false when the unlessExists key exists', async () => {
      await backend.write([{ op: 'set', key: 'done:a', value: '1' }]);
      const applied = await backend.write(
        [
          { op: 'set', key: 'x:a', value: '1' },
          { op: 'delete', keys: ['done:a'] },
        ],
        { atomic: true, unlessExists: 'done:a' },
      );
      expect(applied).toBe(false);
      expect(await backend.keys()).toEqual(['done:a']);
    });

    it('skip everything when the unlessExists key holds any kind of value', async () => {
      await backend.write([{ op: 'setAdd', key: 'done:a', members: ['m'] }]);
      const applied = await backend.write([{ op: 'set', key: 'x:a', value: '1' }], {
        atomic: true,
        unlessExists: 'done:a',
      });
      expect(applied).toBe(false);
      expect(await backend.keys()).toEqual(['done:a']);
    });

    it('apply and resolve true when the unlessExists key is absent', async () => {
      const applied = await backend.write(
        [
          { op: 'setAdd', key: 's:a', members: ['x', 'y'] },
          { op: 'storeCardinality', key: 'n:a', kind: 'set', sources: ['s:a'] },
          { op: 'set', key: 'done:a', value: '1' },
          { op: 'delete', keys: ['s:a'] },
        ],
        { atomic: true, unlessExists: 'done:a' },
      );
      expect(applied).toBe(true);
      expect(await backend.keys()).toEqual(['done:a', 'n:a']);
      expect(await backend.read([{ op: 'get', key: 'n:a' }])).toEqual(['2']);
    });

    it('a write that creates its own unlessExists key runs once', async () => {
      const once = (): Promise<boolean> =>
        backend.write(
          [
            { op: 'increment', key: 'h:a', increments: [['runs', 1]] },
            { op: 'set', key: 'done:a', value: '1' },
          ],
          { atomic: true, unlessExists: 'done:a' },
        );
      expect([await once(), await once(), await once()]).toEqual([true, false, false]);
      expect(await backend.read([{ op: 'hashGet', key: 'h:a', field: 'runs' }])).toEqual([1]);
    });

    it('an empty write resolves true, atomic or not', async () => {
      expect(await backend.write([])).toBe(true);
      expect(await backend.write([], { atomic: true })).toBe(true);
      expect(await backend.keys()).toEqual([]);
    });
  });
}
