/**
 * Scenario 13: lone surrogates in names, ids, buckets, members, fields, values, keys and
 * prefixes are refused with INVALID_ARGUMENT by every public entry point (on Redis and in
 * memory, before anything is written); counters past 2^53 - 1 are refused on both with a
 * typed error, leaving the stored value as it was.
 */
import { ActivityTracker } from '@porpoise/activity';
import { Counters } from '@porpoise/counters';
import { Events } from '@porpoise/events';
import { type Backend, MemoryBackend, RedisBackend } from '@porpoise/storage';
import { dayrange } from '@porpoise/timerange';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeOf, TestServer } from './support.js';

const BAD = 'a\uD800b';
const BAD_LOW = '\uDFFFx';

/** The outcome of calling `fn`: a synchronous throw and a rejection count alike. */
async function outcomeOf(fn: () => unknown): Promise<string> {
  try {
    await fn();
    return 'accepted';
  } catch (error) {
    return codeOf(error);
  }
}

function entryPoints(backend: Backend, bad: string): Array<[string, () => unknown]> {
  const events = new Events(backend);
  const counters = new Counters(backend);
  const tracker = new ActivityTracker(backend, { periods: ['daily', 'weekly'] });
  const day = dayrange(-1, 1);
  return [
    ['Events.event name', () => events.event(bad, 1)],
    [
      'Events.eventMany name',
      () =>
        events.eventMany([
          { name: 'ok', id: 1 },
          { name: bad, id: 2 },
        ]),
    ],
    ['Events.unevent name', () => events.unevent(bad, 1)],
    ['Events.get name', () => events.get(bad).counts(day)],
    ['Events prefix', () => new Events(backend, { prefix: bad })],
    ['Counters.count key', () => counters.count(bad)],
    ['Counters.count id', () => counters.count('plays', bad)],
    ['Counters.countMany key', () => counters.countMany([{ key: 'plays' }, { key: bad }])],
    [
      'Counters.countMany id',
      () =>
        counters.countMany([
          { key: 'plays', id: 'x' },
          { key: 'plays', id: bad },
        ]),
    ],
    ['Counters.get key', () => counters.get(bad).sum(day)],
    ['Counters prefix', () => new Counters(backend, { prefix: bad })],
    ['ActivityTracker.track id', () => tracker.track({ id: bad })],
    ['ActivityTracker.track bucket', () => tracker.track({ id: 'u', bucket: bad })],
    ['ActivityTracker.track oldId', () => tracker.track({ id: 'u', oldId: bad })],
    ['ActivityTracker.track oldBucket', () => tracker.track({ id: 'u', oldBucket: bad })],
    ['ActivityTracker.trackMany id', () => tracker.trackMany([{ id: 'u' }, { id: bad }])],
    ['ActivityTracker.trackMany bucket', () => tracker.trackMany([{ id: 'u', bucket: bad }])],
    ['ActivityTracker.collapse buckets', () => tracker.collapse({ buckets: ['all', bad] })],
    [
      'ActivityTracker.collapse aggregate name',
      () => tracker.collapse({ aggregateBuckets: { [bad]: ['all'] } }),
    ],
    [
      'ActivityTracker.collapse aggregate member',
      () => tracker.collapse({ aggregateBuckets: { total: [bad] } }),
    ],
    ['ActivityTracker.lookup buckets', () => tracker.lookupDaily({ buckets: [bad] })],
    ['ActivityTracker.lookup aggregate', () => tracker.lookupDaily({ aggregateBuckets: { total: [bad] } })],
    ['ActivityTracker prefix', () => new ActivityTracker(backend, { prefix: bad })],
    ['write setBits key', () => backend.write([{ op: 'setBits', key: `k:${bad}`, offsets: [1] }])],
    ['write setAdd member', () => backend.write([{ op: 'setAdd', key: 's:g', members: ['ok', bad] }])],
    ['write setRemove member', () => backend.write([{ op: 'setRemove', key: 's:g', members: [bad] }])],
    ['write hllAdd member', () => backend.write([{ op: 'hllAdd', key: 'h:g', members: [bad] }])],
    ['write increment field', () => backend.write([{ op: 'increment', key: 'c:g', increments: [[bad, 1]] }])],
    ['write set value', () => backend.write([{ op: 'set', key: 'v:g', value: bad }])],
    ['write set key', () => backend.write([{ op: 'set', key: bad, value: 'v' }])],
    ['write max key', () => backend.write([{ op: 'max', key: bad, value: 1 }])],
    [
      'write storeCardinality source',
      () => backend.write([{ op: 'storeCardinality', key: 'n:g', kind: 'set', sources: [`s:${bad}`] }]),
    ],
    ['write delete key', () => backend.write([{ op: 'delete', keys: ['ok:g', bad] }])],
    ['write expire key', () => backend.write([{ op: 'expire', key: bad, seconds: 5 }])],
    [
      'write idempotencyKey',
      () => backend.write([{ op: 'set', key: 'v:g', value: 'v' }], { idempotencyKey: bad }),
    ],
    [
      'write unlessExists',
      () => backend.write([{ op: 'set', key: 'v:g', value: 'v' }], { atomic: true, unlessExists: bad }),
    ],
    ['read getBit key', () => backend.read([{ op: 'getBit', key: bad, offset: 1 }])],
    ['read bitCount key', () => backend.read([{ op: 'bitCount', expr: { op: 'key', key: bad } }])],
    [
      'read bitmap key',
      () =>
        backend.read([
          {
            op: 'bitmap',
            expr: {
              op: 'or',
              args: [
                { op: 'key', key: 'a:g' },
                { op: 'key', key: bad },
              ],
            },
          },
        ]),
    ],
    ['read hashGet field', () => backend.read([{ op: 'hashGet', key: 'c:g', field: bad }])],
    ['read hashGetAll key', () => backend.read([{ op: 'hashGetAll', key: bad }])],
    ['read setHas member', () => backend.read([{ op: 'setHas', key: 's:g', member: bad }])],
    ['read setMembers key', () => backend.read([{ op: 'setMembers', keys: ['s:g', bad] }])],
    ['read setCardinality key', () => backend.read([{ op: 'setCardinality', keys: [bad] }])],
    ['read hllCount key', () => backend.read([{ op: 'hllCount', keys: [bad] }])],
    ['read get key', () => backend.read([{ op: 'get', key: bad }])],
    ['read exists key', () => backend.read([{ op: 'exists', key: bad }])],
    ['read ttl key', () => backend.read([{ op: 'ttl', key: bad }])],
  ];
}

