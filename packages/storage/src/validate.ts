/**
 * Argument checks shared by every backend, so each rejects the same input with the same
 * error, before anything is written.
 */
import type { BitExpr, ReadOp, WriteOp, WriteOptions } from './backend.js';
import { InvalidArgumentError } from './errors.js';
import { MAX_BIT_OFFSET, validateBitOffset, validateKey } from './keys.js';

/** Expressions deeper than this are refused: evaluation recurses, and Lua's C stack is small. */
export const MAX_EXPRESSION_DEPTH = 64;

/**
 * Items (bit offsets, hash fields, set members, source and deleted keys) one atomic write may
 * hold: an atomic write is one step on the server, and one step must stay short.
 */
export const MAX_ATOMIC_ITEMS = 100_000;

/** Strings are stored as UTF-8: a lone surrogate would become U+FFFD and merge distinct values. */
export function validateWellFormed(value: string, argument: string): void {
  if (!value.isWellFormed()) {
    throw new InvalidArgumentError(
      argument,
      value,
      'must be well-formed Unicode (it contains a lone surrogate)',
    );
  }
}

function validateMembers(members: unknown, argument: string): void {
  if (!Array.isArray(members))
    throw new InvalidArgumentError(argument, members, 'must be an array of strings');
  for (const member of members) {
    if (typeof member !== 'string' || member.length === 0) {
      throw new InvalidArgumentError(argument, member, 'each member must be a non-empty string');
    }
    validateWellFormed(member, argument);
  }
}

/** How many items an operation holds, for the atomic limit. */
function itemsOf(op: WriteOp): number {
  switch (op.op) {
    case 'setBits':
      return op.offsets.length;
    case 'increment':
      return op.increments.length;
    case 'setAdd':
    case 'setRemove':
    case 'hllAdd':
      return op.members.length;
    case 'storeCardinality':
      return 1 + op.sources.length;
    case 'delete':
      return op.keys.length;
    default:
      return 1;
  }
}

function validateKeyList(keys: unknown, argument: string, allowEmpty: boolean): void {
  if (!Array.isArray(keys)) throw new InvalidArgumentError(argument, keys, 'must be an array of keys');
  if (!allowEmpty && keys.length === 0)
    throw new InvalidArgumentError(argument, keys, 'must name at least one key');
  for (const key of keys) validateKey(key, argument);
}

export function validateExpr(expr: unknown, depth = 0): asserts expr is BitExpr {
  if (depth > MAX_EXPRESSION_DEPTH) {
    throw new InvalidArgumentError(
      'expr',
      '(nested)',
      `expressions may nest at most ${MAX_EXPRESSION_DEPTH} deep`,
    );
  }
  if (typeof expr !== 'object' || expr === null)
    throw new InvalidArgumentError('expr', expr, 'not a bit expression');
  const e = expr as { op?: unknown; key?: unknown; args?: unknown; bits?: unknown };
  switch (e.op) {
    case 'key':
      validateKey(e.key, 'expr.key');
      return;
    case 'and':
    case 'or':
    case 'xor':
      if (!Array.isArray(e.args) || e.args.length === 0) {
        throw new InvalidArgumentError('expr.args', e.args, `"${e.op}" needs at least one operand`);
      }
      for (const arg of e.args) validateExpr(arg, depth + 1);
      return;
    case 'andnot':
      if (!Array.isArray(e.args) || e.args.length !== 2) {
        throw new InvalidArgumentError('expr.args', e.args, '"andnot" needs exactly two operands');
      }
      for (const arg of e.args) validateExpr(arg, depth + 1);
      return;
    case 'not':
      if (!Array.isArray(e.args) || e.args.length !== 1) {
        throw new InvalidArgumentError('expr.args', e.args, '"not" needs exactly one operand');
      }
      if (
        typeof e.bits !== 'number' ||
        !Number.isInteger(e.bits) ||
        e.bits < 0 ||
        e.bits > MAX_BIT_OFFSET + 1
      ) {
        throw new InvalidArgumentError(
          'expr.bits',
          e.bits,
          `must be an integer in [0, ${MAX_BIT_OFFSET + 1}]`,
        );
      }
      validateExpr(e.args[0], depth + 1);
      return;
    default:
      throw new InvalidArgumentError('expr.op', e.op, 'unknown bit operation');
  }
}

/** Every key an expression reads. */
export function exprKeys(expr: BitExpr, into: string[] = []): string[] {
  if (expr.op === 'key') into.push(expr.key);
  else for (const arg of expr.args) exprKeys(arg, into);
  return into;
}

