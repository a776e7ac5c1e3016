/**
 * Obviously correct models the conformance suite compares backends against: bit expressions
 * over plain `Set<number>`s, a store of counters and sets, and random expressions for property
 * tests.
 */
import fc from 'fast-check';
import type { BitExpr, WriteOp } from '../backend.js';
import { bit } from '../expr.js';

/** The offsets an expression yields, from plain sets (missing keys are empty). */
export function evaluateModel(expr: BitExpr, data: ReadonlyMap<string, ReadonlySet<number>>): Set<number> {
  switch (expr.op) {
    case 'key':
      return new Set(data.get(expr.key));
    case 'and': {
      const [first, ...rest] = expr.args.map((arg) => evaluateModel(arg, data));
      return new Set([...(first ?? [])].filter((x) => rest.every((set) => set.has(x))));
    }
    case 'or':
      return new Set(expr.args.flatMap((arg) => [...evaluateModel(arg, data)]));
    case 'xor': {
      const out = new Set<number>();
      for (const set of expr.args.map((arg) => evaluateModel(arg, data))) {
        for (const x of set) {
          if (out.has(x)) out.delete(x);
          else out.add(x);
        }
      }
      return out;
    }
    case 'andnot': {
      const right = evaluateModel(expr.args[1], data);
      return new Set([...evaluateModel(expr.args[0], data)].filter((x) => !right.has(x)));
    }
    case 'not': {
      const inner = evaluateModel(expr.args[0], data);
      const out = new Set<number>();
      for (let i = 0; i < expr.bits; i++) if (!inner.has(i)) out.add(i);
      return out;
    }
  }
}

/**
 * Random expressions over `keys` (and one key that is never written), small enough to run
 * against a real server 50 times: NOT universes up to just past the first chunk boundary.
 */
export function bitExprArbitrary(keys: readonly string[], missingKey: string): fc.Arbitrary<BitExpr> {
  const leaf = fc.constantFrom(...keys.map((key) => bit.key(key)), bit.key(missingKey));
  const operands = (tie: (name: 'expr') => fc.Arbitrary<BitExpr>) =>
    fc.array(tie('expr'), { minLength: 1, maxLength: 3 });
  return fc.letrec<{ expr: BitExpr }>((tie) => ({
    expr: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leaf,
      operands(tie).map((args) => bit.and(...args)),
      operands(tie).map((args) => bit.or(...args)),
      operands(tie).map((args) => bit.xor(...args)),
      fc.tuple(tie('expr'), tie('expr')).map(([left, right]) => bit.andNot(left, right)),
      fc
        .tuple(
          tie('expr'),
          fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 65_530, max: 65_560 })),
        )
        .map(([arg, bits]) => bit.not(arg, bits)),
    ),
  })).expr;
}

/** Small random bitmaps: offsets near 0 and on both sides of the first chunk boundary (65536). */
const offsetArbitrary = fc.oneof(
  fc.integer({ min: 0, max: 200 }),
  fc.integer({ min: 65_520, max: 65_560 }),
  fc.integer({ min: 2 ** 20 - 20, max: 2 ** 20 + 20 }),
  fc.integer({ min: 2 ** 32 - 40, max: 2 ** 32 - 1 }),
);

/** Runs of up to 600 offsets: enough bits in one place to take a backend's dense paths. */
const runArbitrary = fc
  .tuple(
    fc.integer({ min: 0, max: 2 ** 20 + 1_000 }),
    fc.integer({ min: 1, max: 600 }),
    fc.integer({ min: 1, max: 3 }),
  )
  .map(([start, length, step]) => Array.from({ length }, (_, i) => start + i * step));

/**
 * Offsets around the places backends split bitmaps (bytes, 2^16 and 2^20 bit chunks, the top
 * of the id space), sometimes with a dense run, repeats allowed.
 */
export const offsetsArbitrary: fc.Arbitrary<number[]> = fc.oneof(
  { weight: 3, arbitrary: fc.array(offsetArbitrary, { maxLength: 30 }) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.array(offsetArbitrary, { maxLength: 10 }), runArbitrary)
      .map(([scattered, run]) => [...scattered, ...run]),
  },
);

/** The model of a counters-and-sets store (Redis semantics: emptied sets disappear). */
export function applyToModel(model: Map<string, Map<string, number> | Set<string>>, op: WriteOp): void {
  switch (op.op) {
    case 'increment': {
      if (op.increments.length === 0) return;
      const hash = (model.get(op.key) as Map<string, number> | undefined) ?? new Map<string, number>();
      for (const [field, by] of op.increments) hash.set(field, (hash.get(field) ?? 0) + by);
      model.set(op.key, hash);
      return;
    }
    case 'setAdd': {
      if (op.members.length === 0) return;
      const set = (model.get(op.key) as Set<string> | undefined) ?? new Set<string>();
      for (const member of op.members) set.add(member);
      model.set(op.key, set);
      return;
    }
    case 'setRemove': {
      const set = model.get(op.key) as Set<string> | undefined;
      if (!set) return;
      for (const member of op.members) set.delete(member);
      if (set.size === 0) model.delete(op.key);
      return;
    }
    case 'delete':
      for (const key of op.keys) model.delete(key);
      return;
    default:
      throw new Error(`the model does not know ${op.op}`);
  }
}
