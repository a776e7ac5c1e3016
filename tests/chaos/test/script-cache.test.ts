/**
 * Scenario 3: the server's script cache emptied (SCRIPT FLUSH between and during batches, a
 * restart). A call that meets NOSCRIPT did nothing and is resent whole, so the order of a
 * batch holds and readers never see half of a collapse.
 */
import { ActivityTracker } from '@porpoise/activity';
import { Counters } from '@porpoise/counters';
import { Events } from '@porpoise/events';
import { RedisBackend } from '@porpoise/storage';
import { dayrange } from '@porpoise/timerange';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNoTemporaries, ids, sleep, TestServer, within } from './support.js';

/** SCRIPT FLUSH from another connection as fast as it answers, until stopped. */
function flushLoop(server: TestServer) {
  const client = server.client();
  let running = true;
  let flushes = 0;
  const loop = (async () => {
    while (running) {
      await client.script('FLUSH');
      flushes++;
      await new Promise((r) => setImmediate(r));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      client.disconnect();
      return flushes;
    },
  };
}

describe('the script cache lost', () => {
  let server: TestServer;
  let backend: RedisBackend;
  beforeAll(async () => {
    server = await TestServer.start();
    backend = RedisBackend.fromUrl(server.url, { prefix: 'cache' });
  });
  afterAll(async () => {
    await backend?.close();
    await server?.stop();
  });

  it('between batches: `delete s; setAdd s x` leaves s = {x}', async () => {
    const redis = server.client();
    try {
      await backend.write([{ op: 'setAdd', key: 's:g', members: ['old1', 'old2'] }]);
      for (let i = 0; i < 20; i++) {
        await redis.script('FLUSH');
        await backend.write([
          { op: 'delete', keys: ['s:g'] },
          { op: 'setAdd', key: 's:g', members: [`x${i}`] },
        ]);
        expect((await redis.smembers('cache:s:{g}')).sort()).toEqual([`x${i}`]);
      }
    } finally {
      redis.disconnect();
    }
  });

  it('during batches (SCRIPT FLUSH in a loop from another client): every batch keeps its order', async () => {
    const redis = server.client();
    const flusher = flushLoop(server);
    try {
      for (let i = 0; i < 200; i++) {
        await backend.write([
          { op: 'delete', keys: ['t:g', 'h:g'] },
          { op: 'setAdd', key: 't:g', members: [`x${i}`, `y${i}`] },
          { op: 'setRemove', key: 't:g', members: [`y${i}`] },
          { op: 'increment', key: 'h:g', increments: [['f', i]] },
          { op: 'set', key: 'v:g', value: `v${i}` },
        ]);
        const [members, field, value] = await Promise.all([
          redis.smembers('cache:t:{g}'),
          redis.hget('cache:h:{g}', 'f'),
          redis.get('cache:v:{g}'),
        ]);
        expect(members).toEqual([`x${i}`]);
        expect(field).toBe(String(i));
        expect(value).toBe(`v${i}`);
      }
    } finally {
      const flushes = await flusher.stop();
      console.log(`script-cache: 200 batches under ${flushes} SCRIPT FLUSHes`);
      redis.disconnect();
    }
  });

  it('an activity lookup racing a collapse (and SCRIPT FLUSH in a loop) never reports 0 users for a day with data', async () => {
    const redis = server.client();
    const DAYS = 30;
    const USERS = 40;
    let lookups = 0;
    for (let round = 0; round < 3; round++) {
      const prefix = `act${round}`;
      const now = new Date('2026-11-11T12:00:00Z');
      const tracker = new ActivityTracker(backend, { prefix, now: () => now });
      const records = [];
      for (let d = 0; d < DAYS; d++) {
        const date = new Date(Date.UTC(2026, 9, 12 + d, 10));
        for (let u = 0; u < USERS; u++) records.push({ id: `u${u}`, date });
      }
      await tracker.trackMany(records);
      const flusher = flushLoop(server);
      let collapsing = true;
      const collapse = tracker.collapse({ maxPeriods: DAYS + 5 }).finally(() => {
        collapsing = false;
      });
      try {
        while (collapsing) {
          const rows = await tracker.lookupDaily({ start: '2026-10-12', end: '2026-11-11' });
          lookups++;
          expect(rows).toHaveLength(DAYS);
          for (const row of rows)
            expect({ date: row.date, n: row.counts.all }).toEqual({ date: row.date, n: USERS });
        }
        await within(30_000, collapse, 'the collapse');
      } finally {
        await flusher.stop();
        await collapse.catch(() => {});
      }
      const rows = await tracker.lookupDaily({ start: '2026-10-12', end: '2026-11-11' });
      expect(rows.every((row) => row.final && row.counts.all === USERS)).toBe(true);
    }
    console.log(`script-cache: ${lookups} lookups raced 3 collapses of ${DAYS} days`);
    await expectNoTemporaries(redis);
    redis.disconnect();
  });
});

describe('a restart (SIGKILL, AOF appendfsync always)', () => {
  it('keeps every acknowledged write, and scripts work again on the fresh script cache', async () => {
    const server = await TestServer.start(['--appendonly', 'yes', '--appendfsync', 'always']);
    const backend = RedisBackend.fromUrl(server.url, {
      prefix: 'restart',
      timeoutMs: 2_000,
      redis: { connectTimeout: 500, retryStrategy: () => 100 },
    });
    const events = new Events(backend);
    const counters = new Counters(backend);
    const at = new Date('2026-11-10T09:00:00Z');
    const acked: number[][] = [];
    const unknown: number[][] = [];
    let batch = 0;
    const ingest = async () => {
      const b = batch++;
      const list = ids(b * 50, b * 50 + 50);
      try {
        await events.eventMany(list.map((id) => ({ name: 'open', id, at })));
        await counters.countMany(list.map(() => ({ key: 'opens', id: 'all', at })));
        acked.push(list);
      } catch {
        unknown.push(list);
      }
    };
    try {
      for (let i = 0; i < 20; i++) await ingest();
      const inFlight = Promise.all([ingest(), ingest(), ingest()]);
      await sleep(2);
      await server.kill();
      await inFlight;
      await server.restart();
      // Reconnect (retries every 100 ms), then ingest more on the empty script cache.
      await within(
        10_000,
        (async () => {
          for (;;) {
            try {
              await backend.read([{ op: 'exists', key: 'probe:g' }]);
              return;
            } catch {
              await sleep(100);
            }
          }
        })(),
        'the reconnect',
      );
      for (let i = 0; i < 5; i++) await ingest();
      const day = dayrange(new Date('2026-11-10T00:00:00Z'), new Date('2026-11-11T00:00:00Z'));
      const stored = await events.get('open').union(day);
      for (const list of acked) for (const id of list) expect(stored.has(id)).toBe(true);
      // A batch whose outcome was unknown is either all there or all absent (one script call).
      for (const list of unknown) {
        const present = list.filter((id) => stored.has(id)).length;
        expect([0, list.length]).toContain(present);
      }
      const sum = await counters.get('opens').sum(day);
      expect(sum.get('all')).toBeGreaterThanOrEqual(acked.length * 50);
      console.log(`restart: ${acked.length} acknowledged batches kept, ${unknown.length} in doubt`);
    } finally {
      await backend.close();
      await server.stop();
    }
  });
});