export function validateWriteOps(
  ops: unknown,
  options: WriteOptions = {},
): asserts ops is readonly WriteOp[] {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError(
      'options',
      options,
      'must be an options object { atomic?, unlessExists? }',
    );
  }
  if (!Array.isArray(ops)) throw new InvalidArgumentError('ops', ops, 'must be an array of write operations');
  if (options.atomic !== undefined && typeof options.atomic !== 'boolean') {
    throw new InvalidArgumentError('options.atomic', options.atomic, 'must be a boolean');
  }
  if (options.unlessExists !== undefined) {
    if (!options.atomic) {
      throw new InvalidArgumentError('options.unlessExists', options.unlessExists, 'requires atomic: true');
    }
    validateKey(options.unlessExists, 'options.unlessExists');
  }
  validateIdempotency(options);
  for (const op of ops as unknown[]) {
    if (typeof op !== 'object' || op === null)
      throw new InvalidArgumentError('op', op, 'not a write operation');
    const o = op as Record<string, unknown>;
    switch (o.op) {
      case 'setBits': {
        validateKey(o.key);
        if (!Array.isArray(o.offsets))
          throw new InvalidArgumentError('offsets', o.offsets, 'must be an array');
        for (const offset of o.offsets) validateBitOffset(offset);
        if (o.value !== undefined && typeof o.value !== 'boolean') {
          throw new InvalidArgumentError('value', o.value, 'must be a boolean');
        }
        break;
      }
      case 'increment': {
        validateKey(o.key);
        if (!Array.isArray(o.increments)) {
          throw new InvalidArgumentError('increments', o.increments, 'must be an array of [field, by] pairs');
        }
        for (const pair of o.increments) {
          if (!Array.isArray(pair) || pair.length !== 2) {
            throw new InvalidArgumentError('increments', pair, 'each increment must be a [field, by] pair');
          }
          const [field, by] = pair as unknown[];
          if (typeof field !== 'string' || field.length === 0) {
            throw new InvalidArgumentError('field', field, 'must be a non-empty string');
          }
          validateWellFormed(field, 'field');
          if (typeof by !== 'number' || !Number.isSafeInteger(by)) {
            throw new InvalidArgumentError('by', by, 'must be a safe integer');
          }
        }
        break;
      }
      case 'setAdd':
      case 'setRemove':
      case 'hllAdd':
        validateKey(o.key);
        validateMembers(o.members, 'members');
        break;
      case 'set':
        validateKey(o.key);
        if (typeof o.value !== 'string') throw new InvalidArgumentError('value', o.value, 'must be a string');
        validateWellFormed(o.value, 'value');
        break;
      case 'max':
        validateKey(o.key);
        if (typeof o.value !== 'number' || !Number.isSafeInteger(o.value)) {
          throw new InvalidArgumentError('value', o.value, 'must be a safe integer');
        }
        break;
      case 'storeCardinality':
        validateKey(o.key);
        if (o.kind !== 'set' && o.kind !== 'hll')
          throw new InvalidArgumentError('kind', o.kind, 'must be "set" or "hll"');
        validateKeyList(o.sources, 'sources', false);
        break;
      case 'delete':
        validateKeyList(o.keys, 'keys', true);
        break;
      case 'expire':
        validateKey(o.key);
        if (typeof o.seconds !== 'number' || !Number.isSafeInteger(o.seconds) || o.seconds <= 0) {
          throw new InvalidArgumentError('seconds', o.seconds, 'must be a positive integer');
        }
        break;
      default:
        throw new InvalidArgumentError('op', o.op, 'unknown write operation');
    }
  }
  if (options.atomic) {
    let items = 0;
    for (const op of ops as WriteOp[]) items += itemsOf(op);
    if (items > MAX_ATOMIC_ITEMS) {
      throw new InvalidArgumentError(
        'ops',
        `${items} items`,
        `an atomic write holds at most ${MAX_ATOMIC_ITEMS} items (bit offsets, fields, members, keys); split it or drop atomic`,
      );
    }
  }
}

function validateIdempotency(options: WriteOptions): void {
  const { idempotencyKey: key, idempotencyTtl: ttl } = options;
  if (key !== undefined) {
    if (
      typeof key !== 'string' ||
      key.length === 0 ||
      key.length > 200 ||
      /[\u0000-\u001f\u007f]/u.test(key)
    ) {
      throw new InvalidArgumentError(
        'options.idempotencyKey',
        key,
        'must be a string of 1-200 characters without control characters',
      );
    }
    validateWellFormed(key, 'options.idempotencyKey');
  }
  if (ttl !== undefined) {
    if (key === undefined) {
      throw new InvalidArgumentError('options.idempotencyTtl', ttl, 'requires an idempotencyKey');
    }
    if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 1 || ttl > 2_592_000) {
      throw new InvalidArgumentError(
        'options.idempotencyTtl',
        ttl,
        'must be an integer number of seconds in [1, 2592000]',
      );
    }
  }
}

export function validateReadOps(ops: unknown): asserts ops is readonly ReadOp[] {
  if (!Array.isArray(ops)) throw new InvalidArgumentError('ops', ops, 'must be an array of read operations');
  for (const op of ops as unknown[]) {
    if (typeof op !== 'object' || op === null)
      throw new InvalidArgumentError('op', op, 'not a read operation');
    const o = op as Record<string, unknown>;
    switch (o.op) {
      case 'getBit':
        validateKey(o.key);
        validateBitOffset(o.offset);
        break;
      case 'bitCount':
      case 'bitmap':
        validateExpr(o.expr);
        break;
      case 'hashGetAll':
      case 'get':
      case 'exists':
      case 'ttl':
        validateKey(o.key);
        break;
      case 'hashGet':
        validateKey(o.key);
        if (typeof o.field !== 'string' || o.field.length === 0) {
          throw new InvalidArgumentError('field', o.field, 'must be a non-empty string');
        }
        validateWellFormed(o.field, 'field');
        break;
      case 'setCardinality':
      case 'setMembers':
      case 'hllCount':
        validateKeyList(o.keys, 'keys', false);
        break;
      case 'setHas':
        validateKey(o.key);
        if (typeof o.member !== 'string' || o.member.length === 0) {
          throw new InvalidArgumentError('member', o.member, 'must be a non-empty string');
        }
        validateWellFormed(o.member, 'member');
        break;
      default:
        throw new InvalidArgumentError('op', o.op, 'unknown read operation');
    }
  }
}
