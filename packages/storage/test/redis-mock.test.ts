import RedisMock from 'ioredis-mock';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisBackend, UnsupportedError } from '../src/index.js';
import { runBackendConformance } from '../src/testing/index.js';

// ioredis-mock emulates hashes, sets, values and Lua, but not BITOP, BITFIELD or PF*, and
// it stores strings as UTF-8 (so BITCOUNT and binary GET are wrong). The backend detects
// that and refuses bitmap and HyperLogLog operations rather than answer wrongly; the suite
// skips those tests here (they run on a real redis-server).
const mock = new RedisMock();
// Its Lua is an interpreter written in JavaScript: batches of 100,000 items take minutes there.
const SLOW =
  'ioredis-mock 8.13 runs scripts in a JavaScript Lua interpreter, far too slow for 100,000-item batches (real Redis runs them)';
let n = 0;
afterAll(() => mock.disconnect());

runBackendConformance(
  'redis on ioredis-mock',
  () => new RedisBackend(mock as never, { prefix: `mock${n++}` }),
  {
    knownDeviations: {
      'adds 200,000 members to a set in one operation, and counts and lists them': SLOW,
      'counts the union of two large overlapping sets exactly': SLOW,
      'increments 100,000 fields in one operation and reads them all back': SLOW,
      'applies an atomic write of the largest allowed size whole': SLOW,

      'round-trips any text, including the empty string':
        "ioredis-mock 8.13's Lua bridge hands an empty string back from a script as nil (real Redis keeps it)",
      'a non-atomic write that hits the wrong type rejects with a BackendError':
        'ioredis-mock 8.13 does not raise WRONGTYPE for this command on a key of another kind (real Redis does)',
      'read: get of a hash rejects with WRONGTYPE':
        'ioredis-mock 8.13 does not raise WRONGTYPE for this command on a key of another kind (real Redis does)',
      'read: get of a set rejects with WRONGTYPE':
        'ioredis-mock 8.13 does not raise WRONGTYPE for this command on a key of another kind (real Redis does)',
      'read: hashGet of a plain value rejects with WRONGTYPE':
        'ioredis-mock 8.13 does not raise WRONGTYPE for this command on a key of another kind (real Redis does)',
      'read: setCardinality with a hash rejects with WRONGTYPE':
        'ioredis-mock 8.13 does not raise WRONGTYPE for this command on a key of another kind (real Redis does)',
      'read: setHas of a hash rejects with WRONGTYPE':
        'ioredis-mock 8.13 does not raise WRONGTYPE for this command on a key of another kind (real Redis does)',
      'write: increment on a plain value rejects with WRONGTYPE and leaves the key as it was':
        'ioredis-mock 8.13 does not raise WRONGTYPE for this command on a key of another kind (real Redis does)',
      'write: increment on a set rejects with WRONGTYPE and leaves the key as it was':
        'ioredis-mock 8.13 does not raise WRONGTYPE for this command on a key of another kind (real Redis does)',
      'write: max on a hash rejects with WRONGTYPE and leaves the key as it was':
        'ioredis-mock 8.13 does not raise WRONGTYPE for this command on a key of another kind (real Redis does)',
      'write: setAdd on a hash rejects with WRONGTYPE and leaves the key as it was':
        'ioredis-mock 8.13 does not raise WRONGTYPE for this command on a key of another kind (real Redis does)',
      'write: storeCardinality of sets from a hash rejects with WRONGTYPE and leaves the key as it was':
        'ioredis-mock 8.13 does not raise WRONGTYPE for this command on a key of another kind (real Redis does)',
      'leaves no other key behind after reads of every kind, including failed ones':
        'the failed reads it makes rely on WRONGTYPE, which ioredis-mock 8.13 does not raise',
      'agrees with a model on random increments, additions, removals and deletions':
        'the model expects WRONGTYPE where ioredis-mock 8.13 raises none',
      'treats __proto__, constructor and toString as ordinary fields':
        'ioredis-mock 8.13 answers HGET of a missing field named like an Object.prototype member (valueOf) with that member',
      'max keeps an expiry when it raises the value':
        'ioredis-mock 8.13 ignores SET … KEEPTTL inside scripts',
    },
  },
);

describe('RedisBackend on ioredis-mock', () => {
  it('reports bitmaps and HyperLogLog as unsupported', async () => {
    const backend = new RedisBackend(mock as never, { prefix: 'probe' });
    expect(await backend.supports('bitmaps')).toBe(false);
    expect(await backend.supports('hyperloglog')).toBe(false);
  });

  it('rejects bitmap and HyperLogLog operations with UnsupportedError', async () => {
    const backend = new RedisBackend(mock as never, { prefix: 'unsupported' });
    const write = backend.write([{ op: 'setBits', key: 'b', offsets: [1] }]);
    await expect(write).rejects.toSatisfy((e: unknown) => UnsupportedError.isInstance(e));
    await expect(backend.read([{ op: 'hllCount', keys: ['h'] }])).rejects.toThrow(/HyperLogLog/);
    expect(await backend.keys()).toEqual([]);
  });
});
