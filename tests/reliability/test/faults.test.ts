/**
 * Faults: a redis-server killed and restarted mid-ingest, collapses interrupted at every
 * point, and several real processes ingesting and collapsing the same periods at once.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ActivityTracker } from '@porpoise/activity';
import { Events } from '@porpoise/events';
import { type Backend, BackendError, MemoryBackend, RedisBackend } from '@porpoise/storage';
import { hasRedis, redisTargets, uniquePrefix } from '@porpoise/test-redis';
import { freePort, spawnRedisServer, waitForPing } from '@porpoise/test-redis/servers';
import { dayrange } from '@porpoise/timerange';
import { afterAll, describe, expect, it } from 'vitest';
import { closeShared, compared } from './backends.js';
import { workload } from './fixtures/workload.js';

afterAll(closeShared);
const run = promisify(execFile);

function startRedis(port: number, dir: string) {
  return spawnRedisServer(port, dir, ['--appendonly', 'yes', '--appendfsync', 'always', '--save', '']);
}

describe.skipIf(!hasRedis())('a redis-server killed and restarted mid-ingest', () => {
  it('keeps every acknowledged write, and rejects writes during the outage with a typed error', async () => {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'porpoise-fault-'));
    let server = startRedis(port, dir);
    await waitForPing(port);
    // Retry reconnecting forever for this test; each command still fails fast while down.
    const backend = RedisBackend.fromUrl(`redis://127.0.0.1:${port}`, {
      prefix: 'fault',
      redis: { connectTimeout: 500, retryStrategy: () => 100 },
    });
    const events = new Events(backend);
    const at = new Date();
    const acked: number[] = [];
    const failures: unknown[] = [];
    let batch = 0;
    const ingest = async (batches: number) => {
      for (let i = 0; i < batches; i++, batch++) {
        const ids = Array.from({ length: 100 }, (_, j) => batch * 100 + j);
        try {
          await events.eventMany(ids.map((id) => ({ name: 'ingest', id, at })));
          acked.push(...ids);
        } catch (error) {
          failures.push(error);
        }
      }
    };
    try {
      await ingest(20);
      // Kill it while a batch is in flight.
      const inFlight = ingest(1);
      server.kill('SIGKILL');
      await inFlight;
      await new Promise((r) => setTimeout(r, 200));
      const started = Date.now();
      await ingest(5);
      expect(Date.now() - started).toBeLessThan(15_000); // no hang, no unbounded offline queue
      expect(failures.length).toBeGreaterThanOrEqual(5);
      for (const failure of failures) {
        expect(BackendError.isInstance(failure)).toBe(true);
        expect((failure as BackendError).code).toBe('CONNECTION_ERROR');
      }
      server = startRedis(port, dir);
      await waitForPing(port);
      // Give the client time to reconnect (it retries every 100 ms) before writing again.
      for (let i = 0; i < 100; i++) {
        if (
          await backend.read([{ op: 'exists', key: 'probe' }]).then(
            () => true,
            () => false,
          )
        )
          break;
        await new Promise((r) => setTimeout(r, 100));
      }
      await ingest(5);
      const stored = await events.get('ingest').union(dayrange(0, 1));
      for (const id of acked) expect(stored.has(id)).toBe(true);
      console.log(
        `fault test: ${acked.length} acknowledged ids all present after a SIGKILL and restart; ${failures.length} batches rejected during the outage`,
      );
    } finally {
      await backend.close();
      server.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** A backend that fails one write: before it reaches the store, or after it was applied. */
function failingOnce(inner: Backend, when: 'before' | 'after'): Backend {
  let armed = true;
  return {
    name: inner.name,
    read: (ops) => inner.read(ops),
    write: async (ops, options) => {
      if (armed && options?.atomic) {
        armed = false;
        if (when === 'before') throw new BackendError('injected: connection lost before the write');
        await inner.write(ops, options);
        throw new BackendError('injected: connection lost after the write');
      }
      return inner.write(ops, options);
    },
    supports: (f) => inner.supports(f),
    keys: () => inner.keys(),
    close: () => inner.close(),
  };
}

