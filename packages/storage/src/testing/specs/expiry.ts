/** Existence, deletion and expiry, for every kind of value. */
import { beforeEach, describe, expect, it } from 'vitest';
import type { Backend, WriteOp } from '../../backend.js';
import type { Suite } from '../harness.js';

export function expirySpec(suite: Suite): void {
  const { supported } = suite;
  describe('existence, deletion and expiry', () => {
    let backend: Backend;
    beforeEach(() => {
      backend = suite.backend;
    });

    /** One key of every kind this backend supports, as [key, write]. */
    const everyKind = async (): Promise<Array<[string, WriteOp]>> => {
      const keys: Array<[string, WriteOp]> = [
        ['k:hash', { op: 'increment', key: 'k:hash', increments: [['f', 1]] }],
        ['k:set', { op: 'setAdd', key: 'k:set', members: ['a'] }],
        ['k:value', { op: 'set', key: 'k:value', value: 'v' }],
      ];
      if (await supported('bitmaps')) {
        keys.push(['k:bits', { op: 'setBits', key: 'k:bits', offsets: [1, 70_000] }]);
      }
      if (await supported('hyperloglog'))
        keys.push(['k:hll', { op: 'hllAdd', key: 'k:hll', members: ['a'] }]);
      return keys;
    };

    it('reports which keys exist, of every kind', async () => {
      const kinds = await everyKind();
      await backend.write(kinds.map(([, op]) => op));
      const exists = await backend.read([
        ...kinds.map(([key]) => ({ op: 'exists', key }) as const),
        { op: 'exists', key: 'k:none' },
      ]);
      expect(exists).toEqual([...kinds.map(() => true), false]);
    });

    it('deletes keys of every kind, and deleting missing keys is harmless', async () => {
      const kinds = await everyKind();
      await backend.write(kinds.map(([, op]) => op));
      await backend.write([{ op: 'delete', keys: [...kinds.map(([key]) => key), 'k:none'] }]);
      expect(await backend.keys()).toEqual([]);
      expect(await backend.read(kinds.map(([key]) => ({ op: 'exists', key }) as const))).toEqual(
        kinds.map(() => false),
      );
    });

    it('a deleted key starts afresh', async () => {
      await backend.write([{ op: 'increment', key: 'k:1', increments: [['f', 5]] }]);
      await backend.write([
        { op: 'delete', keys: ['k:1'] },
        { op: 'increment', key: 'k:1', increments: [['f', 1]] },
      ]);
      expect(await backend.read([{ op: 'hashGetAll', key: 'k:1' }])).toEqual([new Map([['f', 1]])]);
    });

    it('expire sets a time to live of at most the given seconds', async () => {
      await backend.write([
        { op: 'set', key: 'k:v', value: '1' },
        { op: 'expire', key: 'k:v', seconds: 60 },
      ]);
      const [ttl] = await backend.read([{ op: 'ttl', key: 'k:v' }]);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(60_000);
      expect(await backend.read([{ op: 'get', key: 'k:v' }])).toEqual(['1']);
    });

    it('expires keys of every kind', async () => {
      const kinds = await everyKind();
      await backend.write([
        ...kinds.map(([, op]) => op),
        ...kinds.map(([key]) => ({ op: 'expire', key, seconds: 30 }) as const),
      ]);
      const ttls = await backend.read(kinds.map(([key]) => ({ op: 'ttl', key }) as const));
      for (const ttl of ttls) {
        expect(ttl).toBeGreaterThan(0);
        expect(ttl).toBeLessThanOrEqual(30_000);
      }
    });

    it('a later expire replaces an earlier one', async () => {
      await backend.write([
        { op: 'set', key: 'k:v', value: '1' },
        { op: 'expire', key: 'k:v', seconds: 1_000 },
        { op: 'expire', key: 'k:v', seconds: 10 },
      ]);
      const [ttl] = await backend.read([{ op: 'ttl', key: 'k:v' }]);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(10_000);
    });

    it('a key without expiry, and a missing key, have no time to live', async () => {
      await backend.write([{ op: 'set', key: 'k:v', value: '1' }]);
      expect(
        await backend.read([
          { op: 'ttl', key: 'k:v' },
          { op: 'ttl', key: 'k:none' },
        ]),
      ).toEqual([null, null]);
    });

    it('expire on a missing key does nothing', async () => {
      await backend.write([{ op: 'expire', key: 'k:none', seconds: 60 }]);
      expect(await backend.keys()).toEqual([]);
      await backend.write([{ op: 'set', key: 'k:none', value: '1' }]);
      expect(await backend.read([{ op: 'ttl', key: 'k:none' }])).toEqual([null]);
    });

    it('set clears an expiry, as Redis SET does', async () => {
      await backend.write([
        { op: 'set', key: 'k:v', value: '1' },
        { op: 'expire', key: 'k:v', seconds: 60 },
        { op: 'set', key: 'k:v', value: '2' },
      ]);
      expect(await backend.read([{ op: 'ttl', key: 'k:v' }])).toEqual([null]);
    });

    it('max keeps an expiry when it raises the value', async () => {
      await backend.write([
        { op: 'max', key: 'k:m', value: 1 },
        { op: 'expire', key: 'k:m', seconds: 60 },
        { op: 'max', key: 'k:m', value: 5 },
      ]);
      const [value, ttl] = await backend.read([
        { op: 'get', key: 'k:m' },
        { op: 'ttl', key: 'k:m' },
      ]);
      expect(value).toBe('5');
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(60_000);
    });

    it('delete removes the expiry with the key', async () => {
      await backend.write([
        { op: 'setAdd', key: 'k:s', members: ['a'] },
        { op: 'expire', key: 'k:s', seconds: 60 },
        { op: 'delete', keys: ['k:s'] },
        { op: 'setAdd', key: 'k:s', members: ['b'] },
      ]);
      expect(
        await backend.read([
          { op: 'ttl', key: 'k:s' },
          { op: 'setMembers', keys: ['k:s'] },
        ]),
      ).toEqual([null, ['b']]);
    });
  });
}
