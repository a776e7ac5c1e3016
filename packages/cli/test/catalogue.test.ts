/**
 * names, stats, delete, and the segment / during operands of `porpoise events`, on the demo
 * month in memory and on a real redis-server (where the data outlives one command).
 */

import { hasRedis, redisClient, redisTargets, uniquePrefix } from '@porpoise/test-redis';
import { dayrange, monthrange, weekrange } from '@porpoise/timerange';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoLibrary, jsonOf, MEMORY_DEMO, NOW_ISO, runCli, spawnCli, USERS } from './support.js';

let lib: Awaited<ReturnType<typeof demoLibrary>>;
beforeAll(async () => {
  lib = await demoLibrary();
});

describe('porpoise events --segment, name@range, --during (memory, --demo)', () => {
  it('--segment ANDs a segment into every bucket', async () => {
    const out = jsonOf(
      await runCli([
        'events',
        'active',
        '--segment',
        'plan:pro',
        '--range',
        'day:-3',
        '--json',
        ...MEMORY_DEMO,
      ]),
    );
    const expected = await lib.events
      .get('active')
      .and(lib.events.segment('plan:pro'))
      .counts(dayrange(-3, 0, lib.at));
    expect(out.expression).toBe('active AND segment plan:pro');
    expect((out.buckets as Array<{ count: number }>).map((b) => b.count)).toEqual(
      expected.map((r) => r.count),
    );
    expect(expected.every((r) => r.count > 0)).toBe(true);
  });

  it('name@range is that event over the whole range; --during answers once', async () => {
    const out = jsonOf(
      await runCli([
        'events',
        'active',
        '--not',
        'active@month:-1',
        '--during',
        'month:0..1',
        '--ids',
        '--limit',
        '3',
        '--json',
        ...MEMORY_DEMO,
      ]),
    );
    const active = lib.events.get('active');
    const expected = await active
      .during(monthrange(0, 1, lib.at))
      .andNot(active.during(monthrange(-1, 0, lib.at)))
      .ids();
    expect(out.count).toBe(expected.size);
    expect(out.ids).toEqual(expected.toArray().slice(0, 3));
    expect(out.more).toBe(expected.size - 3);
    expect(expected.size).toBeGreaterThan(0);
  });

  it('rows say whether a bucket holds data', async () => {
    const out = jsonOf(await runCli(['events', 'active', '--range', 'week:-1..1', '--json', ...MEMORY_DEMO]));
    const rows = await lib.events.get('active').counts(weekrange(-1, 1, lib.at));
    expect((out.buckets as Array<{ recorded: boolean }>).map((b) => b.recorded)).toEqual(
      rows.map((r) => r.recorded),
    );
    const text = await runCli(['events', 'active', '--range', 'day:0..1', ...MEMORY_DEMO]);
    expect(text.stdout).toContain('(no data)');
    expect(text.stdout).toContain('(nothing recorded in this range)');
  });

  it('--during and --range together is a usage error', async () => {
    const out = await runCli(['events', 'active', '--during', 'day:-1', '--range', 'day:-2']);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('--during');
  });

  it('a bad range after @ is a usage error before anything is opened', async () => {
    const out = await runCli(['events', 'active', '--and', 'login@day:x']);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('--range "day:x"');
  });
});

describe('porpoise names / stats / delete (memory, --demo)', () => {
  it('names lists events, segments, counters and activity buckets', async () => {
    const out = jsonOf(await runCli(['names', '--json', ...MEMORY_DEMO]));
    expect(out).toEqual({
      command: 'names',
      events: ['active', 'first-play', 'login', 'playlist:created', 'signup', 'song:played', 'subscribed'],
      segments: ['plan:pro'],
      counters: ['song:played'],
      buckets: ['android', 'ios', 'web'],
    });
    const text = await runCli(['names', '--name-prefix', 'so', ...MEMORY_DEMO]);
    expect(text.stdout).toContain('events (1)\n  song:played\n');
  });

  it('stats reports what the library reports', async () => {
    const out = jsonOf(await runCli(['stats', '--json', ...MEMORY_DEMO]));
    const events = await lib.events.stats();
    expect(out.events).toEqual(JSON.parse(JSON.stringify(events)));
    expect(out.counters).toEqual(JSON.parse(JSON.stringify(await lib.counters.stats())));
    expect(events.maxId).toBe(USERS - 1);
    const text = await runCli(['stats', ...MEMORY_DEMO]);
    expect(text.stdout).toMatch(/^active +hour /m);
    expect(text.stdout).toContain('segments');
  });

  it('delete without --yes deletes nothing and exits 2', async () => {
    const out = await runCli(['delete', '--event', 'active', ...MEMORY_DEMO]);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('pass --yes');
  });

  it('delete needs something to delete', async () => {
    expect((await runCli(['delete', '--yes'])).code).toBe(2);
    expect((await runCli(['delete', '--all', '--event', 'x', '--yes'])).code).toBe(2);
  });
});

describe.skipIf(!hasRedis())('porpoise names / stats / delete on a real redis-server', () => {
  let url: string;
  let client: Redis;
  const prefix = uniquePrefix('cli-delete');

  beforeAll(async () => {
    const { host, port } = redisTargets().standalone!;
    url = `redis://${host}:${port}`;
    client = redisClient();
    const seeded = await spawnCli(['demo', '--redis', url, '--prefix', prefix, '--keep', '--users', '500']);
    expect(seeded.code).toBe(0);
  });
  afterAll(async () => {
    const keys = await client.keys(`${prefix}:*`);
    if (keys.length > 0) await client.del(...keys);
    await client.quit();
  });
  const on = (...args: string[]) => runCli([...args, '--redis', url, '--prefix', prefix, '--now', NOW_ISO]);

  it('names and stats read what the demo left', async () => {
    const names = jsonOf(await on('names', '--json'));
    expect(names.events).toEqual([
      'active',
      'first-play',
      'login',
      'playlist:created',
      'signup',
      'song:played',
      'subscribed',
    ]);
    const stats = jsonOf(await on('stats', '--json')) as { events: { maxId: number } };
    expect(stats.events.maxId).toBe(499);
  });

  it('delete --event --yes removes every key of that event and only those', async () => {
    const before = await client.keys(`${prefix}:*`);
    const out = await on('delete', '--event', 'login', '--segment', 'plan:pro', '--yes', '--json');
    const result = jsonOf(out) as { keys: number };
    const after = await client.keys(`${prefix}:*`);
    expect(after.some((key) => key.includes(':e:login:'))).toBe(false);
    expect(after.some((key) => key.includes(':e:active:'))).toBe(true);
    expect(result.keys).toBeGreaterThan(0);
    expect(after.length).toBeLessThan(before.length);
    expect((jsonOf(await on('names', '--json')) as { events: string[] }).events).toEqual([
      'active',
      'first-play',
      'playlist:created',
      'signup',
      'song:played',
      'subscribed',
    ]);
  });

  it('delete --all --yes empties the events and counters of the prefix, keeps activity', async () => {
    const out = await on('delete', '--all', '--yes');
    expect(out.code).toBe(0);
    const left = await client.keys(`${prefix}:*`);
    expect(left.some((key) => key.includes('events:') || key.includes('counters:'))).toBe(false);
    expect(left.some((key) => key.includes('activity:'))).toBe(true);
    const names = jsonOf(await on('names', '--json'));
    expect([names.events, names.segments, names.counters]).toEqual([[], [], []]);
  });
});
