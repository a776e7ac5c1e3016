import { clusterClient, hasRedis, redisClient, uniquePrefix } from '@porpoise/test-redis';
import type { Cluster, Redis } from 'ioredis';
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
