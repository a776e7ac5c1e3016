/**
 * Scenario 9: servers that do not answer. A stopped redis-server (SIGSTOP), a TCP server that
 * accepts and stays silent, a peer that answers garbage, the `porpoise` CLI against the
 * stopped server, and close() after the server is gone: every call fails with a typed error
 * in bounded time, and nothing keeps the process alive.
 */
import { execFile, spawn } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { RedisBackend } from '@porpoise/storage';
import { freePort } from '@porpoise/test-redis/servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeOf, rejection, TestServer } from './support.js';

const CLI_ROOT = fileURLToPath(new URL('../../../packages/cli/', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** A TCP server on loopback; `onSocket` decides what (if anything) it answers. */
async function tcpServer(
  onSocket: (socket: Socket) => void,
): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    onSocket(socket);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

async function timed<T>(promise: Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await promise;
  return { value, ms: performance.now() - started };
}

describe('a stopped server (SIGSTOP)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await TestServer.start();
    server.pause();
  });
  afterAll(async () => {
    server?.resume();
    await server?.stop();
  });

  it('with the default settings: the first call of a new backend rejects within 10 s (TIMEOUT or CONNECTION_ERROR)', async () => {
    const backend = RedisBackend.fromUrl(server.url);
    try {
      const { value: error, ms } = await timed(rejection(backend.read([{ op: 'exists', key: 'k:g' }])));
      console.log(`timeouts: default settings, stopped server: ${codeOf(error)} after ${ms.toFixed(0)} ms`);
      expect(['TIMEOUT', 'CONNECTION_ERROR']).toContain(codeOf(error));
      expect((error as Error).message).toContain(`127.0.0.1:${server.port}`);
      // The default round-trip timeout is 10 s: allow its timer's own lateness (250 ms).
      expect(ms).toBeLessThan(10_250);
    } finally {
      await backend.close();
    }
  }, 20_000);

  it('with timeoutMs 1000: a read and a write each reject within about 1 s', async () => {
    const backend = RedisBackend.fromUrl(server.url, { timeoutMs: 1_000, redis: { connectTimeout: 1_000 } });
    try {
      for (const call of [
        () => backend.read([{ op: 'get', key: 'k:g' }]),
        () => backend.write([{ op: 'setAdd', key: 's:g', members: ['a'] }], { idempotencyKey: 'w1' }),
      ]) {
        const { value: error, ms } = await timed(rejection(call()));
        expect(['TIMEOUT', 'CONNECTION_ERROR']).toContain(codeOf(error));
        expect(ms).toBeLessThan(2_500);
      }
    } finally {
      await backend.close();
    }
  });

  it('the porpoise CLI exits non-zero within 15 s with one line on stderr', async () => {
    const started = performance.now();
    const outcome = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
      execFile(
        process.execPath,
        [
          '--import',
          'tsx',
          '--conditions=@porpoise/source',
          'src/bin.ts',
          'events',
          'active',
          '--redis',
          server.url,
        ],
        { cwd: CLI_ROOT, timeout: 30_000, encoding: 'utf8' },
        (error, _stdout, stderr) => {
          if (error && typeof error.code !== 'number') reject(error);
          else resolve({ code: error ? (error.code as number) : 0, stderr });
        },
      );
    });
    const ms = performance.now() - started;
    console.log(
      `timeouts: CLI against a stopped server: exit ${outcome.code} after ${ms.toFixed(0)} ms: ${outcome.stderr.trim()}`,
    );
    expect(outcome.code).not.toBe(0);
    expect(ms).toBeLessThan(15_000);
    expect(outcome.stderr.trim().split('\n')).toHaveLength(1);
    expect(outcome.stderr).toContain(String(server.port));
  }, 30_000);
});

