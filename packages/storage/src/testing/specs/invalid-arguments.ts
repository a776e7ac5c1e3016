/** Invalid arguments reject with InvalidArgumentError before anything is written. */
import { beforeEach, describe, expect, it } from 'vitest';
import type { Backend, BitExpr, ReadOp, WriteOp, WriteOptions } from '../../backend.js';
import { bit } from '../../expr.js';
import { expectInvalidArgument, rejection, type Suite } from '../harness.js';

export function invalidArgumentSpec(suite: Suite): void {
  describe('invalid arguments are rejected before anything is written', () => {
    let backend: Backend;
    beforeEach(() => {
      backend = suite.backend;
    });

    const deep = (levels: number): BitExpr => {
      let expr: BitExpr = bit.key('a');
      for (let i = 0; i < levels; i++) expr = bit.not(expr, 10);
      return expr;
    };
    const badWrites: Array<[string, unknown, WriteOptions?]> = [
      ['a key with braces', [{ op: 'set', key: 'a{b}', value: '1' }]],
      ['a key with a space', [{ op: 'set', key: 'a b', value: '1' }]],
      ['a key with a newline', [{ op: 'set', key: 'a\nb', value: '1' }]],
      ['an empty key', [{ op: 'set', key: '', value: '1' }]],
      ['a key with an empty segment', [{ op: 'set', key: 'a::b', value: '1' }]],
      ['a key starting with ":"', [{ op: 'set', key: ':a', value: '1' }]],
      ['a key ending with ":"', [{ op: 'set', key: 'a:', value: '1' }]],
      ['a key longer than 1024 characters', [{ op: 'set', key: 'k'.repeat(1025), value: '1' }]],
      ['a key that is not a string', [{ op: 'set', key: 42, value: '1' }]],
      ['a missing key', [{ op: 'set', value: '1' }]],
      ['an offset of -1', [{ op: 'setBits', key: 'b', offsets: [-1] }]],
      ['an offset of 1.5', [{ op: 'setBits', key: 'b', offsets: [1.5] }]],
      ['a NaN offset', [{ op: 'setBits', key: 'b', offsets: [Number.NaN] }]],
      ['an offset of 2^32', [{ op: 'setBits', key: 'b', offsets: [2 ** 32] }]],
      ['an offset given as text', [{ op: 'setBits', key: 'b', offsets: ['1'] }]],
      ['offsets that are not an array', [{ op: 'setBits', key: 'b', offsets: 1 }]],
      ['a bad offset after good ones', [{ op: 'setBits', key: 'b', offsets: [1, 2, 3, -1] }]],
      ['a setBits value that is not a boolean', [{ op: 'setBits', key: 'b', offsets: [1], value: 1 }]],
      ['an unknown operation', [{ op: 'frobnicate', key: 'b' }]],
      ['an operation that is not an object', ['set']],
      ['a null operation', [null]],
      ['an increment of 2^53', [{ op: 'increment', key: 'h', increments: [['f', 2 ** 53]] }]],
      ['an increment of 0.5', [{ op: 'increment', key: 'h', increments: [['f', 0.5]] }]],
      ['an increment of NaN', [{ op: 'increment', key: 'h', increments: [['f', Number.NaN]] }]],
      [
        'an increment of Infinity',
        [{ op: 'increment', key: 'h', increments: [['f', Number.POSITIVE_INFINITY]] }],
      ],
      ['an increment given as text', [{ op: 'increment', key: 'h', increments: [['f', '1']] }]],
      ['an increment that is not a pair', [{ op: 'increment', key: 'h', increments: [['f']] }]],
      ['increments that are not an array', [{ op: 'increment', key: 'h', increments: { f: 1 } }]],
      ['an empty field name', [{ op: 'increment', key: 'h', increments: [['', 1]] }]],
      ['an empty member', [{ op: 'setAdd', key: 's', members: [''] }]],
      ['a member that is not a string', [{ op: 'setRemove', key: 's', members: [1] }]],
      ['members that are not an array', [{ op: 'hllAdd', key: 's', members: 'abc' }]],
      ['a value that is not a string', [{ op: 'set', key: 'v', value: 1 }]],
      ['a max that is not an integer', [{ op: 'max', key: 'v', value: 1.5 }]],
      ['a max beyond the safe integers', [{ op: 'max', key: 'v', value: 2 ** 53 }]],
      [
        'storeCardinality of an unknown kind',
        [{ op: 'storeCardinality', key: 'v', kind: 'list', sources: ['s'] }],
      ],
      ['storeCardinality without sources', [{ op: 'storeCardinality', key: 'v', kind: 'set', sources: [] }]],
      [
        'storeCardinality with a bad source key',
        [{ op: 'storeCardinality', key: 'v', kind: 'set', sources: ['a b'] }],
      ],
      ['delete with keys that are not an array', [{ op: 'delete', keys: 'a' }]],
      ['delete with a bad key', [{ op: 'delete', keys: ['ok', 'a{b}'] }]],
      ['an expiry of 0 seconds', [{ op: 'expire', key: 'v', seconds: 0 }]],
      ['a negative expiry', [{ op: 'expire', key: 'v', seconds: -1 }]],
      ['a fractional expiry', [{ op: 'expire', key: 'v', seconds: 1.5 }]],
      ['unlessExists without atomic', [{ op: 'set', key: 'a', value: '1' }], { unlessExists: 'g' }],
      [
        'a bad unlessExists key',
        [{ op: 'set', key: 'a', value: '1' }],
        { atomic: true, unlessExists: 'g h' },
      ],
      ['a bad operation in an atomic write', [{ op: 'setBits', key: 'b', offsets: [-1] }], { atomic: true }],
    ];
    for (const [title, ops, writeOptions] of badWrites) {
      it(`write: ${title}`, async () => {
        const batch = [{ op: 'set', key: 'ok', value: '1' }, ...(ops as unknown[])];
        expectInvalidArgument(await rejection(backend.write(batch as WriteOp[], writeOptions)));
        expect(await backend.keys()).toEqual([]);
      });
    }

    it('write: a batch that is not an array', async () => {
      expectInvalidArgument(await rejection(backend.write({ op: 'set', key: 'a', value: '1' } as never)));
      expect(await backend.keys()).toEqual([]);
    });

    const badReads: Array<[string, unknown]> = [
      [
        'andnot with three operands',
        { op: 'bitCount', expr: { op: 'andnot', args: [bit.key('a'), bit.key('b'), bit.key('c')] } },
      ],
      ['andnot with one operand', { op: 'bitCount', expr: { op: 'andnot', args: [bit.key('a')] } }],
      ['not with a universe of -1', { op: 'bitCount', expr: { op: 'not', args: [bit.key('a')], bits: -1 } }],
      [
        'not with a universe past 2^32',
        { op: 'bitCount', expr: { op: 'not', args: [bit.key('a')], bits: 2 ** 32 + 1 } },
      ],
      [
        'not with a fractional universe',
        { op: 'bitmap', expr: { op: 'not', args: [bit.key('a')], bits: 1.5 } },
      ],
      ['not without a universe', { op: 'bitmap', expr: { op: 'not', args: [bit.key('a')] } }],
      [
        'not with two operands',
        { op: 'bitCount', expr: { op: 'not', args: [bit.key('a'), bit.key('b')], bits: 8 } },
      ],
      ['and without operands', { op: 'bitCount', expr: { op: 'and', args: [] } }],
      ['or with operands that are not an array', { op: 'bitCount', expr: { op: 'or', args: bit.key('a') } }],
      ['an unknown expression operator', { op: 'bitCount', expr: { op: 'nand', args: [bit.key('a')] } }],
      ['an expression that is not an object', { op: 'bitCount', expr: 'a' }],
      ['a bad key inside an expression', { op: 'bitmap', expr: bit.or(bit.key('a'), bit.key('a b')) }],
      ['an expression nested 65 deep', { op: 'bitCount', expr: deep(65) }],
      ['getBit at 2^32', { op: 'getBit', key: 'a', offset: 2 ** 32 }],
      ['getBit at -1', { op: 'getBit', key: 'a', offset: -1 }],
      ['getBit with a bad key', { op: 'getBit', key: 'a{b}', offset: 1 }],
      ['hashGet of an empty field', { op: 'hashGet', key: 'h', field: '' }],
      ['setHas of an empty member', { op: 'setHas', key: 's', member: '' }],
      ['setCardinality of no keys', { op: 'setCardinality', keys: [] }],
      ['setMembers with keys that are not an array', { op: 'setMembers', keys: 's' }],
      ['hllCount of no keys', { op: 'hllCount', keys: [] }],
      ['get with an empty key', { op: 'get', key: '' }],
      ['an unknown read operation', { op: 'peek', key: 'a' }],
      ['a null read operation', null],
    ];
    for (const [title, op] of badReads) {
      it(`read: ${title}`, async () => {
        const batch = [{ op: 'get', key: 'ok' }, op];
        expectInvalidArgument(await rejection(backend.read(batch as ReadOp[])));
        expect(await backend.keys()).toEqual([]);
      });
    }

    it('read: a batch that is not an array', async () => {
      expectInvalidArgument(await rejection(backend.read({ op: 'get', key: 'a' } as never)));
    });
  });
}
