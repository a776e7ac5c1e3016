/**
 * The backend conformance suite: one specification that every `Backend` must pass, run by
 * each backend's test file (memory, Redis, Redis Cluster, ioredis-mock) and available to
 * third-party backends as `@porpoise/storage/testing`.
 */
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, type TestContext } from 'vitest';
import type { Backend, BitExpr, Feature } from '../backend.js';
import { InvalidArgumentError, PorpoiseError } from '../errors.js';
import { bit } from '../expr.js';

export interface ConformanceOptions {
  /** Features known to be unsupported; their tests are skipped (the backend must also report them). */
  skip?: Feature[];
  /**
   * Tests to skip, by title, each with the reason (a known defect of an emulator, say).
   * Skipped tests are reported as skipped, never as passed.
   */
  knownDeviations?: Record<string, string>;
}

type Factory = () => Promise<Backend> | Backend;

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
}

/** A model of a bit expression over plain sets, obviously correct. */
function model(expr: BitExpr, data: Record<string, number[]>): Set<number> {
  switch (expr.op) {
    case 'key':
      return new Set(data[expr.key] ?? []);
    case 'and': {
      const [first, ...rest] = expr.args.map((a) => model(a, data));
      return new Set([...first!].filter((x) => rest.every((s) => s.has(x))));
    }
    case 'or':
      return new Set(expr.args.flatMap((a) => [...model(a, data)]));
    case 'xor': {
      const out = new Set<number>();
      for (const s of expr.args.map((a) => model(a, data))) {
        for (const x of s) {
          if (out.has(x)) out.delete(x);
          else out.add(x);
        }
      }
      return out;
    }
    case 'andnot': {
      const right = model(expr.args[1], data);
      return new Set([...model(expr.args[0], data)].filter((x) => !right.has(x)));
    }
    case 'not': {
      const inner = model(expr.args[0], data);
      const out = new Set<number>();
      for (let i = 0; i < expr.bits; i++) if (!inner.has(i)) out.add(i);
      return out;
    }
  }
}

