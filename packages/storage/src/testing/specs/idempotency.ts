/** Idempotent writes: a write retried with the same key is applied once. */
import { beforeEach, describe, expect, it } from 'vitest';
import type { Backend, WriteOp } from '../../backend.js';
import { bit } from '../../expr.js';
import { expectInvalidArgument, rejection, type Suite } from '../harness.js';

export function idempotencySpec(suite: Suite): void {
  const { supported } = suite;
  describe('idempotent writes', () => {
    let backend: Backend;
    beforeEach(() => {
      backend = suite.backend;
    });

    const batch = (bitmaps: boolean): WriteOp[] => [
      { op: 'increment', key: 'n:h:1', increments: [['a', 2]] },
      { op: 'increment', key: 'n:h:2', increments: [['a', 3]] },
      { op: 'setAdd', key: 's:1', members: ['x'] },
      ...(bitmaps ? [{ op: 'setBits', key: 'b:1', offsets: [5, 2 ** 21] } as const] : []),
    ];

    it('applies a write retried with the same idempotency key once', async () => {
      const bitmaps = await supported('bitmaps');
      expect(await backend.write(batch(bitmaps), { idempotencyKey: 'batch-1' })).toBe(true);
      expect(await backend.write(batch(bitmaps), { idempotencyKey: 'batch-1' })).toBe(true);
      const [a, b, members] = await backend.read([
        { op: 'hashGet', key: 'n:h:1', field: 'a' },
        { op: 'hashGet', key: 'n:h:2', field: 'a' },
        { op: 'setMembers', keys: ['s:1'] },
      ]);
      expect([a, b, members]).toEqual([2, 3, ['x']]);
      if (bitmaps) expect(await backend.read([{ op: 'bitCount', expr: bit.key('b:1') }])).toEqual([2]);
    });

    it('applies writes with different idempotency keys, or none, every time', async () => {
      const bitmaps = await supported('bitmaps');
      await backend.write(batch(bitmaps), { idempotencyKey: 'batch-1' });
      await backend.write(batch(bitmaps), { idempotencyKey: 'batch-2' });
      await backend.write(batch(bitmaps));
      expect(await backend.read([{ op: 'hashGet', key: 'n:h:1', field: 'a' }])).toEqual([6]);
    });

    it('keeps idempotency keys out of the logical keyspace', async () => {
      await backend.write([{ op: 'set', key: 'v:1', value: 'x' }], { idempotencyKey: 'k' });
      expect(await backend.keys()).toEqual(['v:1']);
    });

    it('applies nothing of an idempotent write that fails its checks, and a fixed retry applies it once', async () => {
      await backend.write([{ op: 'set', key: 'v:1', value: 'text' }]);
      const ops: WriteOp[] = [
        { op: 'increment', key: 'n:1', increments: [['a', 1]] },
        { op: 'increment', key: 'v:1', increments: [['a', 1]] },
      ];
      const error = await rejection(backend.write(ops, { idempotencyKey: 'retry' }));
      expect((error as Error).message).toMatch(/^WRONGTYPE/);
      expect(await backend.read([{ op: 'hashGet', key: 'n:1', field: 'a' }])).toEqual([0]);
      await backend.write([{ op: 'delete', keys: ['v:1'] }]);
      await backend.write(ops, { idempotencyKey: 'retry' });
      await backend.write(ops, { idempotencyKey: 'retry' });
      expect(
        await backend.read([
          { op: 'hashGet', key: 'n:1', field: 'a' },
          { op: 'hashGet', key: 'v:1', field: 'a' },
        ]),
      ).toEqual([1, 1]);
    });

    it('refuses malformed idempotency options before writing', async () => {
      const write = [{ op: 'set', key: 'v:1', value: 'x' } as const];
      for (const options of [
        { idempotencyKey: '' },
        { idempotencyKey: 'x'.repeat(201) },
        { idempotencyKey: 'a\u0000b' },
        { idempotencyKey: '\ud800' },
        { idempotencyKey: 7 as unknown as string },
        { idempotencyKey: 'k', idempotencyTtl: 0 },
        { idempotencyKey: 'k', idempotencyTtl: 1.5 },
        { idempotencyTtl: 60 },
      ]) {
        expectInvalidArgument(await rejection(backend.write(write, options)));
      }
      expect(await backend.keys()).toEqual([]);
    });
  });
}
