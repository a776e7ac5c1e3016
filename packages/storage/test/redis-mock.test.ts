import RedisMock from 'ioredis-mock';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisBackend, UnsupportedError } from '../src/index.js';
import { runBackendConformance } from '../src/testing/index.js';

// ioredis-mock emulates hashes, sets, values and Lua, but not BITOP, BITFIELD or PF*, and
// it stores strings as UTF-8 (so BITCOUNT and binary GET are wrong). The backend detects
// that and refuses bitmap and HyperLogLog operations rather than answer wrongly; the suite
// skips those tests here (they run on a real redis-server).
const mock = new RedisMock();
let n = 0;
afterAll(() => mock.disconnect());

runBackendConformance(
  'redis on ioredis-mock',
  () => new RedisBackend(mock as never, { prefix: `mock${n++}` }),
  {
    knownDeviations: {
      'a key without expiry has no time to live, and set clears an expiry':
        'ioredis-mock 8.13 keeps the expiry when SET overwrites a key (real Redis clears it)',
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
