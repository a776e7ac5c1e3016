/**
 * Scenario 10: the feature probe. On a server that is out of memory at first contact, the
 * first bitmap write fails with OUT_OF_MEMORY (not UNSUPPORTED), and the same backend works
 * once memory is freed. Read-only work on a fresh backend writes no key.
 */
import { ActivityTracker } from '@porpoise/activity';
import { Counters } from '@porpoise/counters';
import { Events } from '@porpoise/events';
import { RedisBackend } from '@porpoise/storage';
import { dayrange } from '@porpoise/timerange';
import { describe, expect, it } from 'vitest';
import { codeOf, info, rejection, scanKeys, sleep, TestServer } from './support.js';

describe('the feature probe', () => {
  it('out of memory at first contact: OUT_OF_MEMORY, then working once memory is freed', async () => {
    const server = await TestServer.start(['--maxmemory-policy', 'noeviction']);
    const redis = server.client();
    const backend = RedisBackend.fromUrl(server.url, { prefix: 'probe' });
    try {
      // A few MB of data, then a limit 4 MB below what is used: over maxmemory before the
      // backend's first contact.
      const filler = 'x'.repeat(2 ** 20);
      for (let i = 0; i < 8; i++) await redis.set(`filler:${i}`, filler);
      const used = Number((await info(redis, 'memory')).get('used_memory'));
      await redis.config('SET', 'maxmemory', String(used - 4 * 2 ** 20));
      expect(codeOf(await rejection(redis.set('one-more', 'x')))).toMatch(/OOM/);
      const events = new Events(backend);
      const error = await rejection(events.eventMany([{ name: 'open', id: 7 }]));
      expect(codeOf(error)).toBe('OUT_OF_MEMORY');
      expect(await backend.supports('bitmaps')).toBe(true);
      expect(await backend.supports('hyperloglog')).toBe(true);
      // Reads work while full.
      const [count] = await backend.read([{ op: 'bitCount', expr: { op: 'key', key: 'x:g' } }]);
      expect(count).toBe(0);
      await redis.config('SET', 'maxmemory', '0');
      await events.eventMany([{ name: 'open', id: 7 }]);
      const today = dayrange(-1, 1);
      expect((await events.get('open').union(today)).has(7)).toBe(true);
      await backend.write([{ op: 'hllAdd', key: 'h:g', members: ['a'] }]);
    } finally {
      redis.disconnect();
      await backend.close();
      await server.stop();
    }
  });

  it('read-only work on a fresh backend writes no key (SCAN, INFO keyspace, MONITOR)', async () => {
    const server = await TestServer.start();
    const redis = server.client();
    const monitor = await server.client().monitor();
    const commands: string[] = [];
    monitor.on('monitor', (_time: string, args: string[]) => commands.push(args.join(' ').slice(0, 200)));
    const backend = RedisBackend.fromUrl(server.url, { prefix: 'ro' });
    try {
      const before = await scanKeys(redis);
      expect(before).toEqual([]);
      expect(await backend.supports('bitmaps')).toBe(true);
      const events = new Events(backend);
      const today = dayrange(-7, 1);
      await events.get('open').not().counts(today);
      await events.get('open').and(events.get('buy')).union(today);
      await new Counters(backend).get('plays').sum(today);
      await new ActivityTracker(backend).lookupDaily({});
      await backend.read([
        { op: 'getBit', key: 'b:g', offset: 5 },
        { op: 'hashGetAll', key: 'h:g' },
        { op: 'setMembers', keys: ['s:g', 's:h'] },
        { op: 'hllCount', keys: ['p:g', 'p:h'] },
        { op: 'ttl', key: 't:g' },
      ]);
      await sleep(100);
      expect(await scanKeys(redis)).toEqual([]);
      const keyspace = await info(redis, 'keyspace');
      expect([...keyspace.keys()].filter((k) => k.startsWith('db'))).toEqual([]);
      const stats = await info(redis, 'stats');
      // Temporaries a read makes inside its script count as changes; none may outlive it.
      expect(Number(stats.get('expired_keys'))).toBe(0);
      const writes = commands.filter((c) =>
        /^(set|setbit|zadd|sadd|hset|hincrby|pfadd|del|expire)\b/i.test(c),
      );
      expect(writes).toEqual([]);
      expect(commands.some((c) => /^info\b/i.test(c))).toBe(true);
      console.log(
        `probe: ${commands.length} commands seen by MONITOR, none a write: ${[...new Set(commands.map((c) => c.split(' ')[0]))].join(', ')}`,
      );
    } finally {
      monitor.disconnect();
      redis.disconnect();
      await backend.close();
      await server.stop();
    }
  });
});
