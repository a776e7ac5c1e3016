/**
 * `porpoise serve` as a process: it prints its URL, answers on it (with the token it was
 * given), and on SIGTERM closes the server and the backend and exits 0. Bad flags are refused
 * before anything listens.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { Analytics, RedisBackend } from '@porpoise/analytics';
import { hasRedis, redisClient, redisTargets, uniquePrefix } from '@porpoise/test-redis';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI_ROOT, MEMORY_DEMO, runCli } from './support.js';

/** The binary through tsx, as `pnpm porpoise` runs it; resolves with its first stdout line. */
function startServe(args: readonly string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=@porpoise/source', 'src/bin.ts', 'serve', ...args],
    { cwd: CLI_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const firstLine = new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes('\n')) resolve(stdout.slice(0, stdout.indexOf('\n')));
    });
    child.once('exit', (code) => reject(new Error(`serve exited (${code}) before printing: ${stderr}`)));
  });
  return { child, firstLine, output: () => ({ stdout, stderr }) };
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

describe('porpoise serve (the process)', () => {
  it('prints its URL, requires the token on /api, and exits 0 on SIGTERM', async () => {
    const serve = startServe(['--port', '0', ...MEMORY_DEMO], { PORPOISE_SERVE_TOKEN: 'from-the-env-42' });
    children.push(serve.child);
    const line = await serve.firstLine;
    expect(line).toMatch(
      /^porpoise serve: http:\/\/127\.0\.0\.1:\d+\/ · memory backend \(demo month, 2,000 users\) · token required$/,
    );
    const url = /http:\/\/\S+\//.exec(line)![0];
    expect((await fetch(`${url}api/names`)).status).toBe(401);
    const names = await fetch(`${url}api/names`, { headers: { authorization: 'Bearer from-the-env-42' } });
    expect(names.status).toBe(200);
    expect(((await names.json()) as { events: string[] }).events).toContain('signup');
    expect((await fetch(url)).status).toBe(200);
    const exited = once(serve.child, 'exit');
    serve.child.kill('SIGTERM');
    const [code] = await exited;
    expect(code).toBe(0);
    expect(serve.output().stderr).toBe('');
  });

  it('--json prints one object with the URL', async () => {
    const serve = startServe(['--port', '0', '--json', ...MEMORY_DEMO]);
    children.push(serve.child);
    const body = JSON.parse(await serve.firstLine);
    expect(body).toMatchObject({ command: 'serve', token: false, source: { backend: 'memory', demo: true } });
    expect((await fetch(`${body.url}api/counts?expr=active&from=-2`)).status).toBe(200);
    const exited = once(serve.child, 'exit');
    serve.child.kill('SIGINT');
    expect((await exited)[0]).toBe(0);
  });

  it.skipIf(!hasRedis())('serves --redis under --prefix with a live clock', async () => {
    const { host, port } = redisTargets().standalone!;
    const url = `redis://${host}:${port}`;
    const prefix = uniquePrefix('serve-cmd');
    const backend = RedisBackend.fromUrl(url, { prefix });
    const analytics = new Analytics(backend);
    // Recorded now: a server with a live clock finds it in its latest buckets.
    await analytics.eventMany([3, 4, 5].map((id) => ({ name: 'checkout', id })));
    await backend.close();
    const serve = startServe(['--port', '0', '--json', '--redis', url, '--prefix', prefix]);
    children.push(serve.child);
    try {
      const body = JSON.parse(await serve.firstLine);
      expect(body.source).toEqual({ backend: 'redis', demo: false, prefix });
      const names = (await (await fetch(`${body.url}api/names`)).json()) as { events: string[]; now: string };
      expect(names.events).toEqual(['checkout']);
      expect(Math.abs(Date.parse(names.now) - Date.now())).toBeLessThan(3_600_000);
      const counts = (await (await fetch(`${body.url}api/counts?expr=checkout&from=-1&to=1`)).json()) as {
        buckets: Array<{ count: number }>;
      };
      // Yesterday and today: a run across midnight still finds the three.
      expect(counts.buckets.reduce((n, b) => n + b.count, 0)).toBe(3);
      const exited = once(serve.child, 'exit');
      serve.child.kill('SIGTERM');
      expect((await exited)[0]).toBe(0);
      expect(serve.output().stderr).toBe('');
    } finally {
      const client = redisClient();
      const keys = await client.keys(`${prefix}:*`);
      if (keys.length > 0) await client.del(...keys);
      await client.quit();
    }
  });

  it.each([
    [['--port', '70000'], '--port "70000": must be a whole number from 0 to 65,535'],
    [['--port', 'http'], '--port "http": must be a whole number'],
    [['--token', 'short'], '--token must be at least 8 characters without spaces'],
    [['--host', ''], '--host is empty'],
    [['--prefix', 'p'], '--prefix is the Redis key prefix and needs --redis'],
  ])('refuses %j before listening (exit 2)', async (args, message) => {
    const outcome = await runCli(['serve', ...args]);
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toContain(message);
    expect(outcome.stdout).toBe('');
  });
});
