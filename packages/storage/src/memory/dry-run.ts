/**
 * The dry run behind atomic writes: every operation is checked against the kind (and, where
 * an operation can fail on it, the content) each key will have when that operation runs,
 * given the operations before it in the same write. Only when the whole write would succeed
 * is anything applied, so an atomic write never stops halfway and needs no rollback.
 *
 * Nothing is copied: a key's stored value is consulted, and only what the write itself
 * changes is recorded, so checking costs in proportion to the write, not to the data.
 */
import type { WriteOp } from '../backend.js';
import { type Entry, INTEGER_VALUE, incrementOverflow, type Kind, notAnInteger, wrongType } from './entry.js';

/**
 * One operation's increments summed per field: a field's value is checked (and may overflow)
 * after the whole operation, as on Redis, where an operation's increments of one field are
 * applied as their sum.
 */
export function sumIncrements(increments: ReadonlyArray<readonly [string, number]>): Map<string, number> {
  const sums = new Map<string, number>();
  for (const [field, by] of increments) sums.set(field, (sums.get(field) ?? 0) + by);
  return sums;
}

/** A key as the write has left it so far. */
type Simulated =
  | { readonly kind: undefined }
  | { readonly kind: 'bitmap' | 'hll' }
  | { readonly kind: 'string'; readonly value: string }
  | {
      readonly kind: 'hash';
      readonly stored: ReadonlyMap<string, number> | undefined;
      readonly changed: Map<string, number>;
    }
  | {
      readonly kind: 'set';
      readonly stored: ReadonlySet<string> | undefined;
      /** Members added (true) or removed (false) by the write. */
      readonly changed: Map<string, boolean>;
      size: number;
    };

const ABSENT: Simulated = { kind: undefined };
const BITMAP: Simulated = { kind: 'bitmap' };
const HLL: Simulated = { kind: 'hll' };
/** storeCardinality writes an integer; which one does not matter to any later check. */
const SOME_INTEGER: Simulated = { kind: 'string', value: '0' };

function fromEntry(entry: Entry | undefined): Simulated {
  switch (entry?.kind) {
    case undefined:
      return ABSENT;
    case 'bitmap':
      return BITMAP;
    case 'hll':
      return HLL;
    case 'string':
      return { kind: 'string', value: entry.value };
    case 'hash':
      return { kind: 'hash', stored: entry.value, changed: new Map() };
    case 'set':
      return { kind: 'set', stored: entry.value, changed: new Map(), size: entry.value.size };
  }
}

function newSet(): Extract<Simulated, { kind: 'set' }> {
  return { kind: 'set', stored: undefined, changed: new Map(), size: 0 };
}

/**
 * Throw the error that applying `ops` in order would raise first, or return when they would
 * all succeed. `lookup` gives a key's live entry.
 */
export function dryRun(ops: readonly WriteOp[], lookup: (key: string) => Entry | undefined): void {
  const keys = new Map<string, Simulated>();
  const at = (key: string): Simulated => {
    let simulated = keys.get(key);
    if (simulated === undefined) keys.set(key, (simulated = fromEntry(lookup(key))));
    return simulated;
  };
  const expect = (key: string, kind: Kind): Simulated => {
    const simulated = at(key);
    if (simulated.kind !== undefined && simulated.kind !== kind) throw wrongType(key, kind, simulated.kind);
    return simulated;
  };

  for (const op of ops) {
    switch (op.op) {
      case 'setBits':
        if (op.offsets.length === 0) break;
        expect(op.key, 'bitmap');
        // Clearing bits of a missing bitmap creates nothing.
        if (op.value !== false) keys.set(op.key, BITMAP);
        break;
      case 'increment': {
        if (op.increments.length === 0) break;
        let hash = expect(op.key, 'hash');
        if (hash.kind !== 'hash')
          keys.set(op.key, (hash = { kind: 'hash', stored: undefined, changed: new Map() }));
        for (const [field, sum] of sumIncrements(op.increments)) {
          const next = (hash.changed.get(field) ?? hash.stored?.get(field) ?? 0) + sum;
          if (!Number.isSafeInteger(next)) throw incrementOverflow(op.key, field);
          hash.changed.set(field, next);
        }
        break;
      }
      case 'setAdd': {
        if (op.members.length === 0) break;
        let set = expect(op.key, 'set');
        if (set.kind !== 'set') keys.set(op.key, (set = newSet()));
        for (const member of op.members) {
          if (!(set.changed.get(member) ?? set.stored?.has(member) ?? false)) set.size++;
          set.changed.set(member, true);
        }
        break;
      }
      case 'setRemove': {
        if (op.members.length === 0) break;
        const set = expect(op.key, 'set');
        if (set.kind !== 'set') break;
        for (const member of op.members) {
          if (set.changed.get(member) ?? set.stored?.has(member) ?? false) set.size--;
          set.changed.set(member, false);
        }
        // Like Redis, a set that becomes empty no longer exists.
        if (set.size === 0) keys.set(op.key, ABSENT);
        break;
      }
      case 'hllAdd':
        if (op.members.length === 0) break;
        expect(op.key, 'hll');
        keys.set(op.key, HLL);
        break;
      case 'set':
        keys.set(op.key, { kind: 'string', value: op.value });
        break;
      case 'max': {
        const current = expect(op.key, 'string');
        if (current.kind === 'string' && !INTEGER_VALUE.test(current.value)) {
          throw notAnInteger(op.key, current.value);
        }
        if (current.kind !== 'string' || Number(current.value) < op.value) {
          keys.set(op.key, { kind: 'string', value: String(op.value) });
        }
        break;
      }
      case 'storeCardinality':
        for (const source of op.sources) expect(source, op.kind);
        keys.set(op.key, SOME_INTEGER);
        break;
      case 'delete':
        for (const key of op.keys) keys.set(key, ABSENT);
        break;
      case 'expire':
        break;
    }
  }
}
