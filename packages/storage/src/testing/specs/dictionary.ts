/** Id dictionaries: resolveIds, lookupIds and linkIds (see ../../dictionary.ts). */
import { beforeEach, describe, expect, it } from 'vitest';
import type { Backend } from '../../backend.js';
import { dictionaryIntegersBelow } from '../../dictionary.js';
import { expectInvalidArgument, rejection, type Suite } from '../harness.js';

type DictionaryBackend = Required<Pick<Backend, 'resolveIds' | 'lookupIds' | 'linkIds' | 'keys' | 'write'>>;

const ONE_SHARD = { create: { shards: 1, buckets: 4 } };

export function dictionarySpec(suite: Suite): void {
  describe('id dictionaries', () => {
    let backend: DictionaryBackend;
    beforeEach(() => {
      backend = suite.backend as DictionaryBackend;
    });

    it('gives new ids the next free integers in first-seen order, and the same id the same integer', async () => {
      expect(await backend.resolveIds('d', ['a', 'b', 'c'], ONE_SHARD)).toEqual([0, 1, 2]);
      expect(await backend.resolveIds('d', ['c', 'd', 'a', 'd'], ONE_SHARD)).toEqual([2, 3, 0, 3]);
    });

    it('answers an empty batch with an empty list and creates nothing', async () => {
      expect(await backend.resolveIds('d', [])).toEqual([]);
      expect(await backend.lookupIds('d', [])).toEqual([]);
      expect(await backend.keys()).toEqual([]);
    });

    it('looks integers up, null for one never handed out', async () => {
      await backend.resolveIds('d', ['x', 'y'], ONE_SHARD);
      expect(await backend.lookupIds('d', [1, 0, 2, 1, 9_999])).toEqual(['y', 'x', null, 'y', null]);
    });

    it('without assign, answers null for unknown ids and assigns nothing', async () => {
      await backend.resolveIds('d', ['known'], ONE_SHARD);
      expect(await backend.resolveIds('d', ['new', 'known'], { assign: false })).toEqual([null, 0]);
      expect(await backend.resolveIds('d', ['other'])).toEqual([1]);
      expect(await backend.lookupIds('d', [1])).toEqual(['other']);
    });

    it('keeps the parameters the dictionary was created with', async () => {
      await backend.resolveIds('d', ['a'], ONE_SHARD);
      expect(await backend.resolveIds('d', ['b', 'c'], { create: { shards: 8 } })).toEqual([1, 2]);
    });

    it('hands out unique integers that stay dense over many shards, in one batch and across batches', async () => {
      const ids = Array.from({ length: 3_000 }, (_, i) => `user-${i}@example.com`);
      const first = await backend.resolveIds('d', ids.slice(0, 2_000), { create: { shards: 8 } });
      const second = await backend.resolveIds('d', ids.slice(1_000), { create: { shards: 8 } });
      expect(second.slice(0, 1_000)).toEqual(first.slice(1_000));
      const all = [...first, ...second.slice(1_000)] as number[];
      expect(new Set(all).size).toBe(3_000);
      // 8 shards of ~375 ids: the largest integer stays within a few percent of the count.
      expect(Math.max(...all)).toBeLessThan(3_000 * 1.25);
      expect(await backend.lookupIds('d', all)).toEqual(ids);
    });

    it('counts the integers handed out below a bound', async () => {
      expect(await dictionaryIntegersBelow(suite.backend, 'd', 100)).toBe(0);
      const ints = (await backend.resolveIds('d', ['a', 'b', 'c', 'd', 'e', 'f', 'g'], {
        create: { shards: 4 },
      })) as number[];
      for (const bound of [0, 1, 3, 5, 8, 13, 100]) {
        expect(await dictionaryIntegersBelow(suite.backend, 'd', bound)).toBe(
          ints.filter((n) => n < bound).length,
        );
      }
    });

    it('keeps text ids apart whatever they hold', async () => {
      const ids = ['é☃😀', '{braces}', 'with space', 'a:b', '%3A', '0', '__proto__', 'x'.repeat(200)];
      const ints = await backend.resolveIds('d', ids, ONE_SHARD);
      expect(ints).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      expect(await backend.lookupIds('d', ints as number[])).toEqual(ids);
    });

    it('keeps two dictionaries apart', async () => {
      await backend.resolveIds('one', ['a', 'b'], ONE_SHARD);
      expect(await backend.resolveIds('two', ['b'], ONE_SHARD)).toEqual([0]);
      expect(await backend.lookupIds('two', [0, 1])).toEqual(['b', null]);
    });

    it('stores a dictionary under ordinary logical keys that keys() lists', async () => {
      await backend.resolveIds('d', ['a', 'b'], { create: { shards: 2, buckets: 1 } });
      const keys = await backend.keys();
      expect(keys.every((key) => key.startsWith('dict:d:'))).toBe(true);
      expect(keys).toContain('dict:d:config:d');
      expect(keys.filter((key) => key.startsWith('dict:d:state:')).length).toBeGreaterThan(0);
      await backend.write([{ op: 'delete', keys }]);
      expect(await backend.keys()).toEqual([]);
    });

    it('agrees with concurrent batches of overlapping ids: every id one integer, none shared', async () => {
      const batches = Array.from({ length: 4 }, (_, b) =>
        Array.from({ length: 300 }, (_, i) => `id-${(i * 7 + b * 100) % 600}`),
      );
      const results = await Promise.all(batches.map((ids) => backend.resolveIds('d', ids)));
      const seen = new Map<string, number>();
      for (const [b, ids] of batches.entries()) {
        for (const [i, id] of ids.entries()) {
          const n = results[b]![i]!;
          expect(seen.get(id) ?? n).toBe(n);
          seen.set(id, n);
        }
      }
      expect(new Set(seen.values()).size).toBe(seen.size);
    });

    describe('link', () => {
      it('a new user id takes over the anonymous id’s integer, and the integer reports the user', async () => {
        await backend.resolveIds('d', ['other', 'anon'], ONE_SHARD);
        expect(await backend.linkIds('d', 'anon', 'user')).toEqual({ outcome: 'took-over', id: 1 });
        expect(await backend.resolveIds('d', ['user', 'anon'])).toEqual([1, 1]);
        expect(await backend.lookupIds('d', [1])).toEqual(['user']);
      });

      it('an anonymous id never seen before is assigned first, then taken over', async () => {
        await backend.resolveIds('d', ['other'], ONE_SHARD);
        expect(await backend.linkIds('d', 'anon', 'user')).toEqual({ outcome: 'took-over', id: 1 });
        expect(await backend.resolveIds('d', ['anon', 'user'])).toEqual([1, 1]);
      });

      it('when both exist, the anonymous id resolves to the user’s integer and its own keeps its history', async () => {
        await backend.resolveIds('d', ['user', 'anon'], ONE_SHARD);
        expect(await backend.linkIds('d', 'anon', 'user')).toEqual({ outcome: 'redirected', id: 0 });
        expect(await backend.resolveIds('d', ['anon', 'user'])).toEqual([0, 0]);
        expect(await backend.lookupIds('d', [0, 1])).toEqual(['user', 'anon']);
      });

      it('is idempotent', async () => {
        await backend.resolveIds('d', ['anon'], ONE_SHARD);
        await backend.linkIds('d', 'anon', 'user');
        expect(await backend.linkIds('d', 'anon', 'user')).toEqual({ outcome: 'unchanged', id: 0 });
        await backend.resolveIds('d', ['u2', 'a2']);
        await backend.linkIds('d', 'a2', 'u2');
        expect(await backend.linkIds('d', 'a2', 'u2')).toEqual({ outcome: 'unchanged', id: 1 });
        expect(await backend.resolveIds('d', ['anon', 'user', 'a2', 'u2'])).toEqual([0, 0, 1, 1]);
        expect(await backend.lookupIds('d', [0, 1, 2])).toEqual(['user', 'u2', 'a2']);
      });

      it('an anonymous id linked away cannot hand its integer to a second user: that one gets its own', async () => {
        await backend.resolveIds('d', ['anon'], ONE_SHARD);
        await backend.linkIds('d', 'anon', 'first');
        expect(await backend.linkIds('d', 'anon', 'second')).toEqual({ outcome: 'redirected', id: 1 });
        expect(await backend.resolveIds('d', ['first', 'second', 'anon'])).toEqual([0, 1, 1]);
        expect(await backend.lookupIds('d', [0, 1])).toEqual(['first', 'second']);
      });

      it('chains: a user id can itself be taken over by a newer id', async () => {
        await backend.resolveIds('d', ['a'], ONE_SHARD);
        await backend.linkIds('d', 'a', 'b');
        expect(await backend.linkIds('d', 'b', 'c')).toEqual({ outcome: 'took-over', id: 0 });
        expect(await backend.resolveIds('d', ['a', 'b', 'c'])).toEqual([0, 0, 0]);
        expect(await backend.lookupIds('d', [0])).toEqual(['c']);
      });

      it('works across shards', async () => {
        const pairs = Array.from({ length: 20 }, (_, i) => [`anon-${i}`, `user-${i}`] as const);
        const anon = await backend.resolveIds(
          'd',
          pairs.map(([a]) => a),
          { create: { shards: 4 } },
        );
        for (const [a, u] of pairs) await backend.linkIds('d', a, u);
        expect(
          await backend.resolveIds(
            'd',
            pairs.map(([, u]) => u),
          ),
        ).toEqual(anon);
        expect(await backend.lookupIds('d', anon as number[])).toEqual(pairs.map(([, u]) => u));
      });

      it('refuses linking an id to itself', async () => {
        expectInvalidArgument(await rejection(backend.linkIds('d', 'same', 'same')));
        expect(await backend.keys()).toEqual([]);
      });
    });

    describe('invalid arguments', () => {
      const bad: Array<[string, unknown]> = [
        ['an empty id', ''],
        ['a lone surrogate', 'a\ud800'],
        ['a control character', 'a\u0000b'],
        ['a number', 12],
        ['null', null],
        ['an id over 200 characters', 'x'.repeat(201)],
      ];
      for (const [what, id] of bad) {
        it(`resolveIds rejects ${what} with InvalidArgumentError and assigns nothing`, async () => {
          expectInvalidArgument(await rejection(backend.resolveIds('d', ['fine', id as string])));
          expect(await backend.keys()).toEqual([]);
        });
      }

      it('rejects bad dictionary names, integers and links before anything is written', async () => {
        for (const name of ['', 'a:b', 'has space', 'x'.repeat(65), 7]) {
          expectInvalidArgument(await rejection(backend.resolveIds(name as string, ['a'])));
        }
        for (const n of [-1, 1.5, Number.NaN, 2 ** 53, '1']) {
          expectInvalidArgument(await rejection(backend.lookupIds('d', [0, n as number])));
        }
        expectInvalidArgument(await rejection(backend.resolveIds('d', 'abc' as never)));
        expectInvalidArgument(await rejection(backend.resolveIds('d', ['a'], { create: { shards: 0 } })));
        expectInvalidArgument(await rejection(backend.resolveIds('d', ['a'], { assign: 'yes' as never })));
        expectInvalidArgument(await rejection(backend.linkIds('d', '', 'user')));
        expectInvalidArgument(await rejection(backend.linkIds('d', 'anon', 'u\udc00')));
        expect(await backend.keys()).toEqual([]);
      });
    });
  });
}
