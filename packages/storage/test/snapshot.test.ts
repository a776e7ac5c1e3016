/** snapshotOf / restoreSnapshot: a MemoryBackend as bytes and back, every kind of value. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bit,
  InvalidArgumentError,
  MemoryBackend,
  restoreSnapshot,
  SNAPSHOT_FORMAT_VERSION,
  snapshotOf,
  type WriteOp,
} from '../src/index.js';

const NOW = Date.UTC(2026, 10, 24, 12);

/** Every read the interface has, of one key: its result, or the error it raises. */
async function readsOf(backend: MemoryBackend, key: string): Promise<Record<string, unknown>> {
  const attempts: Record<string, () => Promise<unknown>> = {
    exists: async () => (await backend.read([{ op: 'exists', key }]))[0],
    ttl: async () => (await backend.read([{ op: 'ttl', key }]))[0],
    get: async () => (await backend.read([{ op: 'get', key }]))[0],
    hashGetAll: async () => [...(await backend.read([{ op: 'hashGetAll', key }]))[0]],
    hashGetProto: async () => (await backend.read([{ op: 'hashGet', key, field: '__proto__' }]))[0],
    setMembers: async () => (await backend.read([{ op: 'setMembers', keys: [key] }]))[0],
    setCardinality: async () => (await backend.read([{ op: 'setCardinality', keys: [key] }]))[0],
    bitmap: async () => (await backend.read([{ op: 'bitmap', expr: bit.key(key) }]))[0].toArray(),
    bitCount: async () => (await backend.read([{ op: 'bitCount', expr: bit.key(key) }]))[0],
    getBit: async () => (await backend.read([{ op: 'getBit', key, offset: 2 ** 32 - 1 }]))[0],
    hllCount: async () => (await backend.read([{ op: 'hllCount', keys: [key] }]))[0],
  };
  const out: Record<string, unknown> = {};
  for (const [name, attempt] of Object.entries(attempts)) {
    try {
      out[name] = await attempt();
    } catch (error) {
      out[name] = `error: ${(error as Error).message}`;
    }
  }
  return out;
}

async function everyRead(backend: MemoryBackend): Promise<Record<string, Record<string, unknown>>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const key of await backend.keys()) out[key] = await readsOf(backend, key);
  return out;
}

/** A store with every kind of value, edge values, expiries, and a key that has expired. */
async function everyKind(clock: { now: number }): Promise<MemoryBackend> {
  const backend = new MemoryBackend({ now: () => clock.now });
  const dense = Array.from({ length: 3000 }, (_, i) => 2 ** 20 - 1500 + i);
  const ops: WriteOp[] = [
    { op: 'setBits', key: 'e:sparse:1', offsets: [0, 1, 65535, 65536, 2 ** 31, 2 ** 32 - 1] },
    { op: 'setBits', key: 'e:dense:1', offsets: dense },
    { op: 'setBits', key: 'e:cleared:1', offsets: [5] },
    { op: 'setBits', key: 'e:cleared:1', offsets: [5], value: false },
    {
      op: 'increment',
      key: 'c:songs:1',
      increments: [
        ['song-1', 3],
        ['__proto__', -2],
        ['constructor', 2 ** 53 - 1],
        ['ünï 🎵', 1],
      ],
    },
    { op: 'setAdd', key: 'a:raw:web:1', members: ['user1@example.com', 'jdoe', 'ünï 🎵', '__proto__'] },
    { op: 'hllAdd', key: 'a:raw:hll:1', members: Array.from({ length: 5000 }, (_, i) => `u${i}`) },
    { op: 'hllAdd', key: 'a:raw:hll-small:1', members: ['only'] },
    { op: 'set', key: 'v:empty:1', value: '' },
    { op: 'set', key: 'v:text:1', value: 'line\nwith ünïcode 🎵' },
    { op: 'max', key: 'v:max:1', value: 4_294_967_295 },
    { op: 'expire', key: 'v:max:1', seconds: 3600 },
    { op: 'expire', key: 'a:raw:web:1', seconds: 86_400 },
    { op: 'set', key: 'v:gone:1', value: 'soon' },
    { op: 'expire', key: 'v:gone:1', seconds: 1 },
  ];
  await backend.write(ops);
  clock.now += 2000; // v:gone:1 has expired
  return backend;
}

