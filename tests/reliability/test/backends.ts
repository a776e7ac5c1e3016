/** The backends every reliability property compares: memory, and a real redis-server when present. */
import { type Backend, MemoryBackend, RedisBackend } from '@porpoise/storage';
import { hasRedis, redisClient, uniquePrefix } from '@porpoise/test-redis';
import type { Redis } from 'ioredis';

let client: Redis | undefined;

export function compared(): Array<{ name: string; make: () => Backend }> {
  const list: Array<{ name: string; make: () => Backend }> = [
    { name: 'memory', make: () => new MemoryBackend() },
  ];
  if (hasRedis()) {
    list.push({
      name: 'redis',
      make: () => {
        client ??= redisClient();
        return new RedisBackend(client, { prefix: uniquePrefix('p') });
      },
    });
  }
  return list;
}

export async function closeShared(): Promise<void> {
  await client?.quit();
  client = undefined;
}

/** fast-check settings: 200 runs in CI, the seed printed so a failure can be replayed. */
export function runs(label: string): { numRuns: number; seed: number } {
  const seed = Number(process.env.FC_SEED ?? Date.now() % 2 ** 31);
  const numRuns = Number(process.env.FC_RUNS ?? 200);
  console.log(`[${label}] fast-check seed=${seed} numRuns=${numRuns} (replay with FC_SEED=${seed})`);
  return { numRuns, seed };
}
