/**
 * Scenario 4: a replica promoted (REPLICAOF NO ONE) while writes go on against the primary.
 * Every write acknowledged and known to have reached the replica (WAIT 1 1000 on the
 * writing connection) is on the promoted server, and scripts run there (its script cache
 * is empty: scripts are not replicated, only their effects).
 */
import { Counters } from '@porpoise/counters';
import { Events } from '@porpoise/events';
import { RedisBackend } from '@porpoise/storage';
import { dayrange } from '@porpoise/timerange';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { codeOf, expectNoTemporaries, ids, rejection, sleep, TestServer, within } from './support.js';

async function waitForSync(replica: Redis): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const text = await replica.info('replication');
    if (/master_link_status:up/.test(text)) return;
    await sleep(50);
  }
  throw new Error('the replica never synchronised');
}

describe('a replica promoted while writes go on', () => {
  it('has every write the replica acknowledged before the promotion; scripts work on it', async () => {
    const primary = await TestServer.start(['--repl-diskless-sync-delay', '0']);
    const replica = await TestServer.start(['--replicaof', '127.0.0.1', String(primary.port)]);
    const writer = new Redis({ host: '127.0.0.1', port: primary.port, maxRetriesPerRequest: 1 });
    const primaryBackend = new RedisBackend(writer, { prefix: 'failover' });
    // A backend already on the replica: refused writes before the promotion, working after.
    const early = RedisBackend.fromUrl(replica.url, { prefix: 'failover' });
    const admin = replica.client();
    const at = new Date('2026-11-10T09:00:00Z');
    const day = dayrange(new Date('2026-11-10T00:00:00Z'), new Date('2026-11-11T00:00:00Z'));
    try {
      await waitForSync(admin);
      const refused = await rejection(early.write([{ op: 'setAdd', key: 'x:g', members: ['a'] }]));
      expect(codeOf(refused)).toBe('BACKEND_ERROR');
      expect((refused as Error).message).toMatch(/READONLY/);

      const events = new Events(primaryBackend);
      const counters = new Counters(primaryBackend);
      const replicated: number[] = [];
      let promoted = false;
      let batches = 0;
      const writing = (async () => {
        for (let b = 0; b < 400 && !promoted; b++) {
          const list = ids(b * 100, b * 100 + 100);
          await events.eventMany(list.map((id) => ({ name: 'open', id, at })));
          await counters.countMany([{ key: 'opens', by: list.length, at }]);
          batches++;
          // The replica has this batch once WAIT counts it (and the promotion has not begun).
          const acked = await writer.wait(1, 1000);
          if (acked >= 1 && !promoted) replicated.push(b);
        }
      })();
      // Promote once a good number of batches are known replicated (or after 8 s).
      for (let waited = 0; replicated.length < 20 && waited < 8_000; waited += 20) await sleep(20);
      promoted = true;
      await admin.replicaof('NO', 'ONE');
      await within(30_000, writing, 'the writer');
      expect(replicated.length).toBeGreaterThan(5);

      // A new backend on the promoted server.
      const promotedBackend = RedisBackend.fromUrl(replica.url, { prefix: 'failover' });
      try {
        const events2 = new Events(promotedBackend);
        const stored = await events2.get('open').union(day);
        for (const b of replicated) {
          for (const id of ids(b * 100, b * 100 + 100)) {
            if (!stored.has(id)) throw new Error(`id ${id} of replicated batch ${b} missing`);
          }
        }
        const sum = await new Counters(promotedBackend).get('opens').sum(day);
        expect(sum.get('all')).toBeGreaterThanOrEqual(replicated.length * 100);
        // Writes (scripts on an empty script cache) work on the promoted server.
        expect(await admin.script('EXISTS', '0'.repeat(40))).toEqual([0]);
        await events2.eventMany(ids(10_000_000, 10_000_100).map((id) => ({ name: 'open', id, at })));
        expect((await events2.get('open').union(day)).has(10_000_050)).toBe(true);
        // And the backend that was refused before the promotion works now.
        expect(await early.write([{ op: 'setAdd', key: 'x:g', members: ['a'] }])).toBe(true);
        await expectNoTemporaries(admin);
        console.log(
          `replica: ${batches} batches written, ${replicated.length} known replicated before the promotion, all present`,
        );
      } finally {
        await promotedBackend.close();
      }
    } finally {
      admin.disconnect();
      await early.close();
      writer.disconnect();
      await replica.stop();
      await primary.stop();
    }
  });
});

describe('reads on a replica', () => {
  // Reads that make no temporaries run as a no-writes script, which Redis 7 accepts on a
  // read-only replica (reads combining bitmaps server-side need a primary).
  it('a backend on a replica answers reads', async () => {
    const primary = await TestServer.start(['--repl-diskless-sync-delay', '0']);
    const replica = await TestServer.start(['--replicaof', '127.0.0.1', String(primary.port)]);
    const onPrimary = RedisBackend.fromUrl(primary.url, { prefix: 'ro' });
    const onReplica = RedisBackend.fromUrl(replica.url, { prefix: 'ro' });
    const admin = replica.client();
    try {
      await waitForSync(admin);
      await onPrimary.write([
        { op: 'setBits', key: 'b:g', offsets: [1, 2, 3] },
        { op: 'set', key: 'v:g', value: 'x' },
      ]);
      for (let i = 0; i < 100 && (await admin.exists('ro:v:{g}')) === 0; i++) await sleep(20);
      const [value, count] = await onReplica.read([
        { op: 'get', key: 'v:g' },
        { op: 'bitCount', expr: { op: 'key', key: 'b:g' } },
      ]);
      expect({ value, count }).toEqual({ value: 'x', count: 3 });
    } finally {
      admin.disconnect();
      await onPrimary.close();
      await onReplica.close();
      await replica.stop();
      await primary.stop();
    }
  });
});