describe('snapshotOf and restoreSnapshot', () => {
  it('restore a store whose every key answers every read as the original did', async () => {
    const clock = { now: NOW };
    const original = await everyKind(clock);
    const bytes = snapshotOf(original);
    const restored = restoreSnapshot(bytes, { now: () => clock.now });
    const reads = await everyRead(original);
    expect(Object.keys(reads)).toEqual([
      'a:raw:hll-small:1',
      'a:raw:hll:1',
      'a:raw:web:1',
      'c:songs:1',
      'e:cleared:1',
      'e:dense:1',
      'e:sparse:1',
      'v:empty:1',
      'v:max:1',
      'v:text:1',
    ]);
    expect(await everyRead(restored)).toEqual(reads);
    expect(reads['v:max:1']?.ttl).toBe(3600 * 1000 - 2000);
    expect(reads['c:songs:1']?.hashGetAll).toEqual([
      ['song-1', 3],
      ['__proto__', -2],
      ['constructor', 2 ** 53 - 1],
      ['ünï 🎵', 1],
    ]);
  });

  it('keep expiries as instants: a key restored later expires when the original would have', async () => {
    const clock = { now: NOW };
    const restored = restoreSnapshot(snapshotOf(await everyKind(clock)), { now: () => clock.now });
    clock.now += 3600 * 1000;
    expect(await restored.keys()).not.toContain('v:max:1');
    expect(await restored.keys()).toContain('a:raw:web:1');
  });

  it('are deterministic: the snapshot of a restored store is the same bytes', async () => {
    const clock = { now: NOW };
    const bytes = snapshotOf(await everyKind(clock));
    expect(snapshotOf(restoreSnapshot(bytes, { now: () => clock.now }))).toEqual(bytes);
    expect(bytes[15]).toBe(SNAPSHOT_FORMAT_VERSION);
  });

  it('restore a store independent of the original', async () => {
    const original = new MemoryBackend();
    await original.write([{ op: 'setBits', key: 'e:x:1', offsets: [1] }]);
    const restored = restoreSnapshot(snapshotOf(original));
    await original.write([{ op: 'setBits', key: 'e:x:1', offsets: [2] }]);
    await restored.write([{ op: 'hllAdd', key: 'h:1', members: ['a'] }]);
    expect((await restored.read([{ op: 'bitmap', expr: bit.key('e:x:1') }]))[0].toArray()).toEqual([1]);
    expect(await original.keys()).toEqual(['e:x:1']);
  });

  it('round-trip random bitmaps exactly', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.integer({ min: 0, max: 2 ** 32 - 1 }), { maxLength: 300 }),
        async (offsets) => {
          const backend = new MemoryBackend();
          await backend.write([{ op: 'setBits', key: 'e:r:1', offsets }]);
          const restored = restoreSnapshot(snapshotOf(backend));
          const [bitmap] = await restored.read([{ op: 'bitmap', expr: bit.key('e:r:1') }]);
          expect(bitmap.toArray()).toEqual([...offsets].sort((a, b) => a - b));
        },
      ),
      { numRuns: 50 },
    );
  });

  it('snapshot an empty store', async () => {
    expect(await restoreSnapshot(snapshotOf(new MemoryBackend())).keys()).toEqual([]);
  });

  it('refuse a closed backend and anything but a MemoryBackend', async () => {
    const closed = new MemoryBackend();
    await closed.close();
    expect(() => snapshotOf(closed)).toThrow('the memory backend is closed');
    expect(() => snapshotOf({} as MemoryBackend)).toThrow(InvalidArgumentError);
  });
});

describe('restoreSnapshot on damaged bytes', () => {
  async function sample(): Promise<Uint8Array> {
    return snapshotOf(await everyKind({ now: NOW }));
  }

  it('refuses every single flipped byte', async () => {
    const bytes = await sample();
    // Every byte of the header and a spread of the rest: each flip must be detected.
    const positions = [
      ...Array.from({ length: 40 }, (_, i) => i),
      ...Array.from({ length: 60 }, (_, i) => Math.floor((i * bytes.length) / 60)),
    ];
    for (const position of positions) {
      const damaged = bytes.slice();
      damaged[position]! ^= 0x10;
      expect(() => restoreSnapshot(damaged), `byte ${position}`).toThrow(InvalidArgumentError);
    }
  });

  it('refuses truncated bytes, extra bytes, another format version and non-bytes', async () => {
    const bytes = await sample();
    for (const length of [0, 10, 16, 100, bytes.length - 1]) {
      expect(() => restoreSnapshot(bytes.slice(0, length))).toThrow(/not a readable memory snapshot/);
    }
    const longer = new Uint8Array(bytes.length + 1);
    longer.set(bytes);
    expect(() => restoreSnapshot(longer)).toThrow(InvalidArgumentError);
    const other = bytes.slice();
    other[15] = SNAPSHOT_FORMAT_VERSION + 1;
    expect(() => restoreSnapshot(other)).toThrow(`format version ${SNAPSHOT_FORMAT_VERSION + 1}`);
    expect(() => restoreSnapshot('PORPOISE' as unknown as Uint8Array)).toThrow('must be a Uint8Array');
  });
});
