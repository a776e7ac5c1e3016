/** Id dictionaries on a real redis-server: the physical layout the conformance suite cannot see. */
import { hasRedis, redisClient, uniquePrefix } from '@porpoise/test-redis';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackendError, hashId, RedisBackend } from '../src/index.js';

describe.skipIf(!hasRedis())('id dictionaries on a redis-server', () => {
  let client: Redis;
  beforeAll(() => {
    client = redisClient();
  });
  afterAll(async () => {
    await client.quit();
  });

  it('keeps every bucket a compact listpack, under the prefix, one hash tag per shard', async () => {
    const prefix = uniquePrefix();
    const backend = new RedisBackend(client, { prefix });
    const ids = Array.from({ length: 5_000 }, (_, i) => `${i}-0b7e1c9a-2f4d-4c4e-9a51-3d2f8e6b`);
    await backend.resolveIds('d', ids, { create: { shards: 4, buckets: 16 } });
    const keys = await client.keys(`${prefix}:*`);
    // 4 states, 4 × 16 forward buckets, 4 × ceil(1250 / 64) reverse buckets, the config.
    expect(keys.length).toBeGreaterThan(4 + 64 + 4 * 19);
    for (const key of keys) {
      expect(key).toMatch(
        new RegExp(`^${prefix}:dict:d:(config:\\{d\\}|state:\\{d\\.\\d\\}|[fr]:\\d+:\\{d\\.\\d\\})$`),
      );
      expect(await client.object('ENCODING', key)).toBe('listpack');
    }
  });

  it('survives an emptied script cache', async () => {
    const backend = new RedisBackend(client, { prefix: uniquePrefix() });
    expect(await backend.resolveIds('d', ['a'], { create: { shards: 1 } })).toEqual([0]);
    await client.script('FLUSH');
    expect(await backend.resolveIds('d', ['b', 'a'])).toEqual([1, 0]);
  });

  it('refuses to assign when a shard was made with other parameters than the process uses', async () => {
    const prefix = uniquePrefix();
    const first = new RedisBackend(client, { prefix });
    await first.resolveIds('d', ['a'], { create: { shards: 1 } });
    // The config is lost (deleted by hand) and recreated with another shard count.
    await client.del(`${prefix}:dict:d:config:{d}`);
    const second = new RedisBackend(client, { prefix });
    // An id of shard 0 of 2: shard 0 was made with 1 shard and refuses (nothing assigned).
    const id = Array.from({ length: 50 }, (_, i) => `b${i}`).find((x) => hashId(x) % 2 === 0)!;
    const error = await second.resolveIds('d', [id], { create: { shards: 2 } }).catch((e: unknown) => e);
    expect(BackendError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/has 1 shards of 1024 buckets, not 2 of 1024/);
    expect(await client.hget(`${prefix}:dict:d:state:{d.0}`, 'next')).toBe('1');
  });
});
