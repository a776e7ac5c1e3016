import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BackendError, bit, InvalidArgumentError, MemoryBackend, type WriteOp } from '../src/index.js';
import { runBackendConformance, runNamespaceIsolation } from '../src/testing/index.js';

runBackendConformance('memory', () => new MemoryBackend());
runNamespaceIsolation('two memory backends', async () => [new MemoryBackend(), new MemoryBackend()]);

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the promise to reject');
}

/** Every key with its kind, value and time to live, read through the public interface. */
async function dump(backend: MemoryBackend): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const key of await backend.keys()) {
    const [ttl] = await backend.read([{ op: 'ttl', key }]);
    const attempts: Array<() => Promise<unknown>> = [
      async () => ['value', (await backend.read([{ op: 'get', key }]))[0]],
      async () => ['hash', [...(await backend.read([{ op: 'hashGetAll', key }]))[0]]],
      async () => ['set', (await backend.read([{ op: 'setMembers', keys: [key] }]))[0]],
      async () => ['bitmap', (await backend.read([{ op: 'bitmap', expr: bit.key(key) }]))[0].toArray()],
      async () => ['hll', (await backend.read([{ op: 'hllCount', keys: [key] }]))[0]],
    ];
    for (const attempt of attempts) {
      try {
        out[key] = { ttl, content: await attempt() };
        break;
      } catch {
        // another kind
      }
    }
  }
  return out;
}

describe('MemoryBackend: expiry on its clock', () => {
  it('keeps a key up to its deadline and drops it one millisecond later, as Redis does', async () => {
    let now = 1_000;
    const backend = new MemoryBackend({ now: () => now });
    await backend.write([
      { op: 'set', key: 'k', value: 'v' },
      { op: 'expire', key: 'k', seconds: 10 },
    ]);
    now = 10_999;
    expect(
      await backend.read([
        { op: 'get', key: 'k' },
        { op: 'ttl', key: 'k' },
      ]),
    ).toEqual(['v', 1]);
    now = 11_000;
    expect(
      await backend.read([
        { op: 'get', key: 'k' },
        { op: 'ttl', key: 'k' },
      ]),
    ).toEqual(['v', 0]);
    now = 11_001;
    expect(
      await backend.read([
        { op: 'get', key: 'k' },
        { op: 'ttl', key: 'k' },
        { op: 'exists', key: 'k' },
      ]),
    ).toEqual([null, null, false]);
    expect(await backend.keys()).toEqual([]);
  });

  it('counts the time to live from the clock at the write', async () => {
    let now = 5_000;
    const backend = new MemoryBackend({ now: () => now });
    await backend.write([
      { op: 'setAdd', key: 's', members: ['a'] },
      { op: 'expire', key: 's', seconds: 2 },
    ]);
    now = 6_500;
    expect(await backend.read([{ op: 'ttl', key: 's' }])).toEqual([500]);
  });

  it('a later expire moves the deadline, set clears it and max keeps it', async () => {
    let now = 0;
    const backend = new MemoryBackend({ now: () => now });
    await backend.write([
      { op: 'set', key: 'a', value: '1' },
      { op: 'expire', key: 'a', seconds: 100 },
      { op: 'expire', key: 'a', seconds: 3 },
      { op: 'set', key: 'b', value: '1' },
      { op: 'expire', key: 'b', seconds: 5 },
      { op: 'set', key: 'b', value: '2' },
      { op: 'max', key: 'c', value: 1 },
      { op: 'expire', key: 'c', seconds: 7 },
      { op: 'max', key: 'c', value: 9 },
      { op: 'max', key: 'c', value: 4 },
    ]);
    now = 1_000;
    expect(
      await backend.read([
        { op: 'ttl', key: 'a' },
        { op: 'ttl', key: 'b' },
        { op: 'ttl', key: 'c' },
        { op: 'get', key: 'c' },
      ]),
    ).toEqual([2_000, null, 6_000, '9']);
  });

  it('treats an expired key as missing everywhere: another kind of value may take its place', async () => {
    let now = 0;
    const backend = new MemoryBackend({ now: () => now });
    await backend.write([
      { op: 'set', key: 'k', value: 'text' },
      { op: 'expire', key: 'k', seconds: 1 },
      { op: 'set', key: 'guard', value: '1' },
      { op: 'expire', key: 'guard', seconds: 1 },
    ]);
    now = 1_001;
    await backend.write([{ op: 'increment', key: 'k', increments: [['f', 1]] }]);
    expect(
      await backend.write([{ op: 'set', key: 'after', value: '1' }], { atomic: true, unlessExists: 'guard' }),
    ).toBe(true);
    expect(
      await backend.read([
        { op: 'hashGetAll', key: 'k' },
        { op: 'ttl', key: 'k' },
      ]),
    ).toEqual([new Map([['f', 1]]), null]);
    expect(await backend.keys()).toEqual(['after', 'k']);
  });

  it('reads the clock once per call, so a batch cannot straddle a deadline', async () => {
    let ticks = 0;
    // A clock that moves one millisecond every time it is read.
    const backend = new MemoryBackend({ now: () => ticks++ });
    await backend.write([
      { op: 'set', key: 'k', value: 'v' },
      { op: 'expire', key: 'k', seconds: 1 },
    ]);
    const results = await backend.read(
      Array.from({ length: 2_000 }, () => ({ op: 'get', key: 'k' }) as const),
    );
    expect(new Set(results)).toEqual(new Set(['v']));
  });
});

