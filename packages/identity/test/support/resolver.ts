/**
 * One process of the multi-process test (test/processes.test.ts): resolves its share of the
 * ids through its own client and Identities, several batches in flight, and prints the
 * integers it was given as JSON.
 *
 * Environment: TARGET (JSON: { host, port } or an array of cluster nodes), PREFIX, PROCESS
 * (0-based), PROCESSES, IDS (distinct ids in all), SHARE (ids per process).
 */
import { RedisBackend } from '@porpoise/storage';
import { Cluster, Redis } from 'ioredis';
import { Identities } from '../../src/index.js';
import { idOf, shareOf } from './ids.js';

const target = JSON.parse(process.env.TARGET!) as
  | { host: string; port: number }
  | Array<{ host: string; port: number }>;
const client = Array.isArray(target) ? new Cluster(target) : new Redis(target);
const backend = new RedisBackend(client, { prefix: process.env.PREFIX! });
const identities = new Identities(backend);
const mine = shareOf(
  Number(process.env.PROCESS),
  Number(process.env.PROCESSES),
  Number(process.env.IDS),
  Number(process.env.SHARE),
);
const out = new Array<number>(mine.length);
const BATCH = 500;
let next = 0;
async function worker(): Promise<void> {
  while (next < mine.length) {
    const start = next;
    next += BATCH;
    const ints = await identities.resolve(mine.slice(start, start + BATCH).map(idOf));
    ints.forEach((n, i) => {
      out[start + i] = n;
    });
  }
}
await Promise.all(Array.from({ length: 4 }, worker));
process.stdout.write(JSON.stringify({ indices: mine, ints: out }));
await client.quit();
