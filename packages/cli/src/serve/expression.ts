/**
 * The `expr` query parameter: a small boolean grammar over event names and segments, or the
 * same tree as JSON. Parsed into a plain tree first, so a malformed expression is refused
 * before any query is built, with the position of the problem.
 *
 *   expr    := or
 *   or      := xor ("or" xor)*
 *   xor     := and ("xor" and)*
 *   and     := unary ("and" unary)*
 *   unary   := "not" unary | "(" or ")" | operand
 *   operand := name | "quoted name" | segment:<name>
 *
 * Keywords are case-insensitive. `a and not b` is the library's `a.andNot(b)`.
 * JSON: "name" | {"event": name} | {"segment": name} | {"and"|"or"|"xor": [expr, …]} | {"not": expr}
 */
import type { Analytics, EventQuery } from '@porpoise/analytics';

export type Expression =
  | { kind: 'event'; name: string }
  | { kind: 'segment'; name: string }
  | { kind: 'and' | 'or' | 'xor'; args: Expression[] }
  | { kind: 'not'; arg: Expression };

/** A malformed expression: HTTP 400 with code INVALID_EXPRESSION. */
export class ExpressionError extends Error {
  readonly code = 'INVALID_EXPRESSION';
  constructor(message: string) {
    super(message);
    this.name = 'ExpressionError';
  }
}

/** Bounds that keep one request's query small: the library bounds the work per bucket too. */
export const MAX_EXPRESSION_LENGTH = 2000;
export const MAX_OPERANDS = 32;
const MAX_DEPTH = 16;
const SEGMENT = 'segment:';
const KEYWORDS = new Set(['and', 'or', 'xor', 'not']);

type Token =
  | { type: 'word'; text: string; at: number }
  | { type: 'name'; text: string; at: number }
  | { type: '('; at: number }
  | { type: ')'; at: number };

/** The JSON string at `text[i]`: any name, also one with spaces, parentheses or an operator's spelling. */
function readQuoted(text: string, i: number): { name: string; length: number } {
  const match = /^"(?:[^"\\]|\\.)*"/.exec(text.slice(i));
  if (match === null) throw new ExpressionError(`unclosed quote at position ${i + 1}`);
  try {
    return { name: JSON.parse(match[0]) as string, length: match[0].length };
  } catch {
    throw new ExpressionError(`bad escape in the quoted name at position ${i + 1}`);
  }
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '(' || c === ')') {
      tokens.push(c === '(' ? { type: '(', at: i } : { type: ')', at: i });
      i++;
    } else if (c === '"') {
      const { name, length } = readQuoted(text, i);
      tokens.push({ type: 'name', text: name, at: i });
      i += length;
    } else {
      const word = /^[^\s()"]+/.exec(text.slice(i))![0];
      const at = i;
      i += word.length;
      if (word === SEGMENT && text[i] === '"') {
        const { name, length } = readQuoted(text, i);
        tokens.push({ type: 'word', text: SEGMENT + name, at });
        i += length;
      } else {
        tokens.push({ type: 'word', text: word, at });
      }
    }
  }
  return tokens;
}

class Parser {
  #position = 0;
  #operands = 0;
  constructor(readonly tokens: Token[]) {}

