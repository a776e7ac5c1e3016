/**
 * Idempotent writes under the faults that leave a write's outcome unknown: a round trip
 * that times out while the server is stopped (the call runs once the server resumes), and
 * a connection killed midway through a many-call write. A retry with the same
 * idempotencyKey applies exactly what the first attempt did not.
 */
import { RedisBackend, type WriteOp } from '@porpoise/storage';
import { describe, expect, it } from 'vitest';
import { codeOf, ids, info, rejection, sleep, TestServer } from './support.js';

const FIELDS = 100_000;

function incrementOps(): WriteOp[] {
  // 10,000 fields per call: ten calls, one per round on a standalone server.
  return [{ op: 'increment', key: 'hits:g', increments: ids(0, FIELDS).map((i) => [`f${i}`, 1] as const) }];
}

async function retryUntilDone(write: () => Promise<boolean>): Promise<number> {
  for (let attempt = 1; attempt <= 50; attempt++) {
    try {
      await write();
      return attempt;
    } catch {
      await sleep(100);
    }
  }
  throw new Error('the retries never succeeded');
}

async function expectExactlyOnce(server: TestServer): Promise<void> {
  const redis = server.client();
  try {
    const values = await redis.hvals('idem:hits:{g}');
    expect(values).toHaveLength(FIELDS);
    const wrong = values.filter((v) => v !== '1');
    expect(wrong.length, `fields counted other than once: ${wrong.slice(0, 5).join(', ')}`).toBe(0);
  } finally {
    redis.disconnect();
  }
}

describe('idempotent writes whose outcome is unknown', () => {
  it('a TIMEOUT while the server is stopped, then the server resumes: the retry counts each increment once', async () => {
    const server = await TestServer.start();
    const backend = RedisBackend.fromUrl(server.url, {
      prefix: 'idem',
      timeoutMs: 300,
      redis: { retryStrategy: () => 50 },
    });
    try {
      await backend.write([{ op: 'set', key: 'warm:g', value: '1' }]);
      const write = () => backend.write(incrementOps(), { idempotencyKey: 'batch-7' });
      const first = rejection(write());
      // Stop the server midway through the rounds, for longer than the timeout.
      await sleep(30);
      server.pause();
      const error = await first;
      expect(['TIMEOUT', 'CONNECTION_ERROR']).toContain(codeOf(error));
      await sleep(200);
      server.resume();
      const attempts = await retryUntilDone(write);
      await expectExactlyOnce(server);
      console.log(
        `idempotency: ${codeOf(error)} while stopped; done after ${attempts} more attempt(s), each field once`,
      );
    } finally {
      server.resume();
      await backend.close();
      await server.stop();
    }
  });

  it('the connection killed midway (CLIENT KILL): the retry counts each increment once', async () => {
    const server = await TestServer.start();
    // ioredis resends commands a dropped connection left unanswered; without that, the first
    // attempt stops midway and the retry has the rest to do. (ioredis then never settles the
    // dropped pipeline: the backend's round-trip timeout ends it, as TIMEOUT; 1 s here.)
    const backend = RedisBackend.fromUrl(server.url, {
      prefix: 'idem',
      timeoutMs: 1_000,
      redis: { retryStrategy: () => 50, autoResendUnfulfilledCommands: false },
    });
    const admin = server.client();
    try {
      await backend.write([{ op: 'set', key: 'warm:g', value: '1' }]);
      const write = () => backend.write(incrementOps(), { idempotencyKey: 'batch-8' });
      let settled = false;
      const first = write().then(
        () => 'completed',
        (error) => codeOf(error),
      );
      void first.finally(() => {
        settled = true;
      });
      // Kill the backend's connection every 15 ms until the first attempt gives up or ends.
      let kills = 0;
      while (!settled) {
        await sleep(15);
        kills += Number(await admin.client('KILL', 'TYPE', 'normal', 'SKIPME', 'yes'));
      }
      const outcome = await first;
      expect(kills).toBeGreaterThan(0);
      const partial = await admin.hlen('idem:hits:{g}');
      const attempts = await retryUntilDone(write);
      await expectExactlyOnce(server);
      const used = Number((await info(admin, 'keyspace')).get('db0')?.match(/keys=(\d+)/)?.[1]);
      console.log(
        `idempotency: first attempt ${outcome} with ${partial}/${FIELDS} fields applied; retry done in ${attempts} attempt(s); ${used} keys (data, warm-up, markers)`,
      );
    } finally {
      admin.disconnect();
      await backend.close();
      await server.stop();
    }
  });
});
