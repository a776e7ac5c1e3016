import { clusterClient, hasRedis, redisClient, redisTargets, uniquePrefix } from '@porpoise/test-redis';
import { type Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackendError, bit, InvalidArgumentError, MemoryBackend, RedisBackend } from '../src/index.js';

async function rawKeys(client: Redis, pattern: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return keys.sort();
}

describe.skipIf(!hasRedis())('RedisBackend layout and safety on a real redis-server', () => {
  let client: Redis;
  beforeAll(() => {
    client = redisClient();
  });
  afterAll(async () => {
    await client.quit();
  });

  it('stores a logical key under its prefix with the locality group as hash tag', async () => {
    const prefix = uniquePrefix();
    const backend = new RedisBackend(client, { prefix });
    await backend.write([
      { op: 'set', key: 'events:meta:maxid', value: '1' },
      { op: 'setBits', key: 'events:e:login:day:20261124', offsets: [1, 70_000] },
    ]);
    expect(await rawKeys(client, `${prefix}:*`)).toEqual([
      `${prefix}:events:e:login:day:{20261124}`,
      `${prefix}:events:e:login:day:{20261124}:s0`,
      `${prefix}:events:meta:{maxid}`,
    ]);
    expect(await backend.keys()).toEqual(['events:e:login:day:20261124', 'events:meta:maxid']);
  });

  it('keeps a chunk sparse up to 256 offsets, then as a native Redis bitmap string', async () => {
    const prefix = uniquePrefix();
    const backend = new RedisBackend(client, { prefix });
    const base = `${prefix}:b:{g}`;
    // Chunk 0 gets 256 bits in two batches: still sparse, 3 bytes per offset.
    await backend.write([
      { op: 'setBits', key: 'b:g', offsets: Array.from({ length: 128 }, (_, i) => i * 2) },
    ]);
    await backend.write([
      { op: 'setBits', key: 'b:g', offsets: Array.from({ length: 128 }, (_, i) => 1_000 + i) },
    ]);
    expect(await client.strlen(`${base}:s0`)).toBe(256 * 3);
    expect(await client.zrange(base, 0, -1)).toEqual(['s0']);
    // The 257th makes it dense; a batch of more than 256 bits in one chunk goes dense at once.
    await backend.write([{ op: 'setBits', key: 'b:g', offsets: [5_000] }]);
    await backend.write([
      { op: 'setBits', key: 'b:g', offsets: Array.from({ length: 300 }, (_, i) => 2 ** 20 + i) },
    ]);
    expect(await client.zrange(base, 0, -1)).toEqual(['0', '1']);
    expect(await rawKeys(client, `${base}*`)).toEqual([base, `${base}:c0`, `${base}:c1`]);
    expect(await client.bitcount(`${base}:c0`)).toBe(257);
    expect(await client.getbit(`${base}:c1`, 299)).toBe(1);
    const [count, has] = await backend.read([
      { op: 'bitCount', expr: bit.key('b:g') },
      { op: 'getBit', key: 'b:g', offset: 5_000 },
    ]);
    expect([count, has]).toEqual([557, true]);
  });

  it('keeps 1,000 ids scattered up to 2^32 under 1 MiB', async () => {
    const prefix = uniquePrefix();
    const backend = new RedisBackend(client, { prefix });
    const ids = Array.from({ length: 1_000 }, (_, i) => (i * 2_654_435_761) % 2 ** 32);
    await backend.write([{ op: 'setBits', key: 'b:sparse', offsets: ids }]);
    let bytes = 0;
    for (const key of await rawKeys(client, `${prefix}:*`)) bytes += (await client.memory('USAGE', key)) ?? 0;
    expect(bytes).toBeLessThan(2 ** 20);
    const [count, bitmap] = await backend.read([
      { op: 'bitCount', expr: bit.key('b:sparse') },
      { op: 'bitmap', expr: bit.key('b:sparse') },
    ]);
    expect(count).toBe(new Set(ids).size);
    expect(bitmap.toArray()).toEqual([...new Set(ids)].sort((a, b) => a - b));
  });

  it('counts ANDs of narrow windows (a week of consecutive signups) exactly', async () => {
    const redis = new RedisBackend(client, { prefix: uniquePrefix() });
    const memory = new MemoryBackend();
    let seed = 7;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const active = Array.from({ length: 1_200_000 }, (_, id) => id).filter(() => random() < 0.3);
    const ops = [
      { op: 'setBits' as const, key: 'b:active:g', offsets: active },
      ...[0, 1, 7, 8, 23, 24].map((week) => ({
        op: 'setBits' as const,
        key: `b:signup${week}:g`,
        offsets: Array.from({ length: 40_000 }, (_, i) => week * 40_000 + i + (week % 2)),
      })),
    ];
    for (const backend of [redis, memory]) await backend.write(ops);
    const reads = [0, 1, 7, 8, 23, 24].flatMap((week) => [
      { op: 'bitCount' as const, expr: bit.and(bit.key(`b:signup${week}:g`), bit.key('b:active:g')) },
      {
        op: 'bitCount' as const,
        expr: bit.and(bit.key('b:active:g'), bit.key(`b:signup${week}:g`), bit.key('b:signup0:g')),
      },
    ]);
    const fromRedis = await redis.read(reads);
    expect(fromRedis).toEqual(await memory.read(reads));
    expect(fromRedis[0]).toBeGreaterThan(10_000);
  });

  it('counts NOT across the 2^20-bit chunk boundary exactly', async () => {
    const redis = new RedisBackend(client, { prefix: uniquePrefix() });
    const memory = new MemoryBackend();
    const offsets = [0, 2 ** 20 - 1, 2 ** 20, 2 ** 20 + 9, ...Array.from({ length: 400 }, (_, i) => 3 * i)];
    for (const backend of [redis, memory]) await backend.write([{ op: 'setBits', key: 'b:n', offsets }]);
    const ops = [2 ** 20 - 1, 2 ** 20, 2 ** 20 + 10, 3 * 2 ** 20 + 5].map(
      (bits) => ({ op: 'bitCount', expr: bit.not(bit.key('b:n'), bits) }) as const,
    );
    const fromRedis = await redis.read(ops);
    expect(fromRedis).toEqual(await memory.read(ops));
    // [0, 2^20) holds 401 set bits: 0, 3, …, 1197 and 2^20 - 1.
    expect(fromRedis[1]).toBe(2 ** 20 - 401);
  });

  it('keeps a bitmap holding only id 2^32-1 small', async () => {
    const prefix = uniquePrefix();
    const backend = new RedisBackend(client, { prefix });
    await backend.write([{ op: 'setBits', key: 'b:top', offsets: [2 ** 32 - 1] }]);
    let bytes = 0;
    for (const key of await rawKeys(client, `${prefix}:*`)) bytes += (await client.memory('USAGE', key)) ?? 0;
    expect(bytes).toBeLessThan(64 * 1024);
  });

  it('leaves no temporary key behind after queries, including failed ones', async () => {
    const prefix = uniquePrefix();
    const backend = new RedisBackend(client, { prefix });
    await backend.write([
      { op: 'setBits', key: 'x:g', offsets: [1, 2, 100_000] },
      { op: 'setBits', key: 'y:g', offsets: [2, 3] },
      { op: 'setAdd', key: 's:g', members: ['a'] },
    ]);
    await backend.read([
      { op: 'bitCount', expr: bit.xor(bit.key('x:g'), bit.not(bit.key('y:g'), 200_000)) },
      { op: 'bitmap', expr: bit.andNot(bit.or(bit.key('x:g'), bit.key('y:g')), bit.key('y:g')) },
    ]);
    await expect(
      backend.read([{ op: 'bitCount', expr: bit.and(bit.key('x:g'), bit.key('s:g')) }]),
    ).rejects.toThrow(/WRONGTYPE/);
    expect((await rawKeys(client, `${prefix}:*`)).filter((k) => k.includes(':tmp:'))).toEqual([]);
  });

  it('never reads or deletes keys of another prefix or un-prefixed keys', async () => {
    const a = new RedisBackend(client, { prefix: uniquePrefix('a') });
    const foreign = `foreign-${uniquePrefix()}`;
    await client.set(foreign, 'keep');
    await client.set(`${a.prefix}x`, 'keep');
    await a.write([{ op: 'delete', keys: [foreign, `${a.prefix}x`] }]);
    expect(await a.keys()).toEqual([]);
    expect(await client.get(foreign)).toBe('keep');
    expect(await client.get(`${a.prefix}x`)).toBe('keep');
    await client.del(foreign, `${a.prefix}x`);
  });

  it('sends scripts by SHA1 and recovers when the server forgot them (NOSCRIPT)', async () => {
    const backend = new RedisBackend(client, { prefix: uniquePrefix() });
    await backend.write([{ op: 'setBits', key: 'b:g', offsets: [1, 2] }]);
    await client.script('FLUSH');
    expect(await backend.read([{ op: 'bitCount', expr: bit.key('b:g') }])).toEqual([2]);
    await client.script('FLUSH');
    expect(await backend.write([{ op: 'set', key: 'v:g', value: '1' }], { atomic: true })).toBe(true);
  });

  it('refuses an invalid prefix', () => {
    expect(() => new RedisBackend(client, { prefix: 'a:b' })).toThrow(InvalidArgumentError);
    expect(() => new RedisBackend(client, { prefix: '' })).toThrow(/prefix/);
  });

  it('gives HyperLogLog estimates identical to the memory backend', async () => {
    const redis = new RedisBackend(client, { prefix: uniquePrefix() });
    const memory = new MemoryBackend();
    for (const size of [1, 7, 100, 1000, 5000, 50_000]) {
      const members = Array.from({ length: size }, (_, i) => `member-${size}-${i}`);
      const ops = [{ op: 'hllAdd' as const, key: `h:${size}`, members }];
      await redis.write(ops);
      await memory.write(ops);
      const [fromRedis] = await redis.read([{ op: 'hllCount', keys: [`h:${size}`] }]);
      const [fromMemory] = await memory.read([{ op: 'hllCount', keys: [`h:${size}`] }]);
      expect(fromMemory).toBe(fromRedis);
    }
  });

  it('rejects with a CONNECTION_ERROR when the server is unreachable', async () => {
    const backend = RedisBackend.fromUrl('redis://127.0.0.1:1', { redis: { connectTimeout: 500 } });
    const started = Date.now();
    const error = await backend.read([{ op: 'get', key: 'k' }]).catch((e: unknown) => e);
    expect(BackendError.isInstance(error)).toBe(true);
    expect((error as BackendError).code).toBe('CONNECTION_ERROR');
    expect(Date.now() - started).toBeLessThan(10_000);
    await backend.close();
  });
});