describe('hostile strings and counter overflow, on Redis and in memory', () => {
  let server: TestServer;
  let redisBackend: RedisBackend;
  beforeAll(async () => {
    server = await TestServer.start();
    redisBackend = RedisBackend.fromUrl(server.url, { prefix: 'hostile' });
  });
  afterAll(async () => {
    await redisBackend?.close();
    await server?.stop();
  });

  it('every entry point refuses lone surrogates with INVALID_ARGUMENT, writing nothing', async () => {
    const redis = server.client();
    try {
      const memory = new MemoryBackend();
      for (const bad of [BAD, BAD_LOW]) {
        for (const [name, backend] of [
          ['redis', redisBackend],
          ['memory', memory],
        ] as const) {
          const outcomes: string[] = [];
          for (const [label, call] of entryPoints(backend, bad))
            outcomes.push(`${label}: ${await outcomeOf(call)}`);
          expect(outcomes, `${name}, ${JSON.stringify(bad)}`).toEqual(
            entryPoints(backend, bad).map(([label]) => `${label}: INVALID_ARGUMENT`),
          );
        }
      }
      expect(await memory.keys()).toEqual([]);
      expect(await redis.dbsize()).toBe(0);
      // The Redis backend's own prefix.
      expect(await outcomeOf(() => RedisBackend.fromUrl(server.url, { prefix: BAD }))).toBe(
        'INVALID_ARGUMENT',
      );
    } finally {
      redis.disconnect();
    }
  });

  it('counters past 2^53 - 1 are refused on both backends before anything is written', async () => {
    const redis = server.client();
    const memory = new MemoryBackend();
    try {
      const results: Record<string, string[]> = {};
      for (const [name, backend] of [
        ['redis', redisBackend],
        ['memory', memory],
      ] as const) {
        const counters = new Counters(backend, { prefix: 'big', resolutions: ['day'] });
        const at = new Date('2026-11-10T10:00:00Z');
        const day = dayrange(new Date('2026-11-10'), new Date('2026-11-11'));
        await counters.countMany([{ key: 'k', id: 'x', by: Number.MAX_SAFE_INTEGER, at }]);
        const out = [
          await outcomeOf(() => counters.countMany([{ key: 'k', id: 'x', by: 1, at }])),
          // Two records whose sum leaves the safe range, in one batch, on a fresh field.
          await outcomeOf(() =>
            counters.countMany([
              { key: 'k', id: 'y', by: 2 ** 52, at },
              { key: 'k', id: 'y', by: 2 ** 52, at },
            ]),
          ),
          await outcomeOf(() => counters.count('k', 'z', 2 ** 53, at)),
          // A batch with one overflowing field and one good one: nothing of it applied.
          await outcomeOf(() =>
            counters.countMany([
              { key: 'k', id: 'fine', by: 5, at },
              { key: 'k', id: 'x', by: 1, at },
            ]),
          ),
        ];
        const sum = await counters.get('k').sum(day);
        out.push(`x=${sum.get('x')}`, `y=${sum.get('y')}`, `fine=${sum.get('fine')}`);
        results[name] = out;
      }
      console.log(`hostile: overflow outcomes ${JSON.stringify(results)}`);
      expect(results.redis).toEqual(results.memory);
      for (const outcome of results.redis!.slice(0, 4)) expect(outcome).not.toBe('accepted');
      expect(results.redis!.slice(4)).toEqual([`x=${Number.MAX_SAFE_INTEGER}`, 'y=0', 'fine=0']);
    } finally {
      redis.disconnect();
      await memory.close();
    }
  });
});
