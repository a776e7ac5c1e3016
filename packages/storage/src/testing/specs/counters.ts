/** Hash counters: integer increments per field. */
import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Backend, WriteOp } from '../../backend.js';
import { inGroup, type Suite, sorted } from '../harness.js';
import { applyToModel } from '../model.js';

export function counterSpec(suite: Suite): void {
  describe('hash counters', () => {
    let backend: Backend;
    beforeEach(() => {
      backend = suite.backend;
    });

    it('adds increments to many fields in one operation, and across writes', async () => {
      await backend.write([
        {
          op: 'increment',
          key: 'h:1',
          increments: [
            ['a', 2],
            ['b', 5],
            ['a', 3],
            ['c', 1],
          ],
        },
      ]);
      await backend.write([{ op: 'increment', key: 'h:1', increments: [['c', 10]] }]);
      const [all] = await backend.read([{ op: 'hashGetAll', key: 'h:1' }]);
      expect(Object.fromEntries(all)).toEqual({ a: 5, b: 5, c: 11 });
    });

    it('takes negative increments, and keeps a field that reaches zero as 0', async () => {
      await backend.write([
        {
          op: 'increment',
          key: 'h:1',
          increments: [
            ['a', 3],
            ['b', 2],
          ],
        },
        {
          op: 'increment',
          key: 'h:1',
          increments: [
            ['a', -3],
            ['c', -7],
          ],
        },
      ]);
      const [all, a, c] = await backend.read([
        { op: 'hashGetAll', key: 'h:1' },
        { op: 'hashGet', key: 'h:1', field: 'a' },
        { op: 'hashGet', key: 'h:1', field: 'c' },
      ]);
      expect(Object.fromEntries(all)).toEqual({ a: 0, b: 2, c: -7 });
      expect([a, c]).toEqual([0, -7]);
    });

    it('an increment by zero creates the field with value 0', async () => {
      await backend.write([{ op: 'increment', key: 'h:1', increments: [['z', 0]] }]);
      const [all] = await backend.read([{ op: 'hashGetAll', key: 'h:1' }]);
      expect([...all]).toEqual([['z', 0]]);
      expect(await backend.keys()).toEqual(['h:1']);
    });

    it('counts up to the largest safe integers exactly', async () => {
      await backend.write([
        {
          op: 'increment',
          key: 'h:1',
          increments: [
            ['big', Number.MAX_SAFE_INTEGER - 1],
            ['big', 1],
            ['small', Number.MIN_SAFE_INTEGER],
          ],
        },
      ]);
      expect(
        await backend.read([
          { op: 'hashGet', key: 'h:1', field: 'big' },
          { op: 'hashGet', key: 'h:1', field: 'small' },
        ]),
      ).toEqual([Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]);
    });

    it('treats __proto__, constructor and toString as ordinary fields', async () => {
      await backend.write([
        {
          op: 'increment',
          key: 'h:1',
          increments: [
            ['__proto__', 1],
            ['constructor', 2],
            ['toString', 3],
            ['hasOwnProperty', 4],
          ],
        },
      ]);
      const [all, proto, missing] = await backend.read([
        { op: 'hashGetAll', key: 'h:1' },
        { op: 'hashGet', key: 'h:1', field: '__proto__' },
        { op: 'hashGet', key: 'h:1', field: 'valueOf' },
      ]);
      expect(sorted(all.entries())).toEqual([
        ['__proto__', 1],
        ['constructor', 2],
        ['hasOwnProperty', 4],
        ['toString', 3],
      ]);
      expect([proto, missing]).toEqual([1, 0]);
    });

    it('keeps fields of any text apart, including ":" and non-ASCII', async () => {
      await backend.write([
        {
          op: 'increment',
          key: 'h:1',
          increments: [
            ['a:b', 1],
            ['a', 2],
            ['é', 3],
            ['e', 4],
            ['☃ 😀', 5],
          ],
        },
      ]);
      const [all] = await backend.read([{ op: 'hashGetAll', key: 'h:1' }]);
      expect(Object.fromEntries(all)).toEqual({ 'a:b': 1, a: 2, é: 3, e: 4, '☃ 😀': 5 });
    });

    it('reads a missing hash as empty', async () => {
      const [all, one] = await backend.read([
        { op: 'hashGetAll', key: 'h:none' },
        { op: 'hashGet', key: 'h:none', field: 'f' },
      ]);
      expect(all).toBeInstanceOf(Map);
      expect(all.size).toBe(0);
      expect(one).toBe(0);
    });

    it('an empty list of increments creates nothing', async () => {
      await backend.write([{ op: 'increment', key: 'h:1', increments: [] }]);
      expect(await backend.keys()).toEqual([]);
    });

    it('returns a fresh map on every read', async () => {
      await backend.write([{ op: 'increment', key: 'h:1', increments: [['f', 1]] }]);
      const [first] = await backend.read([{ op: 'hashGetAll', key: 'h:1' }]);
      first.set('f', 100);
      first.set('g', 1);
      await backend.write([{ op: 'increment', key: 'h:1', increments: [['f', 1]] }]);
      const [second] = await backend.read([{ op: 'hashGetAll', key: 'h:1' }]);
      expect([...second]).toEqual([['f', 2]]);
      expect([...first].sort()).toEqual([
        ['f', 100],
        ['g', 1],
      ]);
    });

    it('agrees with a model on random increments, additions, removals and deletions', async () => {
      const hashes = ['h:x', 'h:y'];
      const sets = ['s:x', 's:y'];
      const field = fc.constantFrom('f', 'g', '__proto__');
      const member = fc.constantFrom('a', 'b', 'c', 'd');
      const opArbitrary: fc.Arbitrary<WriteOp> = fc.oneof(
        fc.record({
          op: fc.constant('increment' as const),
          key: fc.constantFrom(...hashes),
          increments: fc.array(fc.tuple(field, fc.integer({ min: -3, max: 3 })), { maxLength: 3 }),
        }),
        fc.record({
          op: fc.constantFrom('setAdd' as const, 'setRemove' as const),
          key: fc.constantFrom(...sets),
          members: fc.array(member, { maxLength: 3 }),
        }),
        fc.record({
          op: fc.constant('delete' as const),
          keys: fc.subarray([...hashes, ...sets]),
        }),
      );
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.array(opArbitrary, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 4 }),
          fc.boolean(),
          async (writes, atomic) => {
            const model = new Map<string, Map<string, number> | Set<string>>();
            try {
              for (const ops of writes) {
                // An atomic write must stay in one locality group (the last key segment).
                const group = atomic ? inGroup(ops, 'x') : ops;
                await backend.write(group, { atomic });
                for (const op of group) applyToModel(model, op);
              }
              expect(await backend.keys()).toEqual(sorted(model.keys()));
              const reads = await backend.read([
                ...hashes.map((key) => ({ op: 'hashGetAll', key }) as const),
                ...sets.map((key) => ({ op: 'setMembers', keys: [key] }) as const),
              ]);
              hashes.forEach((key, i) => {
                const expected = model.get(key) as Map<string, number> | undefined;
                expect(sorted(reads[i] as Map<string, number>)).toEqual(sorted(expected ?? []));
              });
              sets.forEach((key, i) => {
                const expected = model.get(key) as Set<string> | undefined;
                expect(reads[hashes.length + i]).toEqual(sorted(expected ?? []));
              });
            } finally {
              await backend.write([{ op: 'delete', keys: [...hashes, ...sets] }]);
            }
          },
        ),
        { numRuns: 50 },
      );
    });
  });
}
