/**
 * Scenario 6: a write of many increments across many locality groups on a 3-node Redis
 * Cluster, interrupted by one node running out of memory midway, then retried with the same
 * idempotencyKey: every increment is counted exactly once, and each call of the interrupted
 * attempt was all or nothing.
 */
import { RedisBackend, type WriteOp } from '@porpoise/storage';
import { clusterClient, hasRedis } from '@porpoise/test-redis';
import type { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeOf, info, scanKeys, temporaryKeys } from './support.js';

const GROUPS = 30;
const FIELDS = 12_000;

describe.skipIf(!hasRedis())('countMany-style partial failure on a cluster', () => {
  let cluster: Cluster;
  let nodes: Redis[];
  beforeAll(async () => {
    cluster = clusterClient();
    await cluster.ping();
    nodes = cluster.nodes('master');
  });
  afterAll(async () => {
    for (const node of nodes ?? []) await node.config('SET', 'maxmemory', '0').catch(() => {});
    cluster?.disconnect();
  });

  it('an OOM on one node midway, then a retry with the same idempotencyKey: every increment once', async () => {
    const prefix = `cretry${Date.now() % 100000}`;
    const backend = new RedisBackend(cluster, { prefix });
    const ops: WriteOp[] = [];
    const fields: Array<readonly [string, number]> = Array.from(
      { length: FIELDS },
      (_, i) => [`f${i}`, 1] as const,
    );
    for (let g = 0; g < GROUPS; g++)
      ops.push({ op: 'increment', key: `plays:hour:g${g}`, increments: fields });
    const victim = nodes[0]!;
    try {
      // The victim node may take about 2 MB more: it fails partway through its share.
      const used = Number((await info(victim, 'memory')).get('used_memory'));
      await victim.config('SET', 'maxmemory', String(used + 2 * 2 ** 20));
      await victim.config('SET', 'maxmemory-policy', 'noeviction');
      let error: unknown;
      try {
        await backend.write(ops, { idempotencyKey: 'import-42' });
      } catch (caught) {
        error = caught;
      }
      expect(codeOf(error)).toBe('OUT_OF_MEMORY');
      // Every group holds a prefix of its calls (5,000 fields per call).
      const lengths = await Promise.all(
        Array.from({ length: GROUPS }, (_, g) => cluster.hlen(`${prefix}:plays:hour:{g${g}}`)),
      );
      for (const n of lengths) expect(n % 5_000 === 0 || n === FIELDS).toBe(true);
      expect(lengths.some((n) => n < FIELDS)).toBe(true);
      expect(lengths.some((n) => n > 0)).toBe(true);

      await victim.config('SET', 'maxmemory', '0');
      expect(await backend.write(ops, { idempotencyKey: 'import-42' })).toBe(true);
      // And once more: nothing is applied twice.
      expect(await backend.write(ops, { idempotencyKey: 'import-42' })).toBe(true);
      const [results] = [
        await backend.read(
          Array.from({ length: GROUPS }, (_, g) => ({ op: 'hashGetAll' as const, key: `plays:hour:g${g}` })),
        ),
      ];
      for (const hash of results) {
        expect(hash.size).toBe(FIELDS);
        for (const value of hash.values()) if (value !== 1) throw new Error(`a field counted ${value} times`);
      }
      // Markers expire (default TTL one day); no temporaries anywhere.
      for (const node of nodes) {
        const markers = await scanKeys(node, `${prefix}:idem:*`);
        for (const marker of markers) {
          const ttl = await node.pttl(marker);
          expect(ttl).toBeGreaterThan(0);
          expect(ttl).toBeLessThanOrEqual(86_400_000);
        }
        expect(await temporaryKeys(node)).toEqual([]);
      }
      console.log(
        `cluster-retry: interrupted with groups at ${[...new Set(lengths)].sort((a, b) => a - b).join('/')} fields; retry counted ${GROUPS * FIELDS} increments once`,
      );
    } finally {
      await victim.config('SET', 'maxmemory', '0').catch(() => {});
      for (const node of nodes) {
        const keys = await scanKeys(node, `${prefix}:*`);
        for (const key of keys) await node.del(key);
      }
    }
  });
});
