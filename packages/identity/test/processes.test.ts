import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { RedisBackend } from '@porpoise/storage';
import { clusterClient, hasRedis, redisClient, redisTargets, uniquePrefix } from '@porpoise/test-redis';
import { describe, expect, it } from 'vitest';
import { Identities } from '../src/index.js';
import { idOf } from './support/ids.js';

const run = promisify(execFile);
const PROCESSES = 4;
const IDS = 100_000;
/** Each id is resolved by two processes. */
const SHARE = IDS / 2;
const SHARDS = 32;

async function resolveInProcesses(target: unknown, prefix: string): Promise<Map<number, number>> {
  const script = fileURLToPath(new URL('./support/resolver.ts', import.meta.url));
  const outputs = await Promise.all(
    Array.from({ length: PROCESSES }, (_, p) =>
      run(process.execPath, ['--conditions=@porpoise/source', '--import', 'tsx', script], {
        env: {
          ...process.env,
          TARGET: JSON.stringify(target),
          PREFIX: prefix,
          PROCESS: String(p),
          PROCESSES: String(PROCESSES),
          IDS: String(IDS),
          SHARE: String(SHARE),
        },
        maxBuffer: 64 * 2 ** 20,
      }),
    ),
  );
  // Every id one integer: the processes that resolved it agree.
  const intOf = new Map<number, number>();
  for (const { stdout } of outputs) {
    const { indices, ints } = JSON.parse(stdout) as { indices: number[]; ints: number[] };
    indices.forEach((index, i) => {
      const known = intOf.get(index);
      if (known !== undefined && known !== ints[i])
        throw new Error(`${idOf(index)}: ${known} and ${ints[i]}`);
      intOf.set(index, ints[i]!);
    });
  }
  return intOf;
}

function expectUniqueAndDense(intOf: Map<number, number>): void {
  expect(intOf.size).toBe(IDS);
  const ints = [...intOf.values()];
  expect(new Set(ints).size).toBe(IDS);
  // Dense per shard: shard s handed out exactly s, s + S, …, s + S·(count - 1).
  const perShard = new Map<number, number[]>();
  for (const n of ints) {
    const list = perShard.get(n % SHARDS) ?? [];
    list.push(n);
    perShard.set(n % SHARDS, list);
  }
  for (const [shard, list] of perShard) {
    list.sort((a, b) => a - b);
    expect(list).toEqual(list.map((_, k) => shard + SHARDS * k));
  }
  expect(Math.max(...ints)).toBeLessThan(IDS + 4 * Math.sqrt(IDS * SHARDS) + SHARDS);
}

describe.skipIf(!hasRedis())('4 processes resolving 100,000 overlapping ids at once', () => {
  it('on a redis-server: every id one integer, integers unique and dense', { timeout: 180_000 }, async () => {
    const prefix = uniquePrefix('procs');
    const intOf = await resolveInProcesses(redisTargets().standalone, prefix);
    expectUniqueAndDense(intOf);
    const client = redisClient();
    try {
      const identities = new Identities(new RedisBackend(client, { prefix }));
      const sample = [...intOf.entries()].slice(0, 5_000);
      expect(await identities.lookup(sample.map(([, n]) => n))).toEqual(sample.map(([index]) => idOf(index)));
    } finally {
      await client.quit();
    }
  });

  it('on a 3-node cluster: the same, with the shards spread over every node', {
    timeout: 180_000,
  }, async () => {
    const prefix = uniquePrefix('procs');
    const intOf = await resolveInProcesses(redisTargets().cluster, prefix);
    expectUniqueAndDense(intOf);
    const client = clusterClient();
    try {
      await client.ping();
      const masters = client.nodes('master');
      const counts = await Promise.all(
        masters.map(async (node) => (await node.keys(`${prefix}:dict:*`)).length),
      );
      expect(counts.length).toBe(3);
      for (const count of counts) expect(count).toBeGreaterThan(0);
    } finally {
      await client.quit();
    }
  });
});
