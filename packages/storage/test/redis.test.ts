import {
  clusterClient,
  hasRedis,
  nodeRedisClient,
  nodeRedisCluster,
  redisClient,
  uniquePrefix,
} from '@porpoise/test-redis';
import type { Cluster, Redis } from 'ioredis';
import type { RedisClientType, RedisClusterType } from 'redis';
import { afterAll, beforeAll, describe } from 'vitest';
import { RedisBackend } from '../src/index.js';
import { runBackendConformance, runNamespaceIsolation } from '../src/testing/index.js';

describe.skipIf(!hasRedis())('RedisBackend on a real redis-server', () => {
  let client: Redis;
  beforeAll(() => {
    client = redisClient();
  });
  afterAll(async () => {
    await client.quit();
  });
  runBackendConformance('redis', () => new RedisBackend(client, { prefix: uniquePrefix() }));
  runNamespaceIsolation('two Redis prefixes', async () => [
    new RedisBackend(client, { prefix: uniquePrefix('a') }),
    new RedisBackend(client, { prefix: uniquePrefix('b') }),
  ]);
});

describe.skipIf(!hasRedis())('RedisBackend on a 3-node Redis Cluster', () => {
  let client: Cluster;
  beforeAll(() => {
    client = clusterClient();
  });
  afterAll(async () => {
    await client.quit();
  });
  runBackendConformance('redis-cluster', () => new RedisBackend(client, { prefix: uniquePrefix() }));
  runNamespaceIsolation('two Redis Cluster prefixes', async () => [
    new RedisBackend(client, { prefix: uniquePrefix('a') }),
    new RedisBackend(client, { prefix: uniquePrefix('b') }),
  ]);
});

describe.skipIf(!hasRedis())('RedisBackend on node-redis', () => {
  let client: RedisClientType;
  beforeAll(async () => {
    client = await nodeRedisClient();
  });
  afterAll(async () => {
    await client.close();
  });
  runBackendConformance('node-redis', () => new RedisBackend(client, { prefix: uniquePrefix() }));
});

describe.skipIf(!hasRedis())('RedisBackend on a node-redis cluster', () => {
  let client: RedisClusterType;
  beforeAll(async () => {
    client = await nodeRedisCluster();
  });
  afterAll(async () => {
    await client.close();
  });
  runBackendConformance('node-redis-cluster', () => new RedisBackend(client, { prefix: uniquePrefix() }));
});