export function runBackendConformance(
  name: string,
  makeBackend: Factory,
  options: ConformanceOptions = {},
): void {
  describe(`Backend conformance: ${name}`, () => {
    let backend: Backend;
    beforeEach(async (ctx) => {
      const reason = options.knownDeviations?.[ctx.task.name];
      if (reason !== undefined) ctx.skip(`${name}: ${reason}`);
      backend = await makeBackend();
    });
    afterEach(async () => {
      await backend?.close();
      backend = undefined as unknown as Backend;
    });

    const requires = async (ctx: TestContext, feature: Feature) => {
      if (options.skip?.includes(feature) || !(await backend.supports(feature))) {
        ctx.skip(`${name} does not support ${feature}`);
      }
    };

    describe('bitmaps', () => {
      it('sets and reads bits at chunk boundaries and the top of the id space', async (ctx) => {
        await requires(ctx, 'bitmaps');
        const offsets = [0, 7, 8, 65_535, 65_536, 2 ** 31, 2 ** 32 - 1];
        await backend.write([{ op: 'setBits', key: 'b:1', offsets }]);
        const reads = await backend.read([
          ...offsets.map((offset) => ({ op: 'getBit' as const, key: 'b:1', offset })),
          { op: 'getBit', key: 'b:1', offset: 1 },
          { op: 'getBit', key: 'b:missing', offset: 1 },
          { op: 'bitCount', expr: bit.key('b:1') },
          { op: 'bitmap', expr: bit.key('b:1') },
        ] as const);
        expect(reads.slice(0, offsets.length)).toEqual(offsets.map(() => true));
        expect(reads[offsets.length]).toBe(false);
        expect(reads[offsets.length + 1]).toBe(false);
        expect(reads[offsets.length + 2]).toBe(7);
        const bitmap = reads[offsets.length + 3] as import('../bitmap.js').Bitmap;
        expect(bitmap.toArray()).toEqual(offsets);
        expect(bitmap.has(65_536)).toBe(true);
        expect(bitmap.has(65_537)).toBe(false);
      });

      it('clears bits, and clearing a missing bitmap creates nothing', async (ctx) => {
        await requires(ctx, 'bitmaps');
        await backend.write([{ op: 'setBits', key: 'b:1', offsets: [1, 2, 3] }]);
        await backend.write([
          { op: 'setBits', key: 'b:1', offsets: [2], value: false },
          { op: 'setBits', key: 'b:none', offsets: [5], value: false },
        ]);
        const [count, has] = await backend.read([
          { op: 'bitCount', expr: bit.key('b:1') },
          { op: 'getBit', key: 'b:1', offset: 2 },
        ]);
        expect(count).toBe(2);
        expect(has).toBe(false);
        expect(await backend.keys()).toEqual(['b:1']);
      });

      it('setting an empty list of offsets creates nothing', async (ctx) => {
        await requires(ctx, 'bitmaps');
        await backend.write([{ op: 'setBits', key: 'b:1', offsets: [] }]);
        expect(await backend.keys()).toEqual([]);
      });

      it('evaluates AND, OR, XOR, ANDNOT and NOT with literal results', async (ctx) => {
        await requires(ctx, 'bitmaps');
        await backend.write([
          { op: 'setBits', key: 'b:a', offsets: [1, 2, 3, 100_000] },
          { op: 'setBits', key: 'b:b', offsets: [2, 3, 4] },
          { op: 'setBits', key: 'b:c', offsets: [3, 4, 5, 100_000] },
        ]);
        const a = bit.key('b:a');
        const b = bit.key('b:b');
        const c = bit.key('b:c');
        const exprs: BitExpr[] = [
          bit.and(a, b),
          bit.or(a, b, c),
          bit.xor(a, b, c),
          bit.andNot(a, b),
          bit.not(b, 6),
          bit.and(a, bit.or(b, c), bit.not(bit.xor(b, c), 10)),
          bit.and(a, bit.key('b:missing')),
          bit.or(bit.key('b:missing')),
        ];
        const results = await backend.read(exprs.map((expr) => ({ op: 'bitmap' as const, expr })));
        const counts = await backend.read(exprs.map((expr) => ({ op: 'bitCount' as const, expr })));
        const expected = [[2, 3], [1, 2, 3, 4, 5, 100_000], [1, 3, 5], [1, 100_000], [0, 1, 5], [3], [], []];
        expect(results.map((r) => r.toArray())).toEqual(expected);
        expect(counts).toEqual(expected.map((e) => e.length));
      });

      it('NOT stays inside its universe, including empty and unaligned universes', async (ctx) => {
        await requires(ctx, 'bitmaps');
        await backend.write([{ op: 'setBits', key: 'b:a', offsets: [0, 3, 65_536] }]);
        const a = bit.key('b:a');
        const counts = await backend.read([
          { op: 'bitCount', expr: bit.not(a, 0) },
          { op: 'bitCount', expr: bit.not(a, 1) },
          { op: 'bitCount', expr: bit.not(a, 9) },
          { op: 'bitCount', expr: bit.not(a, 65_537) },
          { op: 'bitCount', expr: bit.not(bit.key('b:missing'), 9) },
        ]);
        expect(counts).toEqual([0, 0, 7, 65_534, 9]);
        const [nine] = await backend.read([{ op: 'bitmap', expr: bit.not(a, 9) }]);
        expect(nine.toArray()).toEqual([1, 2, 4, 5, 6, 7, 8]);
      });

      it('counts NOT over the whole 2^32 id space without materialising it', async (ctx) => {
        await requires(ctx, 'bitmaps');
        await backend.write([{ op: 'setBits', key: 'b:a', offsets: [5, 2 ** 32 - 1] }]);
        const [count, inner] = await backend.read([
          { op: 'bitCount', expr: bit.not(bit.key('b:a'), 2 ** 32) },
          { op: 'bitCount', expr: bit.and(bit.key('b:a'), bit.not(bit.key('b:none'), 2 ** 32)) },
        ]);
        expect(count).toBe(2 ** 32 - 2);
        expect(inner).toBe(2);
      });

      it('nests expressions four deep', async (ctx) => {
        await requires(ctx, 'bitmaps');
        await backend.write([
          { op: 'setBits', key: 'b:a', offsets: [1, 2, 3, 4, 5, 6] },
          { op: 'setBits', key: 'b:b', offsets: [2, 4, 6] },
          { op: 'setBits', key: 'b:c', offsets: [3, 6] },
          { op: 'setBits', key: 'b:d', offsets: [6, 7] },
        ]);
        const expr = bit.or(
          bit.andNot(bit.and(bit.key('b:a'), bit.xor(bit.key('b:b'), bit.key('b:c'))), bit.key('b:d')),
          bit.key('b:d'),
        );
        const [result] = await backend.read([{ op: 'bitmap', expr }]);
        expect(result.toArray()).toEqual([2, 3, 4, 6, 7]);
      });

      it('agrees with a set model on random expressions', async (ctx) => {
        await requires(ctx, 'bitmaps');
        const keys = ['b:p', 'b:q', 'b:r'];
        const leaf = fc.constantFrom(...keys.map((k) => bit.key(k)), bit.key('b:absent'));
        const exprArb = fc.letrec<{ expr: BitExpr }>((tie) => ({
          expr: fc.oneof(
            { depthSize: 'small', withCrossShrink: true },
            leaf,
            fc.array(tie('expr'), { minLength: 1, maxLength: 3 }).map((args) => bit.and(...args)),
            fc.array(tie('expr'), { minLength: 1, maxLength: 3 }).map((args) => bit.or(...args)),
            fc.array(tie('expr'), { minLength: 1, maxLength: 3 }).map((args) => bit.xor(...args)),
            fc.tuple(tie('expr'), tie('expr')).map(([l, r]) => bit.andNot(l, r)),
            fc.tuple(tie('expr'), fc.integer({ min: 0, max: 70_000 })).map(([e, n]) => bit.not(e, n)),
          ),
        })).expr;
        const offsets = fc.array(
          fc.oneof(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 65_500, max: 65_600 })),
          {
            maxLength: 30,
          },
        );
        let round = 0;
        await fc.assert(
          fc.asyncProperty(
            fc.tuple(offsets, offsets, offsets),
            fc.array(exprArb, { minLength: 1, maxLength: 4 }),
            async (data, exprs) => {
              round++;
              const prefixed = keys.map((k) => `${k}${round}`);
              const rename = (e: BitExpr): BitExpr =>
                e.op === 'key'
                  ? bit.key(keys.includes(e.key) ? `${e.key}${round}` : e.key)
                  : e.op === 'not'
                    ? bit.not(rename(e.args[0]), e.bits)
                    : e.op === 'andnot'
                      ? bit.andNot(rename(e.args[0]), rename(e.args[1]))
                      : { op: e.op, args: e.args.map(rename) };
              await backend.write(
                prefixed.map((key, i) => ({ op: 'setBits' as const, key, offsets: data[i]! })),
              );
              const renamed = exprs.map(rename);
              const counts = await backend.read(renamed.map((expr) => ({ op: 'bitCount' as const, expr })));
              const maps = await backend.read(renamed.map((expr) => ({ op: 'bitmap' as const, expr })));
              const modelData = Object.fromEntries(prefixed.map((k, i) => [k, data[i]!]));
              renamed.forEach((expr, i) => {
                const expected = [...model(expr, modelData)].sort((x, y) => x - y);
                expect(counts[i]).toBe(expected.length);
                expect(maps[i]!.toArray()).toEqual(expected);
              });
            },
          ),
          { numRuns: 40 },
        );
      });

      it('sets 100k bits in one operation', async (ctx) => {
        await requires(ctx, 'bitmaps');
        const offsets = Array.from({ length: 100_000 }, (_, i) => i * 37);
        await backend.write([{ op: 'setBits', key: 'b:big', offsets }]);
        const [count, last] = await backend.read([
          { op: 'bitCount', expr: bit.key('b:big') },
          { op: 'getBit', key: 'b:big', offset: 99_999 * 37 },
        ]);
        expect(count).toBe(100_000);
        expect(last).toBe(true);
      });
    });

    describe('hash counters', () => {
      it('increments many fields, negative and to zero', async () => {
        await backend.write([
          {
            op: 'increment',
            key: 'h:1',
            increments: [
              ['a', 2],
              ['b', 5],
              ['a', 3],
            ],
          },
          {
            op: 'increment',
            key: 'h:1',
            increments: [
              ['b', -5],
              ['c', -2],
            ],
          },
        ]);
        const [all, a, b, missing, none] = await backend.read([
          { op: 'hashGetAll', key: 'h:1' },
          { op: 'hashGet', key: 'h:1', field: 'a' },
          { op: 'hashGet', key: 'h:1', field: 'b' },
          { op: 'hashGet', key: 'h:1', field: 'zzz' },
          { op: 'hashGetAll', key: 'h:none' },
        ]);
        expect(Object.fromEntries(all)).toEqual({ a: 5, b: 0, c: -2 });
        expect([a, b, missing]).toEqual([5, 0, 0]);
        expect(none.size).toBe(0);
      });

      it('treats __proto__ and constructor as ordinary fields', async () => {
        await backend.write([
          {
            op: 'increment',
            key: 'h:1',
            increments: [
              ['__proto__', 1],
              ['constructor', 2],
              ['toString', 3],
            ],
          },
        ]);
        const [all] = await backend.read([{ op: 'hashGetAll', key: 'h:1' }]);
        expect([...all.entries()].sort()).toEqual([
          ['__proto__', 1],
          ['constructor', 2],
          ['toString', 3],
        ]);
      });

      it('an empty increment list creates nothing', async () => {
        await backend.write([{ op: 'increment', key: 'h:1', increments: [] }]);
        expect(await backend.keys()).toEqual([]);
      });
    });

    describe('sets', () => {
      it('adds, removes, counts unions and lists members', async () => {
        await backend.write([
          { op: 'setAdd', key: 's:1', members: ['a', 'b', 'c'] },
          { op: 'setAdd', key: 's:2', members: ['c', 'd'] },
          { op: 'setRemove', key: 's:1', members: ['a', 'zzz'] },
        ]);
        const [one, union, members, has, hasNot, missing] = await backend.read([
          { op: 'setCardinality', keys: ['s:1'] },
          { op: 'setCardinality', keys: ['s:1', 's:2', 's:none'] },
          { op: 'setMembers', keys: ['s:2', 's:1'] },
          { op: 'setHas', key: 's:1', member: 'b' },
          { op: 'setHas', key: 's:1', member: 'a' },
          { op: 'setCardinality', keys: ['s:none'] },
        ]);
        expect([one, union]).toEqual([2, 3]);
        expect(members).toEqual(['b', 'c', 'd']);
        expect([has, hasNot, missing]).toEqual([true, false, 0]);
      });

      it('a set emptied by removal no longer exists', async () => {
        await backend.write([{ op: 'setAdd', key: 's:1', members: ['a'] }]);
        await backend.write([{ op: 'setRemove', key: 's:1', members: ['a'] }]);
        expect(await backend.keys()).toEqual([]);
      });

      it('replaces one member by another across two sets atomically', async () => {
        await backend.write([{ op: 'setAdd', key: 'anon:g', members: ['session-1', 'session-2'] }]);
        await backend.write(
          [
            { op: 'setRemove', key: 'anon:g', members: ['session-2'] },
            { op: 'setAdd', key: 'auth:g', members: ['123'] },
          ],
          { atomic: true },
        );
        const [anon, auth] = await backend.read([
          { op: 'setMembers', keys: ['anon:g'] },
          { op: 'setMembers', keys: ['auth:g'] },
        ]);
        expect(anon).toEqual(['session-1']);
        expect(auth).toEqual(['123']);
      });
    });

    describe('HyperLogLog', () => {
      it('counts tiny sets exactly and merges', async (ctx) => {
        await requires(ctx, 'hyperloglog');
        await backend.write([
          { op: 'hllAdd', key: 'x:1', members: ['a', 'b', 'c', 'a'] },
          { op: 'hllAdd', key: 'x:2', members: ['c', 'd'] },
        ]);
        const [one, merged, missing] = await backend.read([
          { op: 'hllCount', keys: ['x:1'] },
          { op: 'hllCount', keys: ['x:1', 'x:2', 'x:none'] },
          { op: 'hllCount', keys: ['x:none'] },
        ]);
        expect([one, merged, missing]).toEqual([3, 4, 0]);
      });

      it('estimates 10k members within 2%', async (ctx) => {
        await requires(ctx, 'hyperloglog');
        const members = Array.from({ length: 10_000 }, (_, i) => `user-${i}`);
        await backend.write([{ op: 'hllAdd', key: 'x:big', members }]);
        const [count] = await backend.read([{ op: 'hllCount', keys: ['x:big'] }]);
        expect(Math.abs(count - 10_000) / 10_000).toBeLessThan(0.02);
      });

      it('stores the merged estimate as a value', async (ctx) => {
        await requires(ctx, 'hyperloglog');
        await backend.write([
          { op: 'hllAdd', key: '1:x', members: ['a', 'b'] },
          { op: 'hllAdd', key: '2:x', members: ['b', 'c'] },
          { op: 'storeCardinality', key: 'n:x', kind: 'hll', sources: ['1:x', '2:x'] },
        ]);
        const [value] = await backend.read([{ op: 'get', key: 'n:x' }]);
        expect(value).toBe('3');
      });
    });

    describe('plain values', () => {
      it('sets, gets and raises a high-water mark', async () => {
        await backend.write([
          { op: 'set', key: 'v:s', value: 'hello' },
          { op: 'max', key: 'v:m', value: 5 },
          { op: 'max', key: 'v:m', value: 3 },
          { op: 'max', key: 'v:m2', value: 3 },
          { op: 'max', key: 'v:m2', value: 9 },
        ]);
        const values = await backend.read([
          { op: 'get', key: 'v:s' },
          { op: 'get', key: 'v:m' },
          { op: 'get', key: 'v:m2' },
          { op: 'get', key: 'v:none' },
        ]);
        expect(values).toEqual(['hello', '5', '9', null]);
      });

      it('stores the cardinality of a union of sets', async () => {
        await backend.write([
          { op: 'setAdd', key: '1:s', members: ['a', 'b'] },
          { op: 'setAdd', key: '2:s', members: ['b', 'c'] },
          { op: 'storeCardinality', key: 'n:s', kind: 'set', sources: ['1:s', '2:s', 'none:s'] },
          { op: 'storeCardinality', key: 'zero:s', kind: 'set', sources: ['none:s'] },
        ]);
        expect(
          await backend.read([
            { op: 'get', key: 'n:s' },
            { op: 'get', key: 'zero:s' },
          ]),
        ).toEqual(['3', '0']);
      });

      it('max on a non-integer value is a backend error', async () => {
        await backend.write([{ op: 'set', key: 'v:s', value: 'abc' }]);
        const error = await rejection(backend.write([{ op: 'max', key: 'v:s', value: 1 }]));
        expect(PorpoiseError.isInstance(error) && error.code).toBe('BACKEND_ERROR');
      });
    });

    describe('keys, existence, deletion and expiry', () => {
      it('reports existence and deletes keys of every kind', async (ctx) => {
        const bitmaps = await backend.supports('bitmaps');
        const ops = [
          { op: 'setAdd' as const, key: 'k:set', members: ['a'] },
          { op: 'increment' as const, key: 'k:hash', increments: [['f', 1]] as [string, number][] },
          { op: 'set' as const, key: 'k:value', value: 'v' },
        ];
        if (bitmaps) await backend.write([{ op: 'setBits', key: 'k:bits', offsets: [1, 70_000] }]);
        await backend.write(ops);
        const expected = ['k:hash', 'k:set', 'k:value', ...(bitmaps ? ['k:bits'] : [])].sort();
        expect(await backend.keys()).toEqual(expected);
        const exists = await backend.read(expected.map((key) => ({ op: 'exists' as const, key })));
        expect(exists.every(Boolean)).toBe(true);
        await backend.write([{ op: 'delete', keys: [...expected, 'k:none'] }]);
        expect(await backend.keys()).toEqual([]);
        expect(await backend.read([{ op: 'exists', key: 'k:set' }])).toEqual([false]);
        if (!bitmaps) ctx.annotate?.('bitmap keys not covered: unsupported');
      });

      it('sets an expiry and reports the time to live', async () => {
        await backend.write([
          { op: 'set', key: 'k:v', value: '1' },
          { op: 'expire', key: 'k:v', seconds: 60 },
          { op: 'expire', key: 'k:none', seconds: 60 },
        ]);
        const [ttl, none, persistent] = await backend.read([
          { op: 'ttl', key: 'k:v' },
          { op: 'ttl', key: 'k:none' },
          { op: 'ttl', key: 'k:none' },
        ]);
        expect(ttl).toBeGreaterThan(55_000);
        expect(ttl).toBeLessThanOrEqual(60_000);
        expect(none).toBeNull();
        expect(persistent).toBeNull();
        expect(await backend.keys()).toEqual(['k:v']);
      });

      it('a key without expiry has no time to live, and set clears an expiry', async () => {
        await backend.write([
          { op: 'set', key: 'k:v', value: '1' },
          { op: 'expire', key: 'k:v', seconds: 60 },
          { op: 'set', key: 'k:v', value: '2' },
        ]);
        expect(await backend.read([{ op: 'ttl', key: 'k:v' }])).toEqual([null]);
      });

      it('expires bitmaps as a whole', async (ctx) => {
        await requires(ctx, 'bitmaps');
        await backend.write([
          { op: 'setBits', key: 'k:b', offsets: [1, 200_000] },
          { op: 'expire', key: 'k:b', seconds: 30 },
        ]);
        const [ttl] = await backend.read([{ op: 'ttl', key: 'k:b' }]);
        expect(ttl).toBeGreaterThan(25_000);
      });
    });

    // Keys of one atomic write share their last segment (locality group): a Redis Cluster
    // can only apply a write atomically inside one slot.
    describe('atomic writes', () => {
      it('apply all or nothing when one operation hits the wrong type', async () => {
        await backend.write([{ op: 'set', key: 'v:a', value: 'text' }]);
        const error = await rejection(
          backend.write(
            [
              { op: 'setAdd', key: 's:a', members: ['x'] },
              { op: 'increment', key: 'v:a', increments: [['f', 1]] },
            ],
            { atomic: true },
          ),
        );
        expect(PorpoiseError.isInstance(error)).toBe(true);
        expect((error as Error).message).toMatch(/WRONGTYPE/);
        expect(await backend.keys()).toEqual(['v:a']);
        expect(await backend.read([{ op: 'get', key: 'v:a' }])).toEqual(['text']);
      });

      it('skip everything when the guard key exists', async () => {
        await backend.write([{ op: 'set', key: 'done:a', value: '1' }]);
        const applied = await backend.write([{ op: 'set', key: 'x:a', value: '1' }], {
          atomic: true,
          unlessExists: 'done:a',
        });
        expect(applied).toBe(false);
        expect(await backend.keys()).toEqual(['done:a']);
      });

      it('apply when the guard key is absent', async () => {
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
    });

    describe('wrong types', () => {
      it('reading a key as the wrong kind rejects with WRONGTYPE', async () => {
        await backend.write([{ op: 'setAdd', key: 'w:s', members: ['a'] }]);
        const error = await rejection(backend.read([{ op: 'hashGetAll', key: 'w:s' }]));
        expect(PorpoiseError.isInstance(error) && error.code).toBe('BACKEND_ERROR');
        expect((error as Error).message).toMatch(/WRONGTYPE/);
      });

      it('a failed expression read leaves no key behind', async (ctx) => {
        await requires(ctx, 'bitmaps');
        await backend.write([
          { op: 'setBits', key: 'w:b', offsets: [1, 2] },
          { op: 'setAdd', key: 'w:s', members: ['a'] },
        ]);
        const error = await rejection(
          backend.read([{ op: 'bitCount', expr: bit.and(bit.key('w:b'), bit.key('w:s')) }]),
        );
        expect((error as Error).message).toMatch(/WRONGTYPE/);
        expect(await backend.keys()).toEqual(['w:b', 'w:s']);
      });
    });

    describe('batches', () => {
      it('returns read results in the order of the operations', async () => {
        await backend.write([
          { op: 'set', key: 'o:1', value: 'one' },
          { op: 'setAdd', key: 'o:2', members: ['m'] },
        ]);
        expect(
          await backend.read([
            { op: 'setCardinality', keys: ['o:2'] },
            { op: 'get', key: 'o:1' },
            { op: 'exists', key: 'o:3' },
          ]),
        ).toEqual([1, 'one', false]);
      });

      it('takes 10k operations in one write', async () => {
        const ops = Array.from({ length: 10_000 }, (_, i) => ({
          op: 'increment' as const,
          key: `n:${i % 10}`,
          increments: [[`f${i % 7}`, 1]] as [string, number][],
        }));
        await backend.write(ops);
        const all = await backend.read(
          Array.from({ length: 10 }, (_, i) => ({ op: 'hashGetAll' as const, key: `n:${i}` })),
        );
        const total = all.reduce((sum, map) => sum + [...map.values()].reduce((a, b) => a + b, 0), 0);
        expect(total).toBe(10_000);
      });

      it('gives the same totals under 100 concurrent writers', async () => {
        await Promise.all(
          Array.from({ length: 100 }, (_, i) =>
            backend.write([
              { op: 'increment', key: 'c:1', increments: [['n', 1]] },
              { op: 'setAdd', key: 'c:s', members: [`m${i % 10}`] },
            ]),
          ),
        );
        expect(
          await backend.read([
            { op: 'hashGet', key: 'c:1', field: 'n' },
            { op: 'setCardinality', keys: ['c:s'] },
          ]),
        ).toEqual([100, 10]);
      });
    });

    describe('invalid arguments are rejected before anything is written', () => {
      const badWrites: Array<[string, unknown, unknown?]> = [
        ['a key with braces', [{ op: 'set', key: 'a{b}', value: '1' }]],
        ['a key with a space', [{ op: 'set', key: 'a b', value: '1' }]],
        ['an empty key', [{ op: 'set', key: '', value: '1' }]],
        ['an empty key segment', [{ op: 'set', key: 'a::b', value: '1' }]],
        ['a negative offset', [{ op: 'setBits', key: 'b', offsets: [-1] }]],
        ['a fractional offset', [{ op: 'setBits', key: 'b', offsets: [1.5] }]],
        ['a NaN offset', [{ op: 'setBits', key: 'b', offsets: [Number.NaN] }]],
        ['an offset of 2^32', [{ op: 'setBits', key: 'b', offsets: [2 ** 32] }]],
        ['an unknown op', [{ op: 'frobnicate', key: 'b' }]],
        ['an unsafe increment', [{ op: 'increment', key: 'h', increments: [['f', 2 ** 53]] }]],
        ['a fractional increment', [{ op: 'increment', key: 'h', increments: [['f', 0.5]] }]],
        ['an empty member', [{ op: 'setAdd', key: 's', members: [''] }]],
        ['a zero expiry', [{ op: 'expire', key: 's', seconds: 0 }]],
        [
          'storeCardinality without sources',
          [{ op: 'storeCardinality', key: 'v', kind: 'set', sources: [] }],
        ],
        ['unlessExists without atomic', [{ op: 'set', key: 'a', value: '1' }], { unlessExists: 'g' }],
      ];
      it.each(badWrites)('write: %s', async (_name, ops, writeOptions) => {
        const error = await rejection(
          backend.write(
            [{ op: 'set', key: 'ok', value: '1' }, ...(Array.isArray(ops) ? ops : [ops])] as never,
            writeOptions as never,
          ),
        );
        expect(InvalidArgumentError.isInstance(error)).toBe(true);
        expect((error as InvalidArgumentError).code).toBe('INVALID_ARGUMENT');
        expect(await backend.keys()).toEqual([]);
      });

      it('write: a non-array batch', async () => {
        const error = await rejection(backend.write({ op: 'set', key: 'a', value: '1' } as never));
        expect(InvalidArgumentError.isInstance(error)).toBe(true);
      });

      const badReads: Array<[string, unknown]> = [
        [
          'andnot with three operands',
          { op: 'bitCount', expr: { op: 'andnot', args: [bit.key('a'), bit.key('b'), bit.key('c')] } },
        ],
        [
          'not with a negative universe',
          { op: 'bitCount', expr: { op: 'not', args: [bit.key('a')], bits: -1 } },
        ],
        ['and without operands', { op: 'bitCount', expr: { op: 'and', args: [] } }],
        ['an unknown expression op', { op: 'bitCount', expr: { op: 'nand', args: [bit.key('a')] } }],
        ['getBit past 2^32', { op: 'getBit', key: 'a', offset: 2 ** 32 }],
        ['an empty key list', { op: 'setCardinality', keys: [] }],
        ['an unknown read op', { op: 'peek', key: 'a' }],
      ];
      it.each(badReads)('read: %s', async (_name, op) => {
        const error = await rejection(backend.read([op] as never));
        expect(InvalidArgumentError.isInstance(error)).toBe(true);
        expect(await backend.keys()).toEqual([]);
      });
    });
  });
}

