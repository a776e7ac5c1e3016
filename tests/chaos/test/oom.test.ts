/**
 * Scenario 5: a server with maxmemory and noeviction filled by dense writes. Writes are
 * refused up front with OUT_OF_MEMORY (the write script's shebang), memory overshoots the
 * limit by at most about one call, acknowledged writes are all readable, a refused
 * idempotent write completes exactly once when retried after memory is freed, and deletes
 * and expires work while full.
 */
import { Events } from '@porpoise/events';
import { RedisBackend, type WriteOp } from '@porpoise/storage';
import { hourrange } from '@porpoise/timerange';
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { codeOf, expectNoTemporaries, info, TestServer } from './support.js';

const MAXMEMORY = 30 * 2 ** 20;
/**
 * How far used_memory may pass maxmemory: a write call is admitted while the server is under
 * the limit and may then add its own arguments' worth (at most CALL_BYTES = 4 MiB, about
 * 2 MiB of dense chunk bytes in practice) plus its query buffer. Measured peaks: see README.
 */
const OVERSHOOT = 8 * 2 ** 20;
const CHUNK = 2 ** 20;
const HOUR = 3_600_000;
const BASE = new Date('2026-11-10T00:00:00Z');

/** Samples used_memory every few ms from its own connection; reports the highest seen. */
function memoryWatch(server: TestServer) {
  const client = server.client();
  let running = true;
  let highest = 0;
  const loop = (async () => {
    while (running) {
      const used = Number((await info(client, 'memory')).get('used_memory'));
      highest = Math.max(highest, used);
      await new Promise((r) => setTimeout(r, 2));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      const peak = Number((await info(client, 'memory')).get('used_memory_peak'));
      client.disconnect();
      return { sampled: highest, peak };
    },
  };
}

/** Ids filling `chunks` whole 2^20-bit chunks from chunk `first`, one id every 64 bits. */
function denseIds(first: number, chunks: number): number[] {
  const out: number[] = [];
  for (let c = first; c < first + chunks; c++)
    for (let k = 0; k < CHUNK / 64; k++) out.push(c * CHUNK + k * 64 + 63);
  return out;
}

async function fillWithEvents(events: Events, rounds: number) {
  const acked: number[] = [];
  let refused: unknown;
  for (let r = 0; r < rounds; r++) {
    // 4 chunks per round, each hour its own key (and the day, week and month keys grow).
    const at = new Date(BASE.getTime() + r * HOUR);
    try {
      await events.eventMany(denseIds(r * 4, 4).map((id) => ({ name: 'fill', id, at })));
      acked.push(r);
    } catch (error) {
      refused = error;
      break;
    }
  }
  return { acked, refused };
}

async function usedMemory(redis: Redis): Promise<number> {
  return Number((await info(redis, 'memory')).get('used_memory'));
}

describe('maxmemory 30 MB, noeviction', () => {
  it('dense eventMany rounds until refused: OUT_OF_MEMORY, bounded overshoot, acknowledged rounds readable, deletes work', async () => {
    const server = await TestServer.start([
      '--maxmemory',
      String(MAXMEMORY),
      '--maxmemory-policy',
      'noeviction',
    ]);
    const backend = RedisBackend.fromUrl(server.url, { prefix: 'oom' });
    const redis = server.client();
    const watch = memoryWatch(server);
    try {
      const events = new Events(backend, { resolutions: ['hour', 'day'] });
      const { acked, refused } = await fillWithEvents(events, 200);
      const { sampled, peak } = await watch.stop();
      console.log(
        `oom: ${acked.length} rounds of 65,536 events acknowledged; peak used_memory ${(peak / 2 ** 20).toFixed(1)} MiB (sampled ${(sampled / 2 ** 20).toFixed(1)} MiB) for maxmemory ${MAXMEMORY / 2 ** 20} MiB`,
      );
      expect(codeOf(refused)).toBe('OUT_OF_MEMORY');
      expect((refused as Error).message).toContain(`127.0.0.1:${server.port}`);
      expect(peak).toBeLessThan(MAXMEMORY + OVERSHOOT);
      // Every acknowledged round is readable in full: each round has its own hour bucket.
      const hours = await events
        .get('fill')
        .counts(hourrange(BASE, new Date(BASE.getTime() + (acked.length + 1) * HOUR)));
      for (const r of acked) expect(hours[r]!.count).toBe(4 * (CHUNK / 64));
      // The refused round: whatever of it was acknowledged by no one is at most the round.
      expect(hours[acked.length]!.count).toBeLessThanOrEqual(4 * (CHUNK / 64));
      await expectNoTemporaries(redis);

      // Deletes and expires work while full.
      const before = await usedMemory(redis);
      const keys = await backend.keys();
      expect(await backend.write([{ op: 'expire', key: keys[0]!, seconds: 3600 }])).toBe(true);
      expect(await backend.write([{ op: 'delete', keys }])).toBe(true);
      expect(await usedMemory(redis)).toBeLessThan(before / 2);
      expect(await backend.keys()).toEqual([]);
    } finally {
      await watch.stop().catch(() => {});
      redis.disconnect();
      await backend.close();
      await server.stop();
    }
  });

  it('a refused idempotent write, retried after memory is freed, completes exactly once', async () => {
    const server = await TestServer.start([
      '--maxmemory',
      String(MAXMEMORY),
      '--maxmemory-policy',
      'noeviction',
    ]);
    const backend = RedisBackend.fromUrl(server.url, { prefix: 'oomidem' });
    const redis = server.client();
    try {
      // Fill to about 20 MB with plain keys, so the big write below (12 MiB) is refused midway.
      const filler = 'x'.repeat(2 ** 20);
      for (let i = 0; (await usedMemory(redis)) < 20 * 2 ** 20; i++) await redis.set(`filler:${i}`, filler);
      // 24 bitmaps of 4 dense chunks (512 KiB each), each followed by an increment: many calls.
      const ops: WriteOp[] = [];
      const K = 24;
      for (let k = 0; k < K; k++) {
        ops.push({ op: 'setBits', key: `b${k}:g`, offsets: denseIds(0, 4) });
        ops.push({ op: 'increment', key: 'n:g', increments: [['written', 1]] });
      }
      const options = { idempotencyKey: 'batch-1' };
      let error: unknown;
      try {
        await backend.write(ops, options);
      } catch (caught) {
        error = caught;
      }
      expect(codeOf(error)).toBe('OUT_OF_MEMORY');
      const partial = Number((await redis.hget('oomidem:n:{g}', 'written')) ?? 0);
      expect(partial).toBeLessThan(K);
      // Nothing half-applied: every bitmap is whole or absent.
      const counts = await backend.read(
        Array.from({ length: K }, (_, k) => ({
          op: 'bitCount' as const,
          expr: { op: 'key' as const, key: `b${k}:g` },
        })),
      );
      const whole = counts.filter((n) => n === 4 * (CHUNK / 64)).length;
      expect(counts.every((n) => n === 0 || n === 4 * (CHUNK / 64))).toBe(true);
      expect(whole).toBe(partial);
      await expectNoTemporaries(redis);

      await redis.config('SET', 'maxmemory', '0');
      expect(await backend.write(ops, options)).toBe(true);
      expect(await redis.hget('oomidem:n:{g}', 'written')).toBe(String(K));
      const after = await backend.read(
        Array.from({ length: K }, (_, k) => ({
          op: 'bitCount' as const,
          expr: { op: 'key' as const, key: `b${k}:g` },
        })),
      );
      expect(after.every((n) => n === 4 * (CHUNK / 64))).toBe(true);
      // A third attempt applies nothing more.
      expect(await backend.write(ops, options)).toBe(true);
      expect(await redis.hget('oomidem:n:{g}', 'written')).toBe(String(K));
      console.log(
        `oom: idempotent write refused after ${partial}/${K} parts, completed exactly once on retry`,
      );
    } finally {
      redis.disconnect();
      await backend.close();
      await server.stop();
    }
  });
});
