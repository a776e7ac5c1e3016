/**
 * Vitest global setup: one throwaway `redis-server` and one 3-node Redis Cluster on free
 * loopback ports for the whole run, stopped afterwards. Without `redis-server` on PATH the
 * Redis suites are skipped loudly; under CI=true that is a failure instead, because a green
 * run that never touched Redis proves nothing.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import type { RedisTargets } from './index.js';

const host = '127.0.0.1';

function commandExists(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/** A free port whose cluster-bus twin (port + 10000) is free too. */
async function freePort(taken: Set<number>): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 30000);
    if (taken.has(port) || taken.has(port + 10000)) continue;
    if ((await portIsFree(port)) && (await portIsFree(port + 10000))) {
      taken.add(port);
      taken.add(port + 10000);
      return port;
    }
  }
  throw new Error('test-redis: no free loopback port found');
}

function redisCli(port: number, ...args: string[]): string {
  return execFileSync('redis-cli', ['-h', host, '-p', String(port), ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  }).trim();
}

async function waitFor(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (check()) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`test-redis: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function startServer(port: number, dir: string, extra: string[]): ChildProcess {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', host, '--save', '', '--appendonly', 'no', '--dir', dir, ...extra],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  child.unref();
  return child;
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const children: ChildProcess[] = [];
  const dirs: string[] = [];
  const teardown = async () => {
    for (const child of children) child.kill('SIGKILL');
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  };

  if (!commandExists('redis-server') || !commandExists('redis-cli')) {
    if (process.env.CI === 'true') {
      throw new Error(
        'test-redis: redis-server is not installed, and CI=true requires the Redis suites to run',
      );
    }
    const line = '!'.repeat(78);
    console.warn(
      `\n${line}\n!! SKIPPED: redis-server not found on PATH: every Redis and Redis Cluster test is skipped.\n!! Install it (apt-get install -y redis-server) to run them.\n${line}\n`,
    );
    project.provide('porpoiseRedis', { standalone: null, cluster: null } satisfies RedisTargets);
    return teardown;
  }

  try {
    const taken = new Set<number>();
    const dir = mkdtempSync(join(tmpdir(), 'porpoise-redis-'));
    dirs.push(dir);

    const port = await freePort(taken);
    children.push(startServer(port, dir, []));

    const clusterPorts = [await freePort(taken), await freePort(taken), await freePort(taken)];
    for (const p of clusterPorts) {
      children.push(
        startServer(p, dir, ['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${p}.conf`]),
      );
    }
    await waitFor('redis-server', () => redisCli(port, 'PING') === 'PONG');
    for (const p of clusterPorts) await waitFor(`cluster node ${p}`, () => redisCli(p, 'PING') === 'PONG');
    execFileSync(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...clusterPorts.map((p) => `${host}:${p}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ],
      { stdio: 'ignore' },
    );
    await waitFor(
      'cluster_state:ok',
      () => clusterPorts.every((p) => redisCli(p, 'CLUSTER', 'INFO').includes('cluster_state:ok')),
      20_000,
    );

    project.provide('porpoiseRedis', {
      standalone: { host, port },
      cluster: clusterPorts.map((p) => ({ host, port: p })),
    } satisfies RedisTargets);
  } catch (error) {
    await teardown();
    throw error;
  }
  return teardown;
}
