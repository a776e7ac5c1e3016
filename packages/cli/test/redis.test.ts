/**
 * The real binary on a real redis-server: `porpoise demo --keep` seeds a prefix, and every
 * query command then answers exactly what the same command answers on the memory backend
 * seeded with --demo.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hasRedis, redisClient, redisTargets, uniquePrefix } from '@porpoise/test-redis';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonOf, MEMORY_DEMO, maskTimings, NOW_ISO, runCli, spawnCli, TMP, USERS } from './support.js';

const ORIGINAL = readFileSync(new URL('./fixtures/quickstart-2000.txt', import.meta.url), 'utf8');

describe.skipIf(!hasRedis())('porpoise on a real redis-server', () => {
  let url: string;
  let client: Redis;
  const prefix = uniquePrefix('cli');
  let seeded: Awaited<ReturnType<typeof spawnCli>>;

  const keysUnder = async (p: string) => (await client.keys(`${p}:*`)).length;

  beforeAll(async () => {
    const { host, port } = redisTargets().standalone!;
    url = `redis://${host}:${port}`;
    client = redisClient();
    seeded = await spawnCli(['demo', '--redis', url, '--prefix', prefix, '--keep', '--users', String(USERS)]);
  });
  afterAll(async () => {
    const keys = await client.keys(`${prefix}:*`);
    if (keys.length > 0) await client.del(...keys);
    await client.quit();
  });

  it('demo --keep prints the quick start (on redis) and leaves its data under --prefix', async () => {
    expect(seeded.stderr).toBe('');
    expect(seeded.code).toBe(0);
    const memoryText = maskTimings(ORIGINAL).replace(/\bmemory backend\b/g, 'redis backend');
    expect(maskTimings(seeded.stdout)).toBe(memoryText);
    expect(await keysUnder(prefix)).toBeGreaterThan(100);
  });

  const redis = () => ['--redis', url, '--prefix', prefix, '--now', NOW_ISO, '--json'];
  /** `tail` comes last, so its flags win over those of redis() (e.g. a later --now). */
  const same = async (command: string[], tail: string[] = []) => {
    const [onRedis, onMemory] = await Promise.all([
      spawnCli([...command, ...redis(), ...tail]),
      runCli([...command, '--json', ...MEMORY_DEMO, ...tail]),
    ]);
    const redisJson = jsonOf(onRedis);
    expect(redisJson).toEqual(jsonOf(onMemory));
    expect(JSON.parse(onRedis.stdout).source).toEqual({ backend: 'redis', demo: false, prefix });
    return redisJson;
  };

  it('events: the same counts, ids and memberships as on memory', async () => {
    const out = await same([
      'events',
      'active',
      '--and',
      'login',
      '--xor',
      'signup',
      '--not',
      'song:played',
      '--range',
      'day:-10',
      '--ids',
      '--limit',
      '5',
      '--id',
      '7',
    ]);
    expect((out.buckets as Array<{ count: number }>).some((b) => b.count > 0)).toBe(true);
    await same(['events', 'active', '--or', 'signup', '--range', 'week:2026-10-19..2026-11-30']);
  });

  it('counters: the same top ids and bucket totals', async () => {
    const out = await same(['counters', 'song:played', '--range', 'day:-7', '--top', '8']);
    expect((out.top as unknown[]).length).toBe(8);
  });

  it('cohort: the same retention grid', async () => {
    const out = await same(['cohort', '--unit', 'week', '--periods', '6']);
    expect((out.rows as Array<{ size: number }>).some((r) => r.size > 0)).toBe(true);
    await same(['cohort', '--unit', 'day', '--periods', '3', '--range', 'day:-5']);
  });

  it('activity lookup: the same rows, collapsed by the demo', async () => {
    const out = await same([
      'activity',
      'lookup',
      '--period',
      'daily',
      '--buckets',
      'web,ios,android,total',
      '--aggregate',
      'total=web,ios,android',
      '--start',
      '2026-10-15',
      '--end',
      '2026-11-25',
    ]);
    const rows = out.rows as Array<{ date: string; final: boolean }>;
    expect(rows.filter((r) => r.final).map((r) => r.date)).toContain('2026-11-23');
  });

  it('report: the same data as on memory', async () => {
    const out = (name: string) => join(TMP, name);
    const [onRedis, onMemory] = await Promise.all([
      spawnCli(['report', '--out', out('cli-report-redis.html'), ...redis()]),
      runCli(['report', '--out', out('cli-report-memory.html'), '--json', ...MEMORY_DEMO]),
    ]);
    // Only where the data came from may differ.
    const dataOf = (json: Record<string, unknown>) => {
      const { source: _source, description: _description, ...data } = json.data as Record<string, unknown>;
      return data;
    };
    const data = dataOf(jsonOf(onRedis));
    expect(data).toEqual(dataOf(jsonOf(onMemory)));
    expect((data.dau as unknown[]).length).toBe(30);
  });

  it('activity collapse: the same periods collapsed (run last: it changes the data)', async () => {
    const out = await same(
      [
        'activity',
        'collapse',
        '--buckets',
        'web,ios,android',
        '--aggregate',
        'total=web,ios,android',
        '--periods',
        'daily,monthly',
        '--max-periods',
        '20',
      ],
      // A collapse date is never after now: the clock moves to the 2nd of December.
      ['--now', '2026-12-02'],
    );
    expect((out.periods as Array<{ collapsed: number }>).map((p) => p.collapsed)).toEqual([8, 1]);
    // Run again: everything is final, nothing left to do.
    const again = jsonOf(
      await spawnCli([
        'activity',
        'collapse',
        '--buckets',
        'web,ios,android',
        '--periods',
        'daily',
        '--max-periods',
        '20',
        ...redis(),
        '--now',
        '2026-12-02',
      ]),
    );
    expect(again.periods).toEqual([{ period: 'daily', collapsed: 0, rows: [] }]);
  });

  it('a table on redis names the server and the prefix', async () => {
    const { code, stdout } = await spawnCli([
      'events',
      'signup',
      '--range',
      'day:-3',
      '--redis',
      url,
      '--prefix',
      prefix,
      '--now',
      NOW_ISO,
    ]);
    expect(code).toBe(0);
    expect(stdout).toContain(`redis ${url}, prefix ${prefix}`);
  });

  it('demo without --keep writes under a random prefix and deletes every key afterwards', async () => {
    const before = (await client.keys('*')).length;
    const out = JSON.parse((await spawnCli(['demo', '--redis', url, '--users', '200', '--json'])).stdout);
    expect(out.prefix).toMatch(/^porpoise-demo-[0-9a-f]{6}$/);
    expect(out.kept).toBe(false);
    expect(out.recorded).toBeGreaterThan(0);
    expect(await keysUnder(out.prefix)).toBe(0);
    expect((await client.keys('*')).length).toBe(before);
  });

  it('demo --keep refuses a prefix that already holds data, and changes nothing', async () => {
    const before = await keysUnder(prefix);
    const { code, stdout, stderr } = await spawnCli([
      'demo',
      '--redis',
      url,
      '--prefix',
      prefix,
      '--keep',
      '--users',
      '50',
    ]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(
      new RegExp(`^porpoise: --prefix "${prefix}" already holds \\d+ keys on ${url}: [^\\n]+\\n$`),
    );
    expect(await keysUnder(prefix)).toBe(before);
  });
});
