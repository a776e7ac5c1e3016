/**
 * Runs a package's suite once per backend: memory always; a real redis-server and the
 * 3-node cluster when installed; ioredis-mock on request. Each test gets a fresh namespace.
 */
import { type Backend, MemoryBackend, RedisBackend } from '@porpoise/storage';
import { clusterClient, hasRedis, redisClient, uniquePrefix } from '@porpoise/test-redis';
import type { Cluster, Redis } from 'ioredis';
import RedisMock from 'ioredis-mock';
import { afterAll, beforeAll, describe } from 'vitest';

export type BackendKind = 'memory' | 'redis' | 'redis-cluster' | 'ioredis-mock';

export function describeEachBackend(
  suite: (make: () => Backend, kind: BackendKind) => void,
  options: { mock?: boolean } = {},
): void {
  describe('on memory', () => suite(() => new MemoryBackend(), 'memory'));

  describe.skipIf(!hasRedis())('on redis', () => {
    let client: Redis;
    beforeAll(() => {
      client = redisClient();
    });
    afterAll(async () => {
      await client.quit();
    });
    suite(() => new RedisBackend(client, { prefix: uniquePrefix() }), 'redis');
  });

  describe.skipIf(!hasRedis())('on redis-cluster', () => {
    let client: Cluster;
    beforeAll(() => {
      client = clusterClient();
    });
    afterAll(async () => {
      await client.quit();
    });
    suite(() => new RedisBackend(client, { prefix: uniquePrefix() }), 'redis-cluster');
  });

  if (options.mock) {
    describe('on ioredis-mock', () => {
      const mock = new RedisMock();
      afterAll(() => mock.disconnect());
      suite(() => new RedisBackend(mock as never, { prefix: uniquePrefix() }), 'ioredis-mock');
    });
  }
}
