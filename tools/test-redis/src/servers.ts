/**
 * Starting a throwaway redis-server by hand (for the fault tests and the benchmarks); the
 * vitest global setup starts the shared ones. No vitest import here, so plain scripts can
 * use it too.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis, type RedisOptions } from 'ioredis';

const run = promisify(execFile);

/** A port the OS says is free on loopback right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export async function waitForPing(port: number, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const { stdout } = await run('redis-cli', ['-p', String(port), 'PING']);
      if (stdout.trim() === 'PONG') return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not start`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Spawn redis-server on loopback `port` with `dir` as its data directory, plus extra flags. */
export function spawnRedisServer(port: number, dir: string, extra: readonly string[] = []): ChildProcess {
  return spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, ...extra], {
    stdio: 'ignore',
  });
}

/**
 * A throwaway redis-server for fault tests: its own port and data directory, a plain client
 * for setup and checks, and the faults themselves (SIGSTOP/SIGCONT, SIGKILL and restart).
 * `stop()` kills the process and removes the directory; call it in `finally`/`afterAll`.
 */
export class TestServer {
  readonly port: number;
  readonly dir: string;
  readonly args: readonly string[];
  #child: ChildProcess | undefined;
  #owned: boolean;

  private constructor(port: number, dir: string, args: readonly string[], owned: boolean) {
    this.port = port;
    this.dir = dir;
    this.args = args;
    this.#owned = owned;
  }

  /**
   * Start a server with `args` (e.g. ['--maxmemory', '30mb']). No persistence unless asked
   * for: `--save ''` and `--appendonly no` come first, so later flags override them.
   */
  static async start(args: readonly string[] = [], options: { dir?: string } = {}): Promise<TestServer> {
    const port = await freePort();
    const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'porpoise-chaos-'));
    const server = new TestServer(port, dir, args, options.dir === undefined);
    await server.restart();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** (Re)start the process on the same port and directory, and wait until it answers PING. */
  async restart(): Promise<void> {
    const child = spawnRedisServer(this.port, this.dir, ['--save', '', '--appendonly', 'no', ...this.args]);
    this.#child = child;
    await waitForPing(this.port, 10_000);
  }

  /** SIGKILL: no shutdown, no final save. */
  async kill(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGCONT');
    child.kill('SIGKILL');
    await exited;
  }

  /** Freeze the process (it keeps its socket open; connections hang). */
  pause(): void {
    this.#child?.kill('SIGSTOP');
  }

  resume(): void {
    this.#child?.kill('SIGCONT');
  }

  /** A plain client for setup and checks (fails fast, never retries forever). The caller quits it. */
  client(options: RedisOptions = {}): Redis {
    return new Redis({
      host: '127.0.0.1',
      port: this.port,
      maxRetriesPerRequest: 1,
      retryStrategy: (times) => (times > 50 ? null : 100),
      ...options,
    });
  }

  /** Kill the process and remove its directory (when this server made it). */
  async stop(): Promise<void> {
    await this.kill();
    if (this.#owned) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Every key matching `pattern`, by SCAN (never KEYS). */
export async function scanKeys(client: Redis, pattern = '*'): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    found.push(...batch);
  } while (cursor !== '0');
  return found;
}

/**
 * Temporary keys the Redis backend may create inside its scripts (layout.ts, lua/*.lua):
 * read scratch keys `<prefix>:tmp:{group}:t…`, a write's dense-piece scratch `<key>:o` and a
 * union scratch `<key>:u`. Each must be gone once its call returns.
 */
export async function temporaryKeys(client: Redis): Promise<string[]> {
  const keys = await scanKeys(client);
  return keys.filter((key) => key.includes(':tmp:') || key.endsWith(':o') || key.endsWith(':u'));
}

export interface WatchdogReport {
  /** PINGs answered. */
  readonly pings: number;
  /** The longest time one PING waited for its PONG, in ms. */
  readonly longestMs: number;
  /** The longest gap between two consecutive PONGs, in ms. */
  readonly longestGapMs: number;
}

// The watchdog's own process: a raw RESP PING loop on one socket, so that a busy event loop
// in the test process (building a million records, decoding a large reply) is not taken for
// a server that does not answer. It reports when its stdin closes.
const WATCHDOG = `
const net = require('node:net');
const [port, every] = process.argv.slice(1).map(Number);
let pings = 0, longestMs = 0, longestGapMs = 0, sent = 0, lastPong = 0, buffer = '', running = true;
const socket = net.connect(port, '127.0.0.1', () => { lastPong = performance.now(); ping(); });
function ping() { if (!running) return; sent = performance.now(); socket.write('PING\\r\\n'); }
socket.on('data', (data) => {
  buffer += data;
  while (buffer.includes('\\r\\n')) {
    buffer = buffer.slice(buffer.indexOf('\\r\\n') + 2);
    const now = performance.now();
    pings++;
    longestMs = Math.max(longestMs, now - sent);
    longestGapMs = Math.max(longestGapMs, now - lastPong);
    lastPong = now;
    setTimeout(ping, every);
  }
});
socket.on('error', () => {});
process.stdin.on('data', () => {});
process.stdin.on('end', () => {
  running = false;
  const waiting = sent > lastPong ? performance.now() - sent : 0;
  process.stdout.write(JSON.stringify({ pings, longestMs: Math.max(longestMs, waiting), longestGapMs }));
  process.exit(0);
});
`;

/**
 * PING the server every `everyMs` from a second connection in its own process, one at a
 * time, recording the longest wait for an answer: a script that holds the server shows up
 * as a long wait. `started` resolves once the first PONG came back.
 */
export function watchdog(
  port: number,
  everyMs = 10,
): { started: Promise<void>; stop(): Promise<WatchdogReport> } {
  const child = spawn(process.execPath, ['-e', WATCHDOG, String(port), String(everyMs)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout!.on('data', (data) => {
    output += data;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    // Give the child time to connect and answer its first PING.
    started: new Promise((resolve) => setTimeout(resolve, 300)),
    async stop() {
      child.stdin!.end();
      await exited;
      return JSON.parse(output) as WatchdogReport;
    },
  };
}

/** Slowlog entries: id, when (s), duration (µs), the command's first words. */
export interface SlowEntry {
  readonly id: number;
  readonly micros: number;
  readonly command: string;
}

/** Log every command slower than `micros` from now on (SLOWLOG RESET first). */
export async function resetSlowlog(client: Redis, micros: number): Promise<void> {
  await client.config('SET', 'slowlog-log-slower-than', String(micros));
  await client.config('SET', 'slowlog-max-len', '1024');
  await client.slowlog('RESET');
}

export async function slowlog(client: Redis): Promise<SlowEntry[]> {
  const raw = (await client.slowlog('GET', 1024)) as Array<[number, number, number, Array<string>]>;
  return raw.map(([id, , micros, args]) => ({
    id,
    micros,
    command: args
      .slice(0, 2)
      .map((a) => String(a).slice(0, 40))
      .join(' '),
  }));
}

/** `INFO <section>` as a map of fields. */
export async function info(client: Redis, section: string): Promise<Map<string, string>> {
  const text = await client.info(section);
  const out = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const at = line.indexOf(':');
    if (at > 0 && !line.startsWith('#')) out.set(line.slice(0, at), line.slice(at + 1));
  }
  return out;
}
