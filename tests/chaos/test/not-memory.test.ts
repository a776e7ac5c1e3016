/**
 * Scenario 8: NOT over a 2^32 universe is symbolic on the client too. `not().union(one day)`
 * with one id near 2^32 answers about 2^32 ids; the Node heap must not hold them as bytes
 * (512 MiB) or as numbers: growth stays under 64 MiB.
 */
import { Events } from '@porpoise/events';
import { RedisBackend } from '@porpoise/storage';
import { dayrange } from '@porpoise/timerange';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNoTemporaries, ids, info, TestServer } from './support.js';

const HEAP_BOUND = 64 * 2 ** 20;
const TOP = 2 ** 32 - 2;

function heapUsed(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    gc();
  }
  return process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
}

describe('NOT over 2^32 on the client', () => {
  let server: TestServer;
  let backend: RedisBackend;
  beforeAll(async () => {
    server = await TestServer.start();
    backend = RedisBackend.fromUrl(server.url, { prefix: 'notmem' });
  });
  afterAll(async () => {
    await backend?.close();
    await server?.stop();
  });

  it('not().union(one day) with one id near 2^32 grows the heap by less than 64 MiB', async () => {
    expect(typeof (globalThis as { gc?: unknown }).gc, 'vitest runs with --expose-gc').toBe('function');
    const events = new Events(backend, { resolutions: ['hour', 'day'] });
    const at = new Date('2026-11-10T09:00:00Z');
    // A few thousand ids low down (dense and sparse chunks), and one near the top.
    await events.eventMany([...ids(0, 5_000), 3 * 2 ** 20 + 5, TOP].map((id) => ({ name: 'open', id, at })));
    const day = dayrange(new Date('2026-11-10T00:00:00Z'), new Date('2026-11-11T00:00:00Z'));
    const redis = server.client();
    const serverPeak = async () => Number((await info(redis, 'memory')).get('used_memory_peak'));
    const serverBefore = await serverPeak();
    const before = heapUsed();
    let peak = 0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers);
    }, 1);
    const answer = await events.get('open').not().union(day);
    clearInterval(sampler);
    const after = heapUsed();
    const universe = TOP + 1;
    expect(answer.size).toBe(universe - 5_002);
    expect(answer.has(5_000)).toBe(true);
    expect(answer.has(4_999)).toBe(false);
    expect(answer.has(TOP)).toBe(false);
    expect(answer.has(TOP - 1)).toBe(true);
    const retained = after - before;
    const sampledPeak = Math.max(peak, after) - before;
    console.log(
      `not-memory: heap retained ${(retained / 2 ** 20).toFixed(1)} MiB, sampled peak growth ${(sampledPeak / 2 ** 20).toFixed(1)} MiB`,
    );
    expect(retained).toBeLessThan(HEAP_BOUND);
    expect(sampledPeak).toBeLessThan(HEAP_BOUND);
    // On the server too: at most a few temporary chunks (128 KiB each), never 2^32 bits.
    const serverGrowth = (await serverPeak()) - serverBefore;
    console.log(`not-memory: server used_memory_peak grew by ${(serverGrowth / 2 ** 20).toFixed(1)} MiB`);
    expect(serverGrowth).toBeLessThan(16 * 2 ** 20);
    await expectNoTemporaries(redis);
    redis.disconnect();
  });

  it('not().counts() of the same day needs no allocation either', async () => {
    const events = new Events(backend, { resolutions: ['hour', 'day'] });
    const day = dayrange(new Date('2026-11-10T00:00:00Z'), new Date('2026-11-11T00:00:00Z'));
    const before = heapUsed();
    const [count] = await events.get('open').not().counts(day);
    expect(count!.count).toBe(TOP + 1 - 5_002);
    expect(heapUsed() - before).toBeLessThan(HEAP_BOUND);
  });
});
