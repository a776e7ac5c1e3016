/**
 * `porpoise events --identities`: events recorded with string ids through an id dictionary,
 * listed back as those ids, on a real redis-server (where the data outlives one command).
 */
import { Analytics, RedisBackend } from '@porpoise/analytics';
import { hasRedis, redisClient, redisTargets, uniquePrefix } from '@porpoise/test-redis';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonOf, runCli } from './support.js';

const NOW = '2026-11-24T12:30:00.000Z';
const at = new Date('2026-11-24T10:15:00Z');
const ADA = 'ada@example.com';
const UUID = '0b7e1c9a-2f4d-4c4e-9a51-3d2f8e6b7a10';

describe('porpoise events --identities (bad input)', () => {
  it('refuses a malformed external id before anything is opened', async () => {
    const out = await runCli(['events', 'login', '--identities', '--id', '\ud800']);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('--id');
  });
});

describe.skipIf(!hasRedis())('porpoise events --identities on a real redis-server', () => {
  let url: string;
  let client: Redis;
  const prefix = uniquePrefix('cli-ids');

  beforeAll(async () => {
    const { host, port } = redisTargets().standalone!;
    url = `redis://${host}:${port}`;
    client = redisClient();
    const backend = new RedisBackend(client, { prefix });
    const analytics = new Analytics(backend, { identities: true, now: () => new Date(NOW) });
    await analytics.eventMany([
      { name: 'login', id: ADA, at },
      { name: 'login', id: UUID, at },
      { name: 'play', id: ADA, at },
    ]);
    // Integers of another dictionary: not these events' ids.
    await analytics.identities.resolve(['someone-else']);
  });
  afterAll(async () => {
    const keys = await client.keys(`${prefix}:*`);
    if (keys.length > 0) await client.del(...keys);
    await client.quit();
  });
  const on = (...args: string[]) =>
    runCli([...args, '--range', 'day:-1..1', '--redis', url, '--prefix', prefix, '--now', NOW, '--json']);

  it('--ids lists the external ids, --id takes one', async () => {
    const out = jsonOf(await on('events', 'login', '--identities', '--ids', '--id', ADA)) as {
      id: string;
      buckets: Array<{ key: string; count: number; ids: string[]; member: boolean }>;
    };
    expect(out.id).toBe(ADA);
    const today = out.buckets.find((b) => b.key === '20261124')!;
    expect([...today.ids].sort()).toEqual([UUID, ADA].sort());
    expect([today.count, today.member]).toEqual([2, true]);
    const both = jsonOf(await on('events', 'login', '--and', 'play', '--identities', '--ids')) as {
      buckets: Array<{ key: string; ids: string[] }>;
    };
    expect(both.buckets.find((b) => b.key === '20261124')!.ids).toEqual([ADA]);
  });

  it('an id the dictionary never saw is in no bucket; without --identities the integers show', async () => {
    const out = jsonOf(await on('events', 'login', '--identities', '--id', 'nobody@example.com')) as {
      buckets: Array<{ member: boolean }>;
    };
    expect(out.buckets.map((b) => b.member)).toEqual([false, false]);
    const raw = jsonOf(await on('events', 'login', '--ids')) as { buckets: Array<{ ids: unknown[] }> };
    expect(raw.buckets.flatMap((b) => b.ids).every((id) => typeof id === 'number')).toBe(true);
  });
});
