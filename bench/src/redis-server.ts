/** A throwaway redis-server on a free loopback port, for the benchmarks only. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, spawnRedisServer, waitForPing } from '@porpoise/test-redis/servers';

export interface RunningRedis {
  url: string;
  version: string;
  stop(): void;
}

export async function startRedis(): Promise<RunningRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'porpoise-bench-'));
  const child = spawnRedisServer(port, dir, ['--save', '', '--appendonly', 'no']);
  await waitForPing(port);
  const version = execFileSync('redis-server', ['--version'], { encoding: 'utf8' }).trim();
  return {
    url: `redis://127.0.0.1:${port}`,
    version,
    stop: () => {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
