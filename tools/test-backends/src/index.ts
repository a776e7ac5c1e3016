/**
 * Runs a package's suite once per backend: memory always; a real redis-server and the
 * 3-node cluster when installed, through ioredis and through node-redis; ioredis-mock on request. Each test gets a fresh namespace.
 */
import { type Backend, MemoryBackend, RedisBackend } from '@porpoise/storage';
import {
  clusterClient,
  hasRedis,
  nodeRedisClient,
  nodeRedisCluster,
  redisClient,
  uniquePrefix,
} from '@porpoise/test-redis';
import type { Cluster, Redis } from 'ioredis';
import RedisMock from 'ioredis-mock';
import type { RedisClientType, RedisClusterType } from 'redis';
import { afterAll, beforeAll, describe } from 'vitest';

export type BackendKind =
  | 'memory'
  | 'redis'
  | 'redis-cluster'
  | 'node-redis'
  | 'node-redis-cluster'
  | 'ioredis-mock';

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

  describe.skipIf(!hasRedis())('on node-redis', () => {
    let client: RedisClientType;
    beforeAll(async () => {
      client = await nodeRedisClient();
    });
    afterAll(async () => {
      await client.close();
    });
    suite(() => new RedisBackend(client, { prefix: uniquePrefix() }), 'node-redis');
  });

  describe.skipIf(!hasRedis())('on node-redis-cluster', () => {
    let client: RedisClusterType;
    beforeAll(async () => {
      client = await nodeRedisCluster();
    });
    afterAll(async () => {
      await client.close();
    });
    suite(() => new RedisBackend(client, { prefix: uniquePrefix() }), 'node-redis-cluster');
  });

  if (options.mock) {
    describe('on ioredis-mock', () => {
      const mock = new RedisMock();
      afterAll(() => mock.disconnect());
      suite(() => new RedisBackend(mock as never, { prefix: uniquePrefix() }), 'ioredis-mock');
    });
  }
}
