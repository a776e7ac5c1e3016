/** A key holds one kind of value: using it as another is a WRONGTYPE BackendError. */
import { beforeEach, describe, expect, it } from 'vitest';
import type { Backend, Feature, ReadOp, WriteOp } from '../../backend.js';
import { bit } from '../../expr.js';
import { expectWrongType, rejection, type Suite } from '../harness.js';

export function wrongTypeSpec(suite: Suite): void {
  const { requires } = suite;
  describe('wrong types', () => {
    let backend: Backend;
    beforeEach(() => {
      backend = suite.backend;
    });

    interface WrongWrite {
      title: string;
      feature?: Feature;
      setup: WriteOp[];
      op: WriteOp;
    }
    const aSet: WriteOp = { op: 'setAdd', key: 'w:k', members: ['a'] };
    const aHash: WriteOp = { op: 'increment', key: 'w:k', increments: [['f', 1]] };
    const aValue: WriteOp = { op: 'set', key: 'w:k', value: 'text' };
    const wrongWrites: WrongWrite[] = [
      {
        title: 'setBits on a set',
        feature: 'bitmaps',
        setup: [aSet],
        op: { op: 'setBits', key: 'w:k', offsets: [1] },
      },
      {
        title: 'clearing bits of a hash',
        feature: 'bitmaps',
        setup: [aHash],
        op: { op: 'setBits', key: 'w:k', offsets: [1], value: false },
      },
      {
        title: 'increment on a set',
        setup: [aSet],
        op: { op: 'increment', key: 'w:k', increments: [['f', 1]] },
      },
      {
        title: 'increment on a plain value',
        setup: [aValue],
        op: { op: 'increment', key: 'w:k', increments: [['f', 1]] },
      },
      { title: 'setAdd on a hash', setup: [aHash], op: { op: 'setAdd', key: 'w:k', members: ['a'] } },
      {
        title: 'setRemove on a plain value',
        setup: [aValue],
        op: { op: 'setRemove', key: 'w:k', members: ['a'] },
      },
      {
        title: 'hllAdd on a set',
        feature: 'hyperloglog',
        setup: [aSet],
        op: { op: 'hllAdd', key: 'w:k', members: ['a'] },
      },
      {
        title: 'hllAdd on a plain value',
        feature: 'hyperloglog',
        setup: [aValue],
        op: { op: 'hllAdd', key: 'w:k', members: ['a'] },
      },
      { title: 'max on a hash', setup: [aHash], op: { op: 'max', key: 'w:k', value: 1 } },
      {
        title: 'storeCardinality of sets from a hash',
        setup: [aHash],
        op: { op: 'storeCardinality', key: 'n:k', kind: 'set', sources: ['w:k'] },
      },
      {
        title: 'storeCardinality of HyperLogLogs from a set',
        feature: 'hyperloglog',
        setup: [aSet],
        op: { op: 'storeCardinality', key: 'n:k', kind: 'hll', sources: ['w:k'] },
      },
      {
        title: 'storeCardinality of HyperLogLogs from a plain value',
        feature: 'hyperloglog',
        setup: [aValue],
        op: { op: 'storeCardinality', key: 'n:k', kind: 'hll', sources: ['w:k'] },
      },
    ];
    for (const { title, feature, setup, op } of wrongWrites) {
      it(`write: ${title} rejects with WRONGTYPE and leaves the key as it was`, async (ctx) => {
        if (feature) await requires(ctx, feature);
        await backend.write(setup);
        expectWrongType(await rejection(backend.write([op])));
        expectWrongType(await rejection(backend.write([op], { atomic: true })));
        expect(await backend.keys()).toEqual(['w:k']);
      });
    }

    interface WrongRead {
      title: string;
      feature?: Feature;
      setup: WriteOp[];
      op: ReadOp;
    }
    const wrongReads: WrongRead[] = [
      {
        title: 'getBit of a set',
        feature: 'bitmaps',
        setup: [aSet],
        op: { op: 'getBit', key: 'w:k', offset: 1 },
      },
      {
        title: 'bitCount of an expression over a hash',
        feature: 'bitmaps',
        setup: [aHash],
        op: { op: 'bitCount', expr: bit.or(bit.key('w:none'), bit.key('w:k')) },
      },
      {
        title: 'bitmap of a plain value',
        feature: 'bitmaps',
        setup: [aValue],
        op: { op: 'bitmap', expr: bit.key('w:k') },
      },
      {
        title: 'an AND whose other operand is missing',
        feature: 'bitmaps',
        setup: [aSet],
        op: { op: 'bitCount', expr: bit.and(bit.key('w:none'), bit.key('w:k')) },
      },
      { title: 'hashGetAll of a set', setup: [aSet], op: { op: 'hashGetAll', key: 'w:k' } },
      { title: 'hashGet of a plain value', setup: [aValue], op: { op: 'hashGet', key: 'w:k', field: 'f' } },
      {
        title: 'setCardinality with a hash',
        setup: [aHash],
        op: { op: 'setCardinality', keys: ['w:none', 'w:k'] },
      },
      { title: 'setMembers of a plain value', setup: [aValue], op: { op: 'setMembers', keys: ['w:k'] } },
      { title: 'setHas of a hash', setup: [aHash], op: { op: 'setHas', key: 'w:k', member: 'a' } },
      {
        title: 'hllCount of a set',
        feature: 'hyperloglog',
        setup: [aSet],
        op: { op: 'hllCount', keys: ['w:k'] },
      },
      {
        title: 'hllCount of a plain value',
        feature: 'hyperloglog',
        setup: [aValue],
        op: { op: 'hllCount', keys: ['w:k'] },
      },
      { title: 'get of a hash', setup: [aHash], op: { op: 'get', key: 'w:k' } },
      { title: 'get of a set', setup: [aSet], op: { op: 'get', key: 'w:k' } },
    ];
    for (const { title, feature, setup, op } of wrongReads) {
      it(`read: ${title} rejects with WRONGTYPE`, async (ctx) => {
        if (feature) await requires(ctx, feature);
        await backend.write(setup);
        expectWrongType(await rejection(backend.read([{ op: 'exists', key: 'w:k' }, op])));
        expect(await backend.keys()).toEqual(['w:k']);
      });
    }

    it('a non-atomic write that hits the wrong type rejects with a BackendError', async () => {
      // Like a Redis pipeline, the other operations of such a write may have been applied.
      await backend.write([{ op: 'set', key: 'v:a', value: 'text' }]);
      const error = await rejection(
        backend.write([
          { op: 'setAdd', key: 's:a', members: ['x'] },
          { op: 'increment', key: 'v:a', increments: [['f', 1]] },
          { op: 'setAdd', key: 's:b', members: ['y'] },
        ]),
      );
      expectWrongType(error);
      expect(await backend.read([{ op: 'get', key: 'v:a' }])).toEqual(['text']);
    });

    it('types exist per key: the same name in another segment is another key', async () => {
      await backend.write([
        { op: 'set', key: 'a:k', value: 'text' },
        { op: 'setAdd', key: 'k:a', members: ['m'] },
        { op: 'increment', key: 'a:k:x', increments: [['f', 1]] },
      ]);
      expect(
        await backend.read([
          { op: 'get', key: 'a:k' },
          { op: 'setMembers', keys: ['k:a'] },
          { op: 'hashGet', key: 'a:k:x', field: 'f' },
        ]),
      ).toEqual(['text', ['m'], 1]);
    });
  });
}
