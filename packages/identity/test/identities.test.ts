import { type Backend, InvalidArgumentError, MemoryBackend, UnsupportedError } from '@porpoise/storage';
import { describeEachBackend } from '@porpoise/test-backends';
import { describe, expect, it } from 'vitest';
import { Identities } from '../src/index.js';

/** A backend that counts the dictionary calls it passes on. */
function counting(backend: Backend) {
  const calls = { resolve: 0, lookup: 0 };
  const wrapped: Backend = {
    name: backend.name,
    read: (ops) => backend.read(ops),
    write: (ops, options) => backend.write(ops, options),
    supports: (feature) => backend.supports(feature),
    keys: () => backend.keys(),
    close: () => backend.close(),
    resolveIds: (...args) => {
      calls.resolve++;
      return backend.resolveIds!(...args);
    },
    lookupIds: (...args) => {
      calls.lookup++;
      return backend.lookupIds!(...args);
    },
    linkIds: (...args) => backend.linkIds!(...args),
  };
  return { backend: wrapped, calls };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describeEachBackend(
  (make) => {
    it('gives each new id the next free integer, and the same id the same integer', async () => {
      const ids = new Identities(make(), { shards: 1 });
      expect(await ids.resolve(['alice', 'bob', 'alice'])).toEqual([0, 1, 0]);
      expect(await ids.resolve(['carol', 'bob'])).toEqual([2, 1]);
      expect(await ids.resolveOne('dave')).toBe(3);
    });

    it('treats 123 and "123" as one id, and reads it back as "123"', async () => {
      const ids = new Identities(make(), { shards: 1 });
      expect(await ids.resolve([123, '123', 0, '0'])).toEqual([0, 0, 1, 1]);
      expect(await ids.lookup([0, 1, 2])).toEqual(['123', '0', null]);
    });

    it('peek never assigns', async () => {
      const backend = make();
      const ids = new Identities(backend, { shards: 1 });
      await ids.resolve(['known']);
      expect(await ids.peek(['known', 'unknown', 'unknown'])).toEqual([0, null, null]);
      expect(await new Identities(backend, { cacheSize: 0 }).peek(['unknown'])).toEqual([null]);
      expect(await ids.resolve(['next'])).toEqual([1]);
    });

    it('keeps dictionaries with different prefixes apart', async () => {
      const backend = make();
      const a = new Identities(backend, { prefix: 'a', shards: 1 });
      const b = new Identities(backend, { prefix: 'b', shards: 1 });
      await a.resolve(['x', 'y']);
      expect(await b.resolve(['y'])).toEqual([0]);
      expect(await b.lookup([0, 1])).toEqual(['y', null]);
    });

    it('stays dense: after N ids the largest integer is below N + 4·sqrt(N·S) + S', async () => {
      const ids = new Identities(make());
      const n = 20_000;
      const all = await ids.resolve(Array.from({ length: n }, (_, i) => `visitor-${i}`));
      expect(new Set(all).size).toBe(n);
      expect(Math.max(...all)).toBeLessThan(n + 4 * Math.sqrt(n * 32) + 32);
    });

    it('link: a signup takes over the visitor’s integer; later resolves of either give it', async () => {
      const backend = make();
      const web = new Identities(backend);
      const api = new Identities(backend);
      const [visitor] = await web.resolve(['anon-1']);
      expect(await web.link('anon-1', 'user@example.com')).toEqual({ outcome: 'took-over', id: visitor });
      expect(await api.resolve(['user@example.com', 'anon-1'])).toEqual([visitor, visitor]);
      expect(await api.lookup([visitor!])).toEqual(['user@example.com']);
      expect(await web.lookup([visitor!])).toEqual(['user@example.com']);
    });

    it('link of two known ids redirects the anonymous id; its integer keeps its history', async () => {
      const ids = new Identities(make(), { shards: 1 });
      await ids.resolve(['user', 'anon']);
      expect(await ids.link('anon', 'user')).toEqual({ outcome: 'redirected', id: 0 });
      expect(await ids.resolve(['anon'])).toEqual([0]);
      expect(await ids.lookup([0, 1])).toEqual(['user', 'anon']);
      expect(await ids.link('anon', 'user')).toEqual({ outcome: 'unchanged', id: 0 });
    });

    describe('bad input: InvalidArgumentError, nothing assigned', () => {
      const bad: Array<[string, unknown]> = [
        ['an empty string', ''],
        ['a lone surrogate', '\udfff'],
        ['an object', {}],
        ['a boolean', true],
        ['a negative number', -1],
        ['a fraction', 1.5],
        ['NaN', Number.NaN],
        ['-0', -0],
        ['2^53', 2 ** 53],
      ];
      for (const [what, id] of bad) {
        it(`rejects ${what}`, async () => {
          const backend = make();
          const ids = new Identities(backend);
          const error = await rejection(ids.resolve(['fine', id as string]));
          expect(InvalidArgumentError.isInstance(error)).toBe(true);
          expect(await rejection(ids.peek([id as string]))).toBeInstanceOf(InvalidArgumentError);
          expect(await rejection(ids.link(id as string, 'user'))).toBeInstanceOf(InvalidArgumentError);
          expect(await backend.keys()).toEqual([]);
        });
      }

      it('rejects integers that are not safe and non-negative in lookup', async () => {
        const ids = new Identities(make());
        for (const n of [-1, 0.5, 2 ** 53, '1']) {
          expect(await rejection(ids.lookup([n as number]))).toBeInstanceOf(InvalidArgumentError);
        }
      });
    });
  },
  { mock: true },
);

describe('Identities: the cache', () => {
  it('answers known ids without a round trip', async () => {
    const { backend, calls } = counting(new MemoryBackend());
    const ids = new Identities(backend);
    await ids.resolve(['a', 'b', 7]);
    expect(calls.resolve).toBe(1);
    expect(await ids.resolve(['b', 7, 'a', '7'])).toEqual(await ids.resolve(['b', 7, 'a', '7']));
    expect(calls.resolve).toBe(1);
    const ints = await ids.resolve(['a', 'b']);
    await ids.lookup(ints);
    await ids.lookup(ints);
    expect(calls.lookup).toBe(1);
  });

  it('asks only for the ids it does not know, in one round trip per batch', async () => {
    const { backend, calls } = counting(new MemoryBackend());
    const ids = new Identities(backend, { shards: 1 });
    await ids.resolve(['a']);
    expect(await ids.resolve(['a', 'b', 'c', 'b'])).toEqual([0, 1, 2, 1]);
    expect(calls.resolve).toBe(2);
  });

  it('is bounded by cacheSize', async () => {
    const { backend, calls } = counting(new MemoryBackend());
    const ids = new Identities(backend, { cacheSize: 2 });
    await ids.resolve(['a', 'b', 'c']);
    await ids.resolve(['b', 'c']);
    expect(calls.resolve).toBe(1);
    await ids.resolve(['a']);
    expect(calls.resolve).toBe(2);
  });

  it('with cacheSize 0 asks the backend every time', async () => {
    const { backend, calls } = counting(new MemoryBackend());
    const ids = new Identities(backend, { cacheSize: 0 });
    await ids.resolve(['a']);
    await ids.resolve(['a']);
    expect(calls.resolve).toBe(2);
  });

  it('another process’s link is seen once cacheTtl has passed', async () => {
    let now = 10_000;
    const backend = new MemoryBackend();
    const here = new Identities(backend, { shards: 1, cacheTtl: 1_000, now: () => now });
    const there = new Identities(backend, { shards: 1 });
    await here.resolve(['user', 'anon']);
    expect(await here.lookup([0, 1])).toEqual(['user', 'anon']);
    await there.link('anon', 'user');
    now = 11_000;
    expect(await here.resolve(['anon'])).toEqual([1]);
    now = 11_001;
    expect(await here.resolve(['anon'])).toEqual([0]);
  });

  it('a takeover keeps cached ids right and refreshes the integer’s owner after cacheTtl', async () => {
    let now = 10_000;
    const backend = new MemoryBackend();
    const here = new Identities(backend, { shards: 1, cacheTtl: 1_000, now: () => now });
    const there = new Identities(backend, { shards: 1 });
    await here.resolve(['anon']);
    expect(await here.lookup([0])).toEqual(['anon']);
    await there.link('anon', 'user');
    expect(await here.resolve(['anon', 'user'])).toEqual([0, 0]);
    now = 11_001;
    expect(await here.lookup([0])).toEqual(['user']);
  });

  it('the linking process sees its own link at once', async () => {
    const ids = new Identities(new MemoryBackend(), { shards: 1 });
    await ids.resolve(['user', 'anon']);
    await ids.lookup([0, 1]);
    await ids.link('anon', 'user');
    expect(await ids.resolve(['anon'])).toEqual([0]);
  });
});

describe('Identities: construction', () => {
  it('refuses a backend without dictionaries with UnsupportedError', () => {
    const { resolveIds: _r, lookupIds: _l, linkIds: _k, ...rest } = counting(new MemoryBackend()).backend;
    expect(() => new Identities(rest as Backend)).toThrow(UnsupportedError);
  });

  it('checks its options', () => {
    const backend = new MemoryBackend();
    for (const options of [{ prefix: 'a:b' }, { cacheSize: -1 }, { cacheTtl: 1.5 }, { now: 5 }]) {
      expect(() => new Identities(backend, options as never)).toThrow(InvalidArgumentError);
    }
    expect(() => new Identities({} as never)).toThrow(InvalidArgumentError);
  });

  it('checks shards and buckets when it would create the dictionary', async () => {
    const ids = new Identities(new MemoryBackend(), { shards: 0 });
    expect(await rejection(ids.resolve(['a']))).toBeInstanceOf(InvalidArgumentError);
  });
});

describe('Identities: batching', () => {
  it('merges the misses of calls made in the same tick into one backend call', async () => {
    const { backend, calls } = counting(new MemoryBackend());
    const ids = new Identities(backend, { shards: 1 });
    const results = await Promise.all([
      ids.resolve(['a', 'b']),
      ids.resolve(['b', 'c']),
      ids.resolveOne('d'),
    ]);
    expect(results).toEqual([[0, 1], [1, 2], 3]);
    expect(calls.resolve).toBe(1);
    expect(await Promise.all([ids.peek(['a', 'x']), ids.peek(['y'])])).toEqual([[0, null], [null]]);
    expect(calls.resolve).toBe(2);
  });

  it('a bad id fails only its own call', async () => {
    const ids = new Identities(new MemoryBackend(), { shards: 1 });
    const [bad, good] = await Promise.allSettled([ids.resolve(['']), ids.resolve(['a'])]);
    expect(bad.status).toBe('rejected');
    expect(good).toEqual({ status: 'fulfilled', value: [0] });
  });
});
