/** Builders for bit expressions: `bit.and(bit.key('a'), bit.not(bit.key('b'), 100))`. */
import type { BitExpr } from './backend.js';

export const bit = {
  key: (key: string): BitExpr => ({ op: 'key', key }),
  and: (...args: BitExpr[]): BitExpr => ({ op: 'and', args }),
  or: (...args: BitExpr[]): BitExpr => ({ op: 'or', args }),
  xor: (...args: BitExpr[]): BitExpr => ({ op: 'xor', args }),
  andNot: (left: BitExpr, right: BitExpr): BitExpr => ({ op: 'andnot', args: [left, right] }),
  not: (arg: BitExpr, bits: number): BitExpr => ({ op: 'not', args: [arg], bits }),
} as const;