describe('MemoryBackend: one step per call', () => {
  it('concurrent callers never observe a half-applied write', async () => {
    const backend = new MemoryBackend();
    const sums: number[] = [];
    await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        if (i % 2 === 0) {
          await backend.write([
            { op: 'increment', key: 'a', increments: [['n', 1]] },
            { op: 'increment', key: 'b', increments: [['n', -1]] },
          ]);
        } else {
          const [a, b] = await backend.read([
            { op: 'hashGet', key: 'a', field: 'n' },
            { op: 'hashGet', key: 'b', field: 'n' },
          ]);
          sums.push(a + b);
        }
      }),
    );
    expect(sums).toEqual(Array(100).fill(0));
    expect(await backend.read([{ op: 'hashGet', key: 'a', field: 'n' }])).toEqual([100]);
  });

  it('an atomic write is all or nothing, exactly when the same write without atomic would fail', async () => {
    // Few keys and members, so operations often meet (and empty) each other's values.
    const keys = ['k:1', 'k:2'];
    const key = fc.constantFrom(...keys);
    const members = fc.subarray(['a', 'b'], { minLength: 1 });
    const opArbitrary: fc.Arbitrary<WriteOp> = fc.oneof(
      fc.record({
        op: fc.constant('setBits' as const),
        key,
        offsets: fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 3 }),
        value: fc.boolean(),
      }),
      fc.record({
        op: fc.constant('increment' as const),
        key,
        increments: fc.array(
          fc.tuple(fc.constantFrom('f', 'g'), fc.constantFrom(1, -1, Number.MAX_SAFE_INTEGER)),
          { maxLength: 2 },
        ),
      }),
      fc.record({
        op: fc.constantFrom('setAdd' as const, 'setRemove' as const, 'hllAdd' as const),
        key,
        members,
      }),
      fc.record({ op: fc.constant('set' as const), key, value: fc.constantFrom('7', 'x', '-2') }),
      fc.record({ op: fc.constant('max' as const), key, value: fc.integer({ min: -5, max: 10 }) }),
      fc.record({
        op: fc.constant('storeCardinality' as const),
        key,
        kind: fc.constantFrom('set' as const, 'hll' as const),
        sources: fc.subarray(keys, { minLength: 1 }),
      }),
      fc.record({ op: fc.constant('delete' as const), keys: fc.subarray(keys) }),
      fc.record({ op: fc.constant('expire' as const), key, seconds: fc.integer({ min: 1, max: 9 }) }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(opArbitrary, { maxLength: 6 }),
        fc.array(opArbitrary, { minLength: 1, maxLength: 6 }),
        async (setup, ops) => {
          const atomic = new MemoryBackend({ now: () => 0 });
          const pipelined = new MemoryBackend({ now: () => 0 });
          for (const backend of [atomic, pipelined]) await backend.write(setup).catch(() => undefined);
          const before = await dump(atomic);
          const atomicError = await atomic.write(ops, { atomic: true }).then(
            () => undefined,
            (error: unknown) => error,
          );
          const pipelinedError = await pipelined.write(ops).then(
            () => undefined,
            (error: unknown) => error,
          );
          expect(atomicError === undefined).toBe(pipelinedError === undefined);
          if (atomicError === undefined) expect(await dump(atomic)).toEqual(await dump(pipelined));
          else {
            expect(BackendError.isInstance(atomicError)).toBe(true);
            expect((atomicError as Error).message).toBe((pipelinedError as Error).message);
            expect(await dump(atomic)).toEqual(before);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('an atomic write may reuse a key emptied earlier in the same write, as in Redis', async () => {
    const backend = new MemoryBackend();
    await backend.write([{ op: 'setAdd', key: 's:a', members: ['last'] }]);
    expect(
      await backend.write(
        [
          { op: 'setRemove', key: 's:a', members: ['last'] },
          { op: 'increment', key: 's:a', increments: [['f', 1]] },
        ],
        { atomic: true },
      ),
    ).toBe(true);
    expect(await backend.read([{ op: 'hashGetAll', key: 's:a' }])).toEqual([new Map([['f', 1]])]);
  });

  it('refuses to count past the safe integers, and an atomic write then applies nothing', async () => {
    const backend = new MemoryBackend();
    await backend.write([{ op: 'increment', key: 'h', increments: [['f', Number.MAX_SAFE_INTEGER]] }]);
    const error = await rejection(
      backend.write(
        [
          { op: 'set', key: 'v', value: '1' },
          { op: 'increment', key: 'h', increments: [['f', 1]] },
        ],
        { atomic: true },
      ),
    );
    expect(BackendError.isInstance(error)).toBe(true);
    expect(error.message).toBe(
      'ERR increment or decrement would overflow: "h" field "f" would leave the safe integer range',
    );
    expect(await backend.keys()).toEqual(['h']);
    expect(await backend.read([{ op: 'hashGet', key: 'h', field: 'f' }])).toEqual([Number.MAX_SAFE_INTEGER]);
  });
});

describe('MemoryBackend: errors and answers', () => {
  it('names the key and both kinds in a WRONGTYPE error', async () => {
    const backend = new MemoryBackend();
    await backend.write([{ op: 'setAdd', key: 'k', members: ['a'] }]);
    const error = await rejection(backend.read([{ op: 'hashGetAll', key: 'k' }]));
    expect(error.message).toBe(
      'WRONGTYPE Operation against a key holding the wrong kind of value: "k" holds a set, not a hash',
    );
  });

  it('max on text that is not an integer is an ERR, like Redis', async () => {
    const backend = new MemoryBackend();
    await backend.write([{ op: 'set', key: 'v', value: '12abc' }]);
    const error = await rejection(backend.write([{ op: 'max', key: 'v', value: 1 }]));
    expect(error.message).toBe('ERR value is not an integer: "v" holds "12abc"');
  });

  it('max reads integers with leading zeros as Redis does', async () => {
    const backend = new MemoryBackend();
    await backend.write([
      { op: 'set', key: 'a', value: '007' },
      { op: 'max', key: 'a', value: 5 },
      { op: 'set', key: 'b', value: '007' },
      { op: 'max', key: 'b', value: 8 },
    ]);
    expect(
      await backend.read([
        { op: 'get', key: 'a' },
        { op: 'get', key: 'b' },
      ]),
    ).toEqual(['007', '8']);
  });

  it('gives Redis 7’s own HyperLogLog estimates', async () => {
    const backend = new MemoryBackend();
    const users = (n: number) => Array.from({ length: n }, (_, i) => `user-${i}`);
    await backend.write([
      { op: 'hllAdd', key: 'h100', members: users(100) },
      { op: 'hllAdd', key: 'h10k', members: users(10_000) },
      { op: 'storeCardinality', key: 'stored', kind: 'hll', sources: ['h100', 'h10k'] },
    ]);
    expect(
      await backend.read([
        { op: 'hllCount', keys: ['h100'] },
        { op: 'hllCount', keys: ['h10k'] },
        { op: 'hllCount', keys: ['h100', 'h10k'] },
        { op: 'get', key: 'stored' },
      ]),
    ).toEqual([99, 9_957, 9_957, '9957']);
  });

  it('supports bitmaps and HyperLogLog, and nothing it does not know', async () => {
    const backend = new MemoryBackend();
    expect(await backend.supports('bitmaps')).toBe(true);
    expect(await backend.supports('hyperloglog')).toBe(true);
    expect(await backend.supports('streams' as never)).toBe(false);
  });

  it('never lets a returned bitmap, map or member list change with the store', async () => {
    const backend = new MemoryBackend();
    await backend.write([
      { op: 'setBits', key: 'b', offsets: [1] },
      { op: 'increment', key: 'h', increments: [['f', 1]] },
      { op: 'setAdd', key: 's', members: ['a'] },
    ]);
    const [bitmap, map, members] = await backend.read([
      { op: 'bitmap', expr: bit.key('b') },
      { op: 'hashGetAll', key: 'h' },
      { op: 'setMembers', keys: ['s'] },
    ]);
    bitmap.set(50, true);
    await backend.write([
      { op: 'setBits', key: 'b', offsets: [2] },
      { op: 'increment', key: 'h', increments: [['f', 1]] },
      { op: 'setAdd', key: 's', members: ['b'] },
    ]);
    expect(bitmap.toArray()).toEqual([1, 50]);
    expect(map.get('f')).toBe(1);
    expect(members).toEqual(['a']);
    expect(await backend.read([{ op: 'bitmap', expr: bit.key('b') }]).then(([b]) => b.toArray())).toEqual([
      1, 2,
    ]);
  });

  it('close releases the data and later calls reject', async () => {
    const backend = new MemoryBackend();
    await backend.write([{ op: 'set', key: 'k', value: 'v' }]);
    await backend.close();
    expect((await rejection(backend.keys())).message).toBe('the memory backend is closed');
  });
});

describe('write options', () => {
  it('rejects null options with an InvalidArgumentError', async () => {
    const backend = new MemoryBackend();
    await expect(backend.write([{ op: 'set', key: 'k', value: 'v' }], null as never)).rejects.toSatisfy(
      (e: unknown) => InvalidArgumentError.isInstance(e),
    );
    expect(await backend.keys()).toEqual([]);
  });
});