describe('peers that are not a working Redis', () => {
  it('a TCP server that accepts and never answers: TIMEOUT or CONNECTION_ERROR in bounded time', async () => {
    const silent = await tcpServer(() => {});
    const backend = RedisBackend.fromUrl(`redis://127.0.0.1:${silent.port}`, {
      timeoutMs: 1_000,
      redis: { connectTimeout: 1_000 },
    });
    try {
      const { value: error, ms } = await timed(rejection(backend.read([{ op: 'exists', key: 'k:g' }])));
      expect(['TIMEOUT', 'CONNECTION_ERROR']).toContain(codeOf(error));
      expect((error as Error).message).toContain(`127.0.0.1:${silent.port}`);
      expect(ms).toBeLessThan(2_500);
    } finally {
      await backend.close();
      await silent.close();
    }
  });

  // ioredis reports the protocol error, then the flushed command's retries failing; the
  // message keeps the protocol error (the more telling cause).
  it('a peer that answers garbage (HTTP): CONNECTION_ERROR saying it is not a Redis server', async () => {
    const http = await tcpServer((socket) => {
      socket.on('data', () => {
        socket.write('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
        socket.end();
      });
    });
    const backend = RedisBackend.fromUrl(`redis://127.0.0.1:${http.port}`, {
      timeoutMs: 2_000,
      redis: { connectTimeout: 1_000 },
    });
    try {
      const { value: error, ms } = await timed(rejection(backend.read([{ op: 'exists', key: 'k:g' }])));
      console.log(
        `timeouts: HTTP peer: ${codeOf(error)} after ${ms.toFixed(0)} ms: ${(error as Error).message}`,
      );
      expect(codeOf(error)).toBe('CONNECTION_ERROR');
      expect((error as Error).message).toMatch(
        /not (speak the Redis protocol|a Redis server)|is it a Redis server/i,
      );
      expect((error as Error).message).toContain(`127.0.0.1:${http.port}`);
      expect(ms).toBeLessThan(5_000);
    } finally {
      await backend.close();
      await http.close();
    }
  });
});

/** A fake RESP server: each command (one per line or per RESP array) gets `reply(command)`. */
async function respServer(reply: (command: string) => string) {
  return tcpServer((socket) => {
    let buffer = '';
    socket.on('data', (data) => {
      buffer += data.toString('latin1');
      // Commands arrive as RESP arrays: *n, then $len/arg pairs. Answer each complete one.
      for (;;) {
        const match = /^\*(\d+)\r\n/.exec(buffer);
        if (!match) return;
        let at = match[0].length;
        const args: string[] = [];
        for (let i = 0; i < Number(match[1]); i++) {
          const head = /^\$(\d+)\r\n/.exec(buffer.slice(at));
          if (!head) return;
          const len = Number(head[1]);
          if (buffer.length < at + head[0].length + len + 2) return;
          args.push(buffer.slice(at + head[0].length, at + head[0].length + len));
          at += head[0].length + len + 2;
        }
        buffer = buffer.slice(at);
        socket.write(reply(args.join(' ')));
      }
    });
  });
}

const bulk = (text: string) => `$${Buffer.byteLength(text)}\r\n${text}\r\n`;

describe('peers that speak RESP', () => {
  it('nothing listening: CONNECTION_ERROR naming host:port and "connection refused"', async () => {
    const port = await freePort();
    const backend = RedisBackend.fromUrl(`redis://127.0.0.1:${port}`);
    try {
      const { value: error, ms } = await timed(rejection(backend.read([{ op: 'get', key: 'k:g' }])));
      expect(codeOf(error)).toBe('CONNECTION_ERROR');
      expect((error as Error).message).toContain(`127.0.0.1:${port}`);
      expect((error as Error).message).toMatch(/connection refused/);
      expect(ms).toBeLessThan(5_000);
    } finally {
      await backend.close();
    }
  });

  it('a RESP peer whose INFO has no redis_version: CONNECTION_ERROR asking whether it is a Redis server', async () => {
    const peer = await respServer((command) =>
      /^info/i.test(command) ? bulk('# Server\r\nname:fake\r\n') : '+OK\r\n',
    );
    const backend = RedisBackend.fromUrl(`redis://127.0.0.1:${peer.port}`, { timeoutMs: 2_000 });
    try {
      const error = await rejection(backend.read([{ op: 'get', key: 'k:g' }]));
      expect(codeOf(error)).toBe('CONNECTION_ERROR');
      expect((error as Error).message).toMatch(/is it a Redis server/);
    } finally {
      await backend.close();
      await peer.close();
    }
  });

  it('a Redis 6.2 peer: UNSUPPORTED naming the version, before any script is sent', async () => {
    const seen: string[] = [];
    const peer = await respServer((command) => {
      seen.push(command.split(' ')[0]!.toLowerCase());
      return /^info/i.test(command) ? bulk('# Server\r\nredis_version:6.2.14\r\nloading:0\r\n') : '+OK\r\n';
    });
    const backend = RedisBackend.fromUrl(`redis://127.0.0.1:${peer.port}`, { timeoutMs: 2_000 });
    try {
      const error = await rejection(backend.write([{ op: 'setAdd', key: 's:g', members: ['a'] }]));
      expect(codeOf(error)).toBe('UNSUPPORTED');
      expect((error as Error).message).toMatch(/6\.2\.14/);
      expect(seen.filter((c) => c.startsWith('eval'))).toEqual([]);
    } finally {
      await backend.close();
      await peer.close();
    }
  });
});

describe('close() after the server is gone', () => {
  // ioredis waits its disconnectTimeout (2 s) on a socket that already closed; fromUrl sets a
  // short one and close() destroys the socket of a client that is not connected.
  it('lets the process exit at once (within 1 s of close())', async () => {
    const server = await TestServer.start();
    await server.stop();
    const script = `
      import { RedisBackend } from '@porpoise/storage';
      const backend = RedisBackend.fromUrl('redis://127.0.0.1:${server.port}', { timeoutMs: 1000 });
      try { await backend.read([{ op: 'exists', key: 'k:g' }]); console.log('no error?'); }
      catch (error) { console.log('failed with', error.code); }
      await backend.close();
      console.log('closed at', performance.now().toFixed(0));
    `;
    const child = spawn(
      process.execPath,
      ['--conditions=@porpoise/source', '--import', 'tsx', '--input-type=module', '-e', script],
      { cwd: `${REPO_ROOT}tests/chaos`, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const exited = await new Promise<{ code: number | null; closedToExitMs: number }>((resolve) => {
      let closedAt = 0;
      child.stdout.on('data', (d) => {
        if (String(d).includes('closed at')) closedAt = performance.now();
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      child.once('exit', (code) => {
        clearTimeout(timer);
        resolve({ code, closedToExitMs: closedAt ? performance.now() - closedAt : Number.NaN });
      });
    });
    console.log(
      `timeouts: close() then exit: ${out.trim().replace(/\n/g, ' | ')}; exit after ${exited.closedToExitMs.toFixed(0)} ms`,
    );
    expect(out).toMatch(/failed with CONNECTION_ERROR|failed with TIMEOUT/);
    expect(exited.code).toBe(0);
    expect(exited.closedToExitMs).toBeLessThan(1_000);
  }, 30_000);
});
