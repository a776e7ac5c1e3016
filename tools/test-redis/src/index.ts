/**
 * Test helpers for suites that need Redis. The servers are started once per vitest run by
 * `@porpoise/test-redis/global-setup`; tests reach them through `inject`.
 */
import { randomBytes } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
import { createClient, createCluster, type RedisClientType, type RedisClusterType } from 'redis';
import { inject } from 'vitest';

export interface RedisAddress {
  host: string;
  port: number;
}

export interface RedisTargets {
  standalone: RedisAddress | null;
  cluster: RedisAddress[] | null;
}

declare module 'vitest' {
  export interface ProvidedContext {
    porpoiseRedis: RedisTargets;
  }
}

export function redisTargets(): RedisTargets {
  return inject('porpoiseRedis') ?? { standalone: null, cluster: null };
}

/** True when a real redis-server (and the cluster) is available for this run. */
export function hasRedis(): boolean {
  return redisTargets().standalone !== null;
}

/** A client on the throwaway standalone server. The caller quits it. */
export function redisClient(): Redis {
  const target = redisTargets().standalone;
  if (!target) throw new Error('no redis-server in this test run');
  return new Redis({ ...target, lazyConnect: false, maxRetriesPerRequest: 1 });
}

/** A client on the throwaway 3-node cluster. The caller quits it. */
export function clusterClient(): Cluster {
  const nodes = redisTargets().cluster;
  if (!nodes) throw new Error('no redis cluster in this test run');
  return new Cluster(nodes, { redisOptions: { maxRetriesPerRequest: 1 } });
}

/** A connected node-redis client on the throwaway standalone server. The caller closes it. */
export async function nodeRedisClient(): Promise<RedisClientType> {
  const target = redisTargets().standalone;
  if (!target) throw new Error('no redis-server in this test run');
  const client = createClient({ socket: { host: target.host, port: target.port } });
  client.on('error', () => {});
  await client.connect();
  return client as RedisClientType;
}

/** A connected node-redis cluster client on the throwaway 3-node cluster. The caller closes it. */
export async function nodeRedisCluster(): Promise<RedisClusterType> {
  const nodes = redisTargets().cluster;
  if (!nodes) throw new Error('no redis cluster in this test run');
  const cluster = createCluster({
    rootNodes: nodes.map((n) => ({ socket: { host: n.host, port: n.port } })),
  });
  cluster.on('error', () => {});
  await cluster.connect();
  return cluster as RedisClusterType;
}

/** A prefix no other test uses, so test files can share one server and run in parallel. */
export function uniquePrefix(label = 't'): string {
  return `${label}-${randomBytes(6).toString('hex')}`;
}