describe.skipIf(!hasRedis())('RedisBackend.fromUrl', () => {
  it('refuses a database index the server cannot select, instead of writing to database 0', async () => {
    const { host, port } = redisTargets().standalone!;
    const backend = RedisBackend.fromUrl(`redis://${host}:${port}/99`, { prefix: uniquePrefix() });
    const error = await backend.write([{ op: 'set', key: 'v:1', value: 'x' }]).catch((e: unknown) => e);
    await backend.close();
    expect((error as BackendError).code).toBe('CONNECTION_ERROR');
    expect((error as Error).message).toMatch(/could not select database 99/);
  });

  it('works on a database other than 0 that exists', async () => {
    const { host, port } = redisTargets().standalone!;
    const prefix = uniquePrefix();
    const backend = RedisBackend.fromUrl(`redis://${host}:${port}/3`, { prefix });
    await backend.write([{ op: 'set', key: 'v:1', value: 'x' }]);
    const other = new Redis({ host, port, db: 3 });
    expect(await other.get(`${prefix}:v:{1}`)).toBe('x');
    await other.quit();
    await backend.close();
  });

  it('names the address and the cause, never the password of the URL', async () => {
    const backend = RedisBackend.fromUrl('redis://alice:s3cret@127.0.0.1:1', {
      redis: { connectTimeout: 500 },
    });
    const error = (await backend.read([{ op: 'get', key: 'k' }]).catch((e: unknown) => e)) as Error;
    await backend.close();
    expect(error.message).toMatch(/^Redis at 127\.0\.0\.1:1 could not be reached: connection refused$/);
    expect(error.message).not.toContain('s3cret');
  });
});

