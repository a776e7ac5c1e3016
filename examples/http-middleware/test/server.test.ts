import { Writable } from 'node:stream';
import { Analytics, type Backend, MemoryBackend, RedisBackend } from '@porpoise/analytics';
import { hasRedis, redisClient, uniquePrefix } from '@porpoise/test-redis';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildServer } from '../src/server.js';

const alice = { authorization: 'Bearer alice-token' };
const bob = { authorization: 'Bearer bob-token' };

interface Target {
  name: string;
  make(): { backend: Backend; cleanup(): Promise<void> };
}

const targets: Target[] = [
  { name: 'memory', make: () => ({ backend: new MemoryBackend(), cleanup: async () => {} }) },
  {
    name: 'redis',
    make: () => {
      const client = redisClient();
      const backend = new RedisBackend(client, { prefix: uniquePrefix('http-middleware') });
      return {
        backend,
        cleanup: async () => {
          const keys = await backend.keys();
          if (keys.length > 0) await backend.write([{ op: 'delete', keys }]);
          await backend.close();
          // The backend does not own a client it was given.
          await client.quit();
        },
      };
    },
  },
];

for (const target of targets) {
  describe.skipIf(target.name === 'redis' && !hasRedis())(`on ${target.name}`, () => {
    let now: Date;
    let app: FastifyInstance;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      now = new Date('2026-11-24T12:00:00Z');
      const made = target.make();
      cleanup = made.cleanup;
      app = buildServer({ analytics: new Analytics(made.backend), now: () => now });
      await app.ready();
    });

    afterEach(async () => {
      await app.close();
      await cleanup();
    });

    /** A request, then its analytics writes: the handlers do not wait for them. */
    async function get(url: string, headers: Record<string, string> = {}) {
      const response = await app.inject({ method: 'GET', url, headers });
      await app.recordingsSettled();
      return { status: response.statusCode, body: response.json() as unknown };
    }

    it('counts an authenticated user once a day, however many requests', async () => {
      await get('/songs/1/play', alice);
      await get('/songs/2/play', alice);
      await get('/stats/songs', alice);
      await get('/songs/1/play', bob);

      expect(await get('/stats/dau')).toEqual({ status: 200, body: { date: '2026-11-24', dau: 2 } });
    });

    it('serves anonymous requests without counting them', async () => {
      expect(await get('/stats/songs')).toMatchObject({ status: 200 });
      expect(await get('/stats/dau')).toEqual({ status: 200, body: { date: '2026-11-24', dau: 0 } });
    });

    it('refuses an unknown token with 401 and records nothing', async () => {
      expect(await get('/stats/dau', { authorization: 'Bearer forged' })).toEqual({
        status: 401,
        body: { error: 'invalid bearer token' },
      });
      expect(await get('/stats/dau')).toMatchObject({ body: { dau: 0 } });
    });

    it('needs a user to play a song, and counts plays per song', async () => {
      expect(await get('/songs/42/play')).toMatchObject({ status: 401 });
      expect(await get('/songs/42/play', alice)).toEqual({ status: 200, body: { playing: '42', user: 1 } });
      await get('/songs/42/play', bob);
      await get('/songs/7/play', alice);

      expect(await get('/stats/songs')).toEqual({
        status: 200,
        body: {
          date: '2026-11-24',
          plays: 3,
          top: [
            { song: '42', plays: 2 },
            { song: '7', plays: 1 },
          ],
        },
      });
    });

    it('reports the last N days, oldest first, with unique users as a union', async () => {
      now = new Date('2026-11-22T20:00:00Z');
      await get('/songs/1/play', alice);
      now = new Date('2026-11-24T08:00:00Z');
      await get('/songs/1/play', alice);
      await get('/songs/1/play', bob);

      expect(await get('/stats/dau?days=4')).toEqual({
        status: 200,
        body: {
          days: [
            { date: '2026-11-21', dau: 0 },
            { date: '2026-11-22', dau: 1 },
            { date: '2026-11-23', dau: 0 },
            { date: '2026-11-24', dau: 2 },
          ],
          unique: 2,
        },
      });
    });

    it('rejects a bad days parameter with 400', async () => {
      expect(await get('/stats/dau?days=0')).toMatchObject({ status: 400 });
      expect(await get('/stats/dau?days=367')).toMatchObject({ status: 400 });
      expect(await get('/stats/dau?days=seven')).toMatchObject({ status: 400 });
    });
  });
}

describe('when the analytics store is down', () => {
  let app: FastifyInstance;
  let analytics: Analytics;
  let log: string[];

  beforeEach(async () => {
    log = [];
    const stream = new Writable({
      write(chunk, _encoding, done) {
        log.push(String(chunk));
        done();
      },
    });
    // Port 1 on loopback: nothing listens there, so every command fails to connect.
    analytics = new Analytics(RedisBackend.fromUrl('redis://127.0.0.1:1'));
    app = buildServer({ analytics, logger: { level: 'error', stream } });
    await app.ready();
  });

  afterEach(async () => {
    await app.close();
    await analytics.close();
  });

  it('still serves the request and logs the failed recording', async () => {
    const response = await app.inject({ method: 'GET', url: '/songs/42/play', headers: alice });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ playing: '42', user: 1 });

    await app.recordingsSettled();
    const failures = log.map(
      (line) => JSON.parse(line) as { msg: string; userId: number; err: { code: string } },
    );
    expect(failures.map(({ msg, userId, err }) => [msg, userId, err.code]).sort()).toEqual([
      ['analytics: recording active failed', 1, 'CONNECTION_ERROR'],
      ['analytics: recording song:played failed', 1, 'CONNECTION_ERROR'],
    ]);
  });

  it('answers the stats routes with 503', async () => {
    const response = await app.inject({ method: 'GET', url: '/stats/dau' });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toEqual({ error: 'analytics store unavailable' });
  });
});
