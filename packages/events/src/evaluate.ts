/**
 * Running bit expressions that may hold literal id lists (`events.ids([2, 12, 43])`).
 *
 * The Backend's expressions name stored keys only, and queries never write temporary keys,
 * so a literal cannot be sent to the backend. A literal leaf is a placeholder key (a control
 * character starts it: no stored key can, `validateKey` forbids them) resolved here. Every
 * maximal literal-free subexpression is still evaluated by the backend, in the same single
 * read as the rest of the query; only the combination with the literals runs client-side.
 * Identical subexpressions (a `during` operand repeated in every bucket) are fetched once.
 */
import { type Backend, type BitExpr, Bitmap, bit, type ReadOp } from '@porpoise/storage';

const LITERAL = '\u0000literal:';
const FETCHED = '\u0000fetched:';

let literals = 0;

/** A fresh placeholder key for a literal bitmap. */
export function literalKey(): string {
  return `${LITERAL}${literals++}`;
}

function isLiteralKey(key: string): boolean {
  return key.startsWith(LITERAL);
}

export function hasLiteral(expr: BitExpr): boolean {
  return expr.op === 'key' ? isLiteralKey(expr.key) : expr.args.some(hasLiteral);
}

/** The stored keys an expression reads (literals left out). */
export function storedKeys(expr: BitExpr, into: Set<string> = new Set()): Set<string> {
  if (expr.op === 'key') {
    if (!isLiteralKey(expr.key)) into.add(expr.key);
  } else for (const arg of expr.args) storedKeys(arg, into);
  return into;
}

export type Request = { readonly kind: 'count' | 'bitmap'; readonly expr: BitExpr };

/**
 * Count or fetch each request's expression, plus `extra` reads, in ONE backend read.
 * `values` maps literal placeholder keys to their bitmaps.
 */
export async function evaluate(
  backend: Backend,
  requests: readonly Request[],
  values: ReadonlyMap<string, Bitmap>,
  extra: readonly ReadOp[] = [],
): Promise<{ results: Array<number | Bitmap>; extra: unknown[] }> {
  const ops: ReadOp[] = [];
  const fetchIndex = new Map<string, number>();
  const local: Array<BitExpr | null> = [];
  const localise = (expr: BitExpr): BitExpr => {
    if (!hasLiteral(expr)) {
      const id = JSON.stringify(expr);
      let at = fetchIndex.get(id);
      if (at === undefined) {
        at = ops.length;
        fetchIndex.set(id, at);
        ops.push({ op: 'bitmap', expr });
      }
      return bit.key(`${FETCHED}${at}`);
    }
    if (expr.op === 'key') return expr;
    return { ...expr, args: expr.args.map(localise) } as BitExpr;
  };
  const direct: number[] = [];
  for (const request of requests) {
    if (hasLiteral(request.expr)) {
      local.push(localise(request.expr));
      direct.push(-1);
    } else {
      local.push(null);
      direct.push(ops.length);
      ops.push(
        request.kind === 'count'
          ? { op: 'bitCount', expr: request.expr }
          : { op: 'bitmap', expr: request.expr },
      );
    }
  }
  const extraAt = ops.length;
  ops.push(...extra);
  const read = ops.length === 0 ? [] : ((await backend.read(ops)) as unknown[]);
  const resolve = (key: string): Bitmap | undefined => {
    if (key.startsWith(FETCHED)) return read[Number(key.slice(FETCHED.length))] as Bitmap;
    return values.get(key);
  };
  const results = requests.map((request, i) => {
    const expr = local[i];
    if (expr === null || expr === undefined) return read[direct[i]!] as number | Bitmap;
    return request.kind === 'count' ? Bitmap.count(expr, resolve) : Bitmap.evaluate(expr, resolve);
  });
  return { results, extra: read.slice(extraAt) };
}

/**
 * Whether `id` is in the expression's result, from one `getBit` per stored key: no bitmap is
 * fetched, however large.
 */
export async function contains(
  backend: Backend,
  expr: BitExpr,
  id: number,
  values: ReadonlyMap<string, Bitmap>,
): Promise<boolean> {
  const keys = [...storedKeys(expr)];
  const bits =
    keys.length === 0
      ? []
      : await backend.read(keys.map((key) => ({ op: 'getBit' as const, key, offset: id })));
  const held = new Map(keys.map((key, i) => [key, bits[i] as boolean]));
  const test = (e: BitExpr): boolean => {
    switch (e.op) {
      case 'key':
        return isLiteralKey(e.key) ? values.get(e.key)?.has(id) === true : held.get(e.key) === true;
      case 'and':
        return e.args.every(test);
      case 'or':
        return e.args.some(test);
      case 'xor':
        return e.args.reduce((acc, arg) => acc !== test(arg), false);
      case 'andnot':
        return test(e.args[0]) && !test(e.args[1]);
      case 'not':
        return id < e.bits && !test(e.args[0]);
    }
  };
  return test(expr);
}
