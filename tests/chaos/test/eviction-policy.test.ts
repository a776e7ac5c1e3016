/**
 * Scenario 2: a server whose maxmemory-policy may evict any one key (allkeys-*). Bitmap
 * writes are refused with CONFIG_ERROR unless allowEviction is set (then one warning);
 * the policy is learnt again after a reconnect.
 */
import { Events } from '@porpoise/events';
import { RedisBackend } from '@porpoise/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeOf, rejection, sleep, TestServer, within } from './support.js';

function captureWarnings() {
  const seen: Array<{ message: string; code: string | undefined }> = [];
  const listener = (warning: Error & { code?: string }) =>
    seen.push({ message: warning.message, code: warning.code });
  process.on('warning', listener);
  return {
    seen,
    stop: () => process.off('warning', listener),
  };
}

describe('maxmemory-policy allkeys-lru', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await TestServer.start(['--maxmemory', '64mb', '--maxmemory-policy', 'allkeys-lru']);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('refuses bitmap writes with a CONFIG_ERROR naming the fix, and writes nothing', async () => {
    const backend = RedisBackend.fromUrl(server.url, { prefix: 'evict1' });
    const redis = server.client();
    try {
      const events = new Events(backend);
      const error = await rejection(events.eventMany([{ name: 'open', id: 1 }]));
      expect(codeOf(error)).toBe('CONFIG_ERROR');
      const message = (error as Error).message;
      expect(message).toMatch(/allkeys-lru/);
      expect(message).toMatch(/noeviction/);
      expect(message).toMatch(/allowEviction/);
      expect(message).toContain(`127.0.0.1:${server.port}`);
      expect(await redis.dbsize()).toBe(0);
      // Non-bitmap writes (counters, sets) are not affected.
      await backend.write([{ op: 'setAdd', key: 's:g', members: ['a'] }]);
      expect(await redis.scard('evict1:s:{g}')).toBe(1);
    } finally {
      redis.disconnect();
      await backend.close();
    }
  });

  it('accepts them with allowEviction: true, with exactly one PORPOISE_EVICTION warning', async () => {
    const backend = RedisBackend.fromUrl(server.url, { prefix: 'evict2', allowEviction: true });
    const warnings = captureWarnings();
    try {
      const events = new Events(backend);
      for (let i = 0; i < 5; i++) await events.eventMany([{ name: 'open', id: i }]);
      // process.emitWarning is delivered on the next tick.
      await sleep(20);
      const ours = warnings.seen.filter((w) => w.code === 'PORPOISE_EVICTION');
      expect(ours).toHaveLength(1);
      expect(ours[0]!.message).toMatch(/allkeys-lru/);
      const [n] = await backend.read([{ op: 'bitCount', expr: { op: 'key', key: 'x:none' } }]);
      expect(n).toBe(0);
    } finally {
      warnings.stop();
      await backend.close();
    }
  });

  it('learns the policy again after a reconnect (CONFIG SET, then CLIENT KILL)', async () => {
    const backend = RedisBackend.fromUrl(server.url, {
      prefix: 'evict3',
      redis: { retryStrategy: () => 50 },
    });
    const admin = server.client();
    try {
      const write = () => backend.write([{ op: 'setBits', key: 'b:g', offsets: [1] }]);
      expect(codeOf(await rejection(write()))).toBe('CONFIG_ERROR');
      // Fixed on the server: after the client reconnects, writes go through.
      await admin.config('SET', 'maxmemory-policy', 'noeviction');
      await admin.client('KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
      await within(
        10_000,
        retryUntil(async () => (await write()) === true),
        'a write after the reconnect',
      );
      // And broken again: refused again after the next reconnect.
      await admin.config('SET', 'maxmemory-policy', 'allkeys-lfu');
      await admin.client('KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
      await within(
        10_000,
        retryUntil(async () => codeOf(await rejection(write())) === 'CONFIG_ERROR'),
        'a refusal after the reconnect',
      );
    } finally {
      await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
      admin.disconnect();
      await backend.close();
    }
  });
});

/** Call `attempt` until it returns true; errors of attempts during a reconnect are retried. */
async function retryUntil(attempt: () => Promise<boolean>): Promise<void> {
  for (;;) {
    try {
      if (await attempt()) return;
    } catch {
      // reconnecting
    }
    await sleep(50);
  }
}

describe('maxmemory-policy volatile-lru', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await TestServer.start(['--maxmemory', '64mb', '--maxmemory-policy', 'volatile-lru']);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('accepts bitmaps without an expiry, and refuses to give a bitmap one (it could be evicted in part)', async () => {
    const backend = RedisBackend.fromUrl(server.url, { prefix: 'volatile' });
    const redis = server.client();
    try {
      await backend.write([{ op: 'setBits', key: 'b:g', offsets: [1, 2] }]);
      const error = await rejection(
        backend.write([
          { op: 'setBits', key: 'b:h', offsets: [1] },
          { op: 'expire', key: 'b:h', seconds: 60 },
        ]),
      );
      expect(codeOf(error)).toBe('CONFIG_ERROR');
      expect((error as Error).message).toMatch(/volatile-lru.*with an expiry/);
      expect(await redis.exists('volatile:b:{h}')).toBe(0);
    } finally {
      redis.disconnect();
      await backend.close();
    }
  });
});