/** Two backends from `makePair` (e.g. two Redis prefixes on one server) never see each other's keys. */
export function runNamespaceIsolation(name: string, makePair: () => Promise<[Backend, Backend]>): void {
  describe(`Namespace isolation: ${name}`, () => {
    it('keeps the two namespaces apart for every kind of data', async () => {
      const [a, b] = await makePair();
      try {
        await a.write([
          { op: 'set', key: 'shared:v', value: 'from-a' },
          { op: 'setAdd', key: 'shared:s', members: ['x'] },
          { op: 'increment', key: 'shared:h', increments: [['f', 1]] },
        ]);
        expect(await b.keys()).toEqual([]);
        expect(
          await b.read([
            { op: 'get', key: 'shared:v' },
            { op: 'setCardinality', keys: ['shared:s'] },
            { op: 'hashGet', key: 'shared:h', field: 'f' },
          ]),
        ).toEqual([null, 0, 0]);
        await b.write([{ op: 'delete', keys: ['shared:v', 'shared:s', 'shared:h'] }]);
        expect(await a.keys()).toEqual(['shared:h', 'shared:s', 'shared:v']);
      } finally {
        await a.write([{ op: 'delete', keys: await a.keys() }]);
        await a.close();
        await b.close();
      }
    });
  });
}