describe.skipIf(!hasRedis())('RedisBackend on the 3-node cluster', () => {
  let client: Cluster;
  beforeAll(() => {
    client = clusterClient();
  });
  afterAll(async () => {
    await client.quit();
  });

  it('spreads a workload over all three nodes', async () => {
    const prefix = uniquePrefix();
    const backend = new RedisBackend(client, { prefix });
    const ops = Array.from({ length: 48 }, (_, hour) => ({
      op: 'setBits' as const,
      key: `events:e:login:hour:20261124${String(hour).padStart(2, '0')}`,
      offsets: [hour],
    }));
    await backend.write(ops);
    const perNode = await Promise.all(
      client.nodes('master').map(async (node) => (await rawKeys(node, `${prefix}:*`)).length),
    );
    console.log(`cluster key spread for 48 hourly bitmaps: ${perNode.join(' / ')}`);
    expect(perNode).toHaveLength(3);
    for (const count of perNode) expect(count).toBeGreaterThan(0);
    expect(await backend.keys()).toHaveLength(48);
  });

  it('answers expressions across slots exactly like a standalone server', async () => {
    const backend = new RedisBackend(client, { prefix: uniquePrefix() });
    await backend.write([
      { op: 'setBits', key: 'e:a:day:20261123', offsets: [1, 2, 3, 70_000] },
      { op: 'setBits', key: 'e:b:day:20261124', offsets: [2, 3, 4] },
    ]);
    const expr = bit.andNot(
      bit.or(bit.key('e:a:day:20261123'), bit.key('e:b:day:20261124')),
      bit.key('e:b:day:20261124'),
    );
    const [count, bitmap] = await backend.read([
      { op: 'bitCount', expr },
      { op: 'bitmap', expr },
    ]);
    expect(count).toBe(2);
    expect(bitmap.toArray()).toEqual([1, 70_000]);
  });

  it('refuses an atomic write across locality groups', async () => {
    const backend = new RedisBackend(client, { prefix: uniquePrefix() });
    const write = backend.write(
      [
        { op: 'set', key: 'a:1', value: 'x' },
        { op: 'set', key: 'a:2', value: 'y' },
      ],
      { atomic: true },
    );
    await expect(write).rejects.toSatisfy((e: unknown) => InvalidArgumentError.isInstance(e));
    expect(await backend.keys()).toEqual([]);
  });

  it('merges HyperLogLogs across slots', async () => {
    const backend = new RedisBackend(client, { prefix: uniquePrefix() });
    await backend.write([
      { op: 'hllAdd', key: 'h:1', members: ['a', 'b', 'c'] },
      { op: 'hllAdd', key: 'h:2', members: ['c', 'd'] },
    ]);
    expect(await backend.read([{ op: 'hllCount', keys: ['h:1', 'h:2', 'h:3'] }])).toEqual([4]);
    expect(await backend.keys()).toEqual(['h:1', 'h:2']);
  });
});