  parse(): Expression {
    if (this.tokens.length === 0) throw new ExpressionError('is empty');
    const expression = this.#binary('or', 0);
    const rest = this.tokens[this.#position];
    if (rest !== undefined)
      throw new ExpressionError(`unexpected ${describe(rest)} at position ${rest.at + 1}`);
    return expression;
  }

  #keyword(word: string): boolean {
    const token = this.tokens[this.#position];
    if (token?.type === 'word' && token.text.toLowerCase() === word) {
      this.#position++;
      return true;
    }
    return false;
  }

  #binary(kind: 'or' | 'xor' | 'and', depth: number): Expression {
    const next = (): Expression =>
      kind === 'or'
        ? this.#binary('xor', depth)
        : kind === 'xor'
          ? this.#binary('and', depth)
          : this.#unary(depth);
    const args = [next()];
    while (this.#keyword(kind)) args.push(next());
    return args.length === 1 ? args[0]! : { kind, args };
  }

  #unary(depth: number): Expression {
    if (depth > MAX_DEPTH) throw new ExpressionError(`nested deeper than ${MAX_DEPTH} levels`);
    if (this.#keyword('not')) return { kind: 'not', arg: this.#unary(depth + 1) };
    const token = this.tokens[this.#position];
    if (token === undefined) throw new ExpressionError('ends where a name was expected');
    if (token.type === '(') {
      this.#position++;
      const inner = this.#binary('or', depth + 1);
      const close = this.tokens[this.#position];
      if (close?.type !== ')') {
        throw new ExpressionError(`the parenthesis at position ${token.at + 1} is not closed`);
      }
      this.#position++;
      return inner;
    }
    if (token.type === ')') throw new ExpressionError(`unexpected ")" at position ${token.at + 1}`);
    if (token.type === 'word' && KEYWORDS.has(token.text.toLowerCase())) {
      throw new ExpressionError(
        `"${token.text}" at position ${token.at + 1} is an operator where a name was expected (quote a name spelt like an operator)`,
      );
    }
    this.#position++;
    return this.#operand(
      token.type === 'word' && token.text.startsWith(SEGMENT) ? 'segment' : 'event',
      token,
    );
  }

  #operand(kind: 'event' | 'segment', token: { text: string; at: number }): Expression {
    if (++this.#operands > MAX_OPERANDS) throw new ExpressionError(`more than ${MAX_OPERANDS} operands`);
    const name = kind === 'segment' ? token.text.slice(SEGMENT.length) : token.text;
    if (name === '') throw new ExpressionError(`an empty ${kind} name at position ${token.at + 1}`);
    return { kind, name };
  }
}

function describe(token: Token): string {
  return token.type === 'word' || token.type === 'name' ? `"${token.text}"` : `"${token.type}"`;
}

function fromJson(value: unknown, depth: number, count: { operands: number }): Expression {
  if (depth > MAX_DEPTH) throw new ExpressionError(`nested deeper than ${MAX_DEPTH} levels`);
  const operand = (kind: 'event' | 'segment', name: unknown): Expression => {
    if (typeof name !== 'string' || name === '') {
      throw new ExpressionError(`{"${kind}": …} needs a non-empty name, not ${JSON.stringify(name)}`);
    }
    if (++count.operands > MAX_OPERANDS) throw new ExpressionError(`more than ${MAX_OPERANDS} operands`);
    return { kind, name };
  };
  if (typeof value === 'string') return operand('event', value);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ExpressionError(`expected a name or an object with one key, not ${JSON.stringify(value)}`);
  }
  const keys = Object.keys(value);
  if (keys.length !== 1) {
    throw new ExpressionError(
      `an object must have exactly one key (event, segment, and, or, xor, not), not ${keys.length}`,
    );
  }
  const key = keys[0]!;
  const inner = (value as Record<string, unknown>)[key];
  switch (key) {
    case 'event':
    case 'segment':
      return operand(key, inner);
    case 'not':
      return { kind: 'not', arg: fromJson(inner, depth + 1, count) };
    case 'and':
    case 'or':
    case 'xor': {
      if (!Array.isArray(inner) || inner.length < 2) {
        throw new ExpressionError(`{"${key}": […]} needs an array of at least two expressions`);
      }
      return { kind: key, args: inner.map((arg) => fromJson(arg, depth + 1, count)) };
    }
    default:
      throw new ExpressionError(`unknown key "${key}" (use event, segment, and, or, xor, not)`);
  }
}

/** The tree of an `expr` parameter: JSON when it starts with `{` or `[`, the grammar otherwise. */
export function parseExpression(text: string): Expression {
  if (text.length > MAX_EXPRESSION_LENGTH) {
    throw new ExpressionError(`longer than ${MAX_EXPRESSION_LENGTH} characters`);
  }
  const trimmed = text.trim();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch {
      throw new ExpressionError('starts like JSON but is not valid JSON');
    }
    return fromJson(value, 0, { operands: 0 });
  }
  return new Parser(tokenize(text)).parse();
}

const BARE = /^[^\s()"]+$/;

function operandText(expression: Expression & { kind: 'event' | 'segment' }): string {
  if (expression.kind === 'segment') {
    return SEGMENT + (BARE.test(expression.name) ? expression.name : JSON.stringify(expression.name));
  }
  const plain =
    BARE.test(expression.name) &&
    !KEYWORDS.has(expression.name.toLowerCase()) &&
    !expression.name.startsWith(SEGMENT);
  return plain ? expression.name : JSON.stringify(expression.name);
}

/** The expression in the grammar, parenthesised where needed: what the API echoes back. */
export function expressionText(expression: Expression): string {
  switch (expression.kind) {
    case 'event':
    case 'segment':
      return operandText(expression);
    case 'not': {
      const inner = expressionText(expression.arg);
      return expression.arg.kind === 'event' ||
        expression.arg.kind === 'segment' ||
        expression.arg.kind === 'not'
        ? `NOT ${inner}`
        : `NOT (${inner})`;
    }
    default: {
      const tight = { or: 0, xor: 1, and: 2 }[expression.kind];
      return expression.args
        .map((arg) => {
          const text = expressionText(arg);
          const binds = arg.kind === 'or' ? 0 : arg.kind === 'xor' ? 1 : arg.kind === 'and' ? 2 : 3;
          return binds <= tight && binds < 3 ? `(${text})` : text;
        })
        .join(` ${expression.kind.toUpperCase()} `);
    }
  }
}

/** The library's query for the tree; names are checked by the library itself. */
export function toQuery(expression: Expression, analytics: Analytics): EventQuery {
  switch (expression.kind) {
    case 'event':
      return analytics.events(expression.name);
    case 'segment':
      return analytics.segment(expression.name);
    case 'not':
      return toQuery(expression.arg, analytics).not();
    default: {
      let query = toQuery(expression.args[0]!, analytics);
      for (const arg of expression.args.slice(1)) {
        // `and not x` is andNot: the library bounds it by the ids recorded, as not() is.
        if (expression.kind === 'and' && arg.kind === 'not')
          query = query.andNot(toQuery(arg.arg, analytics));
        else if (expression.kind === 'and') query = query.and(toQuery(arg, analytics));
        else if (expression.kind === 'or') query = query.or(toQuery(arg, analytics));
        else query = query.xor(toQuery(arg, analytics));
      }
      return query;
    }
  }
}