describe('a collapse interrupted at any point', () => {
  for (const { name, make } of compared()) {
    for (const when of ['before', 'after'] as const) {
      it(`can be re-run to the right counts when the failure comes ${when} the write (${name})`, async () => {
        const backend = make();
        const NOW = new Date('2026-11-10T12:00:00Z');
        const tracker = new ActivityTracker(backend, { now: () => NOW });
        const platforms = { buckets: ['web', 'ios'], aggregateBuckets: { total: ['web', 'ios'] } };
        for (const [id, bucket, day] of [
          ['a', 'web', 7],
          ['b', 'web', 8],
          ['a', 'ios', 8],
          ['c', 'ios', 9],
        ] as const) {
          await tracker.track({ id, bucket, date: new Date(Date.UTC(2026, 10, day, 9)) });
        }
        const broken = new ActivityTracker(failingOnce(backend, when), { now: () => NOW });
        await expect(broken.collapse({ maxPeriods: 5, ...platforms })).rejects.toThrow(/injected/);
        await tracker.collapse({ maxPeriods: 5, ...platforms });
        const rows = await tracker.lookupDaily({
          start: '2026-11-07',
          end: '2026-11-10',
          buckets: ['web', 'ios', 'total'],
        });
        expect(rows).toEqual([
          { date: '2026-11-07', counts: { web: 1, ios: 0, total: 1 }, final: true },
          { date: '2026-11-08', counts: { web: 1, ios: 1, total: 2 }, final: true },
          { date: '2026-11-09', counts: { web: 0, ios: 1, total: 1 }, final: true },
        ]);
        await backend.write([{ op: 'delete', keys: await backend.keys() }]);
        await backend.close();
      });
    }
  }
});

describe.skipIf(!hasRedis())('real processes ingesting and collapsing the same periods', () => {
  const worker = fileURLToPath(new URL('./fixtures/worker.ts', import.meta.url));
  const root = fileURLToPath(new URL('../../../', import.meta.url));

  for (const workers of [2, 4]) {
    it(`${workers} processes end with the counts of the model`, async () => {
      const target = redisTargets().standalone!;
      const url = `redis://${target.host}:${target.port}`;
      const prefix = uniquePrefix('procs');
      const phase = (name: string) =>
        Promise.all(
          Array.from({ length: workers }, (_, index) =>
            run(
              process.execPath,
              [
                '--conditions=@porpoise/source',
                '--import',
                'tsx',
                worker,
                url,
                prefix,
                String(index),
                String(workers),
                name,
              ],
              { cwd: root },
            ),
          ),
        );
      await phase('track');
      await phase('collapse');
      const model = new Map<number, { web: Set<string>; ios: Set<string> }>();
      for (const t of workload()) {
        const day = model.get(t.day) ?? { web: new Set<string>(), ios: new Set<string>() };
        day[t.bucket].add(t.id);
        model.set(t.day, day);
      }
      const backend = RedisBackend.fromUrl(url, { prefix });
      try {
        const tracker = new ActivityTracker(backend, { now: () => new Date('2026-11-08T12:00:00Z') });
        const rows = await tracker.lookupDaily({
          start: '2026-11-01',
          end: '2026-11-08',
          buckets: ['web', 'ios', 'total'],
        });
        expect(rows).toEqual(
          [1, 2, 3, 4, 5, 6, 7].map((d) => {
            const day = model.get(d)!;
            return {
              date: `2026-11-0${d}`,
              counts: { web: day.web.size, ios: day.ios.size, total: new Set([...day.web, ...day.ios]).size },
              final: true,
            };
          }),
        );
        // No raw ids are left for the collapsed days (the open day 2026-11-08 keeps its own).
        expect((await backend.keys()).filter((k) => k.includes(':raw:') && !k.endsWith('d20261108'))).toEqual(
          [],
        );
      } finally {
        await backend.write([{ op: 'delete', keys: await backend.keys() }]);
        await backend.close();
      }
    });
  }
});

describe('the memory backend under concurrent async callers', () => {
  it('applies interleaved tracks and collapses atomically', async () => {
    const backend = new MemoryBackend();
    const NOW = new Date('2026-11-10T12:00:00Z');
    const tracker = new ActivityTracker(backend, { now: () => NOW });
    const day = new Date('2026-11-09T10:00:00Z');
    await Promise.all([
      ...Array.from({ length: 200 }, (_, i) => tracker.track({ id: `u${i % 50}`, date: day })),
      ...Array.from({ length: 5 }, () =>
        tracker.collapse({ date: new Date('2026-11-09T00:00:00Z'), maxPeriods: 3 }),
      ),
    ]);
    await tracker.collapse();
    const [row] = await tracker.lookupDaily({ start: '2026-11-09', end: '2026-11-10' });
    expect(row).toEqual({ date: '2026-11-09', counts: { all: 50 }, final: true });
  });
});
