/** Plain values: set, get, the max high-water mark and stored cardinalities. */
import { beforeEach, describe, expect, it } from 'vitest';
import type { Backend } from '../../backend.js';
import { BackendError } from '../../errors.js';
import { expectWrongType, rejection, type Suite } from '../harness.js';

export function valueSpec(suite: Suite): void {
  describe('plain values', () => {
    let backend: Backend;
    beforeEach(() => {
      backend = suite.backend;
    });

    it('sets and gets a value, and a missing value is null', async () => {
      await backend.write([{ op: 'set', key: 'v:1', value: 'hello' }]);
      expect(
        await backend.read([
          { op: 'get', key: 'v:1' },
          { op: 'get', key: 'v:none' },
        ]),
      ).toEqual(['hello', null]);
    });

    it('overwrites a value', async () => {
      await backend.write([
        { op: 'set', key: 'v:1', value: 'one' },
        { op: 'set', key: 'v:1', value: 'two' },
      ]);
      expect(await backend.read([{ op: 'get', key: 'v:1' }])).toEqual(['two']);
    });

    it('round-trips any text, including the empty string', async () => {
      const values = ['', ' ', 'line\nbreak', 'tab\t', 'é☃😀', '{braces}', '0', '-1', 'null'];
      await backend.write(values.map((value, i) => ({ op: 'set', key: `v:${i}`, value }) as const));
      expect(await backend.read(values.map((_, i) => ({ op: 'get', key: `v:${i}` }) as const))).toEqual(
        values,
      );
      expect(await backend.read([{ op: 'exists', key: 'v:0' }])).toEqual([true]);
    });

    it('replaces a key of any other kind', async () => {
      await backend.write([
        { op: 'setAdd', key: 'v:set', members: ['a'] },
        { op: 'increment', key: 'v:hash', increments: [['f', 1]] },
      ]);
      await backend.write([
        { op: 'set', key: 'v:set', value: 'was a set' },
        { op: 'set', key: 'v:hash', value: 'was a hash' },
      ]);
      expect(
        await backend.read([
          { op: 'get', key: 'v:set' },
          { op: 'get', key: 'v:hash' },
        ]),
      ).toEqual(['was a set', 'was a hash']);
      expectWrongType(await rejection(backend.read([{ op: 'setMembers', keys: ['v:set'] }])));
    });

    it('max creates a missing value as an integer string', async () => {
      await backend.write([
        { op: 'max', key: 'v:1', value: 42 },
        { op: 'max', key: 'v:2', value: -5 },
        { op: 'max', key: 'v:3', value: 0 },
      ]);
      expect(
        await backend.read([
          { op: 'get', key: 'v:1' },
          { op: 'get', key: 'v:2' },
          { op: 'get', key: 'v:3' },
        ]),
      ).toEqual(['42', '-5', '0']);
    });

    it('max raises a lower value and keeps a higher or equal one', async () => {
      await backend.write([
        { op: 'max', key: 'v:1', value: 5 },
        { op: 'max', key: 'v:1', value: 3 },
        { op: 'max', key: 'v:2', value: 3 },
        { op: 'max', key: 'v:2', value: 9 },
        { op: 'max', key: 'v:3', value: -10 },
        { op: 'max', key: 'v:3', value: -2 },
        { op: 'max', key: 'v:4', value: 7 },
        { op: 'max', key: 'v:4', value: 7 },
        { op: 'max', key: 'v:5', value: Number.MAX_SAFE_INTEGER },
      ]);
      expect(
        await backend.read([
          { op: 'get', key: 'v:1' },
          { op: 'get', key: 'v:2' },
          { op: 'get', key: 'v:3' },
          { op: 'get', key: 'v:4' },
          { op: 'get', key: 'v:5' },
        ]),
      ).toEqual(['5', '9', '-2', '7', String(Number.MAX_SAFE_INTEGER)]);
    });

    it('max compares with an integer written by set', async () => {
      await backend.write([
        { op: 'set', key: 'v:1', value: '42' },
        { op: 'set', key: 'v:2', value: '-3' },
        { op: 'max', key: 'v:1', value: 7 },
        { op: 'max', key: 'v:2', value: 1 },
      ]);
      expect(
        await backend.read([
          { op: 'get', key: 'v:1' },
          { op: 'get', key: 'v:2' },
        ]),
      ).toEqual(['42', '1']);
    });

    it('max on a value that is not an integer rejects with a BackendError and changes nothing', async () => {
      await backend.write([
        { op: 'set', key: 'v:1', value: 'abc' },
        { op: 'set', key: 'v:2', value: '1.5' },
      ]);
      for (const key of ['v:1', 'v:2']) {
        const error = await rejection(backend.write([{ op: 'max', key, value: 1 }]));
        expect(BackendError.isInstance(error), String(error)).toBe(true);
      }
      expect(
        await backend.read([
          { op: 'get', key: 'v:1' },
          { op: 'get', key: 'v:2' },
        ]),
      ).toEqual(['abc', '1.5']);
    });

    it('stores the cardinality of a union of sets as an integer string', async () => {
      await backend.write([
        { op: 'setAdd', key: '1:s', members: ['a', 'b'] },
        { op: 'setAdd', key: '2:s', members: ['b', 'c'] },
        { op: 'storeCardinality', key: 'n:s', kind: 'set', sources: ['1:s', '2:s', 'none:s'] },
        { op: 'storeCardinality', key: 'one:s', kind: 'set', sources: ['1:s'] },
        { op: 'storeCardinality', key: 'zero:s', kind: 'set', sources: ['none:s'] },
      ]);
      expect(
        await backend.read([
          { op: 'get', key: 'n:s' },
          { op: 'get', key: 'one:s' },
          { op: 'get', key: 'zero:s' },
        ]),
      ).toEqual(['3', '2', '0']);
    });

    it('storeCardinality replaces whatever the destination held, its expiry included', async () => {
      await backend.write([
        { op: 'setAdd', key: '1:s', members: ['a', 'b'] },
        { op: 'setAdd', key: 'n:s', members: ['old'] },
        { op: 'expire', key: 'n:s', seconds: 100 },
      ]);
      await backend.write([{ op: 'storeCardinality', key: 'n:s', kind: 'set', sources: ['1:s'] }]);
      expect(
        await backend.read([
          { op: 'get', key: 'n:s' },
          { op: 'ttl', key: 'n:s' },
        ]),
      ).toEqual(['2', null]);
    });
  });
}
