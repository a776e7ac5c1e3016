/** Sets: members, unions, and an atomic move between two sets. */
import { beforeEach, describe, expect, it } from 'vitest';
import type { Backend } from '../../backend.js';
import type { Suite } from '../harness.js';

export function setSpec(suite: Suite): void {
  describe('sets', () => {
    let backend: Backend;
    beforeEach(() => {
      backend = suite.backend;
    });

    it('adds members and lists them sorted by UTF-16 code unit', async () => {
      await backend.write([{ op: 'setAdd', key: 's:1', members: ['b', 'B', 'a', '10', '9', 'é', 'Z', 'ä'] }]);
      expect(await backend.read([{ op: 'setMembers', keys: ['s:1'] }])).toEqual([
        ['10', '9', 'B', 'Z', 'a', 'b', 'ä', 'é'],
      ]);
    });

    it('keeps one copy of a member added twice', async () => {
      await backend.write([
        { op: 'setAdd', key: 's:1', members: ['a', 'a'] },
        { op: 'setAdd', key: 's:1', members: ['a', 'b'] },
      ]);
      expect(
        await backend.read([
          { op: 'setCardinality', keys: ['s:1'] },
          { op: 'setMembers', keys: ['s:1'] },
        ]),
      ).toEqual([2, ['a', 'b']]);
    });

    it('removes members, and removing absent ones is harmless', async () => {
      await backend.write([{ op: 'setAdd', key: 's:1', members: ['a', 'b', 'c'] }]);
      await backend.write([{ op: 'setRemove', key: 's:1', members: ['a', 'zzz'] }]);
      expect(await backend.read([{ op: 'setMembers', keys: ['s:1'] }])).toEqual([['b', 'c']]);
    });

    it('deletes a set emptied by removal, as Redis does', async () => {
      await backend.write([{ op: 'setAdd', key: 's:1', members: ['a', 'b'] }]);
      await backend.write([{ op: 'setRemove', key: 's:1', members: ['a', 'b'] }]);
      expect(await backend.keys()).toEqual([]);
      expect(await backend.read([{ op: 'exists', key: 's:1' }])).toEqual([false]);
    });

    it('removing from a missing set, or an empty list of members, creates nothing', async () => {
      await backend.write([
        { op: 'setRemove', key: 's:none', members: ['a'] },
        { op: 'setAdd', key: 's:1', members: [] },
        { op: 'setRemove', key: 's:2', members: [] },
      ]);
      expect(await backend.keys()).toEqual([]);
    });

    it('counts and lists the union of several sets, missing sets as empty', async () => {
      await backend.write([
        { op: 'setAdd', key: 's:1', members: ['a', 'b', 'c'] },
        { op: 'setAdd', key: 's:2', members: ['c', 'd'] },
      ]);
      expect(
        await backend.read([
          { op: 'setCardinality', keys: ['s:1'] },
          { op: 'setCardinality', keys: ['s:1', 's:2', 's:none'] },
          { op: 'setCardinality', keys: ['s:1', 's:1'] },
          { op: 'setCardinality', keys: ['s:none'] },
          { op: 'setMembers', keys: ['s:2', 's:none', 's:1'] },
          { op: 'setMembers', keys: ['s:none'] },
        ]),
      ).toEqual([3, 4, 3, 0, ['a', 'b', 'c', 'd'], []]);
    });

    it('answers membership', async () => {
      await backend.write([{ op: 'setAdd', key: 's:1', members: ['a', 'é'] }]);
      expect(
        await backend.read([
          { op: 'setHas', key: 's:1', member: 'a' },
          { op: 'setHas', key: 's:1', member: 'é' },
          { op: 'setHas', key: 's:1', member: 'e' },
          { op: 'setHas', key: 's:none', member: 'a' },
        ]),
      ).toEqual([true, true, false, false]);
    });

    it('returns a fresh list of members on every read', async () => {
      await backend.write([{ op: 'setAdd', key: 's:1', members: ['a'] }]);
      const [first] = await backend.read([{ op: 'setMembers', keys: ['s:1'] }]);
      first.push('mutated');
      await backend.write([{ op: 'setAdd', key: 's:1', members: ['b'] }]);
      expect(await backend.read([{ op: 'setMembers', keys: ['s:1'] }])).toEqual([['a', 'b']]);
      expect(first).toEqual(['a', 'mutated']);
    });

    it('moves a member from one set to another atomically', async () => {
      await backend.write([{ op: 'setAdd', key: 'anon:g', members: ['session-1', 'session-2'] }]);
      const applied = await backend.write(
        [
          { op: 'setRemove', key: 'anon:g', members: ['session-2'] },
          { op: 'setAdd', key: 'auth:g', members: ['user-7'] },
        ],
        { atomic: true },
      );
      expect(applied).toBe(true);
      expect(
        await backend.read([
          { op: 'setMembers', keys: ['anon:g'] },
          { op: 'setMembers', keys: ['auth:g'] },
          { op: 'setCardinality', keys: ['anon:g', 'auth:g'] },
        ]),
      ).toEqual([['session-1'], ['user-7'], 2]);
    });
  });
}
