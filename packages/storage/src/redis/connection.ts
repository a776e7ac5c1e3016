/**
 * The client seam: everything that knows a Redis client (ioredis or node-redis) lives here.
 * The rest of the Redis backend speaks in script calls (one Lua script, its keys and
 * arguments, in one locality group) and a few plain commands (INFO, SCAN).
 *
 * Order survives a lost script cache: a round holds at most one call per locality group and
 * every operation of a call is inside its script, so a call that meets NOSCRIPT did nothing
 * at all and is sent again in full, and nothing of its group ran after it.
 */
import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import type { Feature } from '../backend.js';
import { BackendError, type BackendErrorCode, InvalidArgumentError, PorpoiseError } from '../errors.js';
import { noteRoundTrip, sizeOf } from '../telemetry.js';

/**
 * A client the backend accepts: an ioredis `Redis` or `Cluster`, or a node-redis client
 * (`createClient()`, connected) or cluster (`createCluster()`, connected). Typed loosely so
 * that neither library is needed to compile against this package.
 */
export type Client = Redis | Cluster | NodeRedisLike;

/** The part of a node-redis client (v5, v6) the backend uses. */
export interface NodeRedisLike {
  sendCommand(...args: never[]): Promise<unknown>;
  withTypeMapping(mapping: Record<number, unknown>): NodeRedisLike;
}
export type Arg = string | number | Buffer;

export interface ScriptCall {
  /** Locality group: on a cluster, calls are routed by it (every key shares its slot). */
  readonly group: string;
  readonly script: Script;
  readonly keys: readonly string[];
  readonly args: readonly Arg[];
  /** Bulk replies as Buffers (binary-safe) rather than strings. */
  readonly buffer: boolean;
  /** The call makes temporary keys (and deletes them before it returns): for telemetry. */
  readonly temporaries?: boolean;
}

export interface Script {
  readonly source: string;
  readonly sha: string;
  /** The source without its shebang, for emulators whose Lua does not accept one. */
  readonly plain: string;
}

export function script(source: string): Script {
  return {
    source,
    sha: createHash('sha1').update(source).digest('hex'),
    plain: source.replace(/^#!lua[^\n]*\n/, ''),
  };
}

export type Settled =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly error: PorpoiseError };

const SCRIPT_ERROR = 'PORPOISE_SCRIPT_ERROR ';

const CONNECTION_FAILURE =
  /The client is closed|Socket closed unexpectedly|gave up reconnecting|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|EPIPE|Connection is closed|MaxRetriesPerRequest|max retries per request|Stream isn't writeable|Reached the max retries|Failed to refresh slots|None of startup nodes|Protocol error|connect/i;

function causeOf(message: string): string {
  if (/ECONNREFUSED/.test(message)) return 'connection refused';
  if (/ENOTFOUND|EAI_AGAIN/.test(message)) return 'host not found';
  if (/ETIMEDOUT/.test(message)) return 'connection timed out';
  if (/EHOSTUNREACH/.test(message)) return 'host unreachable';
  if (/ECONNRESET|EPIPE/.test(message)) return 'connection reset';
  if (/Protocol error/.test(message))
    return 'the peer does not speak the Redis protocol (is it a Redis server?)';
  return message;
}

/** A Redis or client error as one of our typed errors. */
export function toBackendError(error: unknown, where: string, lastClientError?: string): PorpoiseError {
  if (PorpoiseError.isInstance(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  const replyCode = /^([A-Z]+)\b/.exec(message)?.[1];
  const reason = (code: BackendErrorCode, text: string) => new BackendError(text, { cause: error, code });
  if (message.includes('PORPOISE_DATA_LOSS')) {
    return reason(
      'DATA_LOSS',
      `Redis at ${where}: ${message.slice(message.indexOf('PORPOISE_DATA_LOSS') + 19)}`,
    );
  }
  if (replyCode === 'OOM' || /\bOOM command not allowed/.test(message)) {
    return reason(
      'OUT_OF_MEMORY',
      `Redis at ${where} is over its maxmemory limit and refused the write (nothing of it was applied): ${message}`,
    );
  }
  if (replyCode === 'NOSCRIPT') return reason('BACKEND_ERROR', message);
  if (
    !/^(WRONGTYPE|ERR|BUSY|READONLY|CROSSSLOT|MOVED|ASK|CLUSTERDOWN|NOPERM|LOADING|MASTERDOWN)/.test(
      message,
    ) &&
    CONNECTION_FAILURE.test(message)
  ) {
    const detail =
      lastClientError && lastClientError !== message ? causeOf(lastClientError) : causeOf(message);
    return reason('CONNECTION_ERROR', `Redis at ${where} could not be reached: ${detail}`);
  }
  // Lua errors are wrapped by Redis as "ERR user_script:…: WRONGTYPE …"; surface the reason.
  const wrongType = message.indexOf('WRONGTYPE');
  if (wrongType > 0) return reason('BACKEND_ERROR', message.slice(wrongType));
  const ours = /user_script:\d+: (.*?)(?: script: \w+, on @user_script:\d+\.?)?$/.exec(message);
  return reason('BACKEND_ERROR', ours ? ours[1]! : message);
}

type Sender = (...args: unknown[]) => Promise<unknown> | unknown;
type Pipeline = Record<string, Sender> & { exec(): Promise<[Error | null, unknown][] | null> };

export interface ConnectionOptions {
  /** Milliseconds a round trip may take before its promises reject with TIMEOUT. */
  readonly timeoutMs: number;
  /** The client is ours: close() ends it and the process may exit at once. */
  readonly owned: boolean;
  /** Settles once the client has connected (node-redis clients created by fromUrl). */
  readonly ready?: Promise<unknown> | undefined;
}

type Reply = [Error | null, unknown];
type Listener = (...a: never[]) => void;
interface Events {
  on?(event: string, fn: Listener): void;
  off?(event: string, fn: Listener): void;
}

/** One client, standalone or cluster, as the backend uses it. */
export abstract class Connection {
  abstract readonly cluster: boolean;
  /** ioredis-mock and the like: no EVAL in pipelines, so calls go one at a time, in order. */
  readonly emulator: boolean = false;
  protected readonly options: ConnectionOptions;
  protected lastError: string | undefined;
  #generation = 0;
  protected readonly onError = (error: Error) => {
    // A protocol error says what the peer is; the retries failing after it say less.
    if (this.lastError === undefined || !/Protocol error/.test(this.lastError))
      this.lastError = error.message;
  };
  protected readonly onReady = () => {
    this.#generation++;
  };

  constructor(
    protected readonly client: object,
    options: ConnectionOptions,
  ) {
    this.options = options;
    const events = client as Events;
    if (typeof events.on === 'function') {
      // Our own client needs an error listener (Node would otherwise report every failed
      // reconnect); a user's client keeps whatever listeners its owner gave it.
      if (options.owned) events.on.call(client, 'error', this.onError);
      events.on.call(client, 'ready', this.onReady);
    }
  }

  /** Counts (re)connections: server facts learnt under an older generation are stale. */
  get generation(): number {
    return this.#generation;
  }

  /** host:port (or the cluster) for messages. */
  abstract get where(): string;

  /** Which library this is, for messages and telemetry. */
  abstract get library(): 'ioredis' | 'node-redis';

  error(error: unknown): PorpoiseError {
    return toBackendError(error, this.where, this.lastError);
  }

  /**
   * Send one round of script calls (at most one per locality group): one pipeline on a
   * standalone server, one per group on a cluster. Every call settles; none rejects.
   */
  async round(calls: readonly ScriptCall[]): Promise<Settled[]> {
    if (calls.length === 0) return [];
    if (this.emulator) return this.oneByOne(calls);
    const groups = new Map<string, number[]>();
    calls.forEach((call, i) => {
      const key = this.cluster ? call.group : '';
      let list = groups.get(key);
      if (!list) groups.set(key, (list = []));
      list.push(i);
    });
    const out: Settled[] = new Array(calls.length);
    await Promise.all(
      [...groups.values()].map(async (indices) => {
        const settled = await this.#batch(indices.map((i) => calls[i]!));
        indices.forEach((i, j) => {
          out[i] = settled[j]!;
        });
      }),
    );
    return out;
  }

  /** One call. */
  async call(call: ScriptCall): Promise<unknown> {
    const [settled] = await this.round([call]);
    if (!settled!.ok) throw settled!.error;
    return settled!.value;
  }

  /** Calls of one node, sent together, in order; each gets its reply or error. */
  protected abstract send(calls: readonly ScriptCall[], full: boolean): Promise<Reply[]>;

  /** The emulator path: each call on its own, in order. */
  protected oneByOne(_calls: readonly ScriptCall[]): Promise<Settled[]> {
    throw new Error('internal: only emulators send one call at a time');
  }

  async #batch(calls: readonly ScriptCall[], full = false): Promise<Settled[]> {
    let replies: Reply[];
    try {
      replies = await this.bounded(this.send(calls, full));
    } catch (error) {
      this.#observe(calls, full, undefined);
      const failure = this.error(error);
      return calls.map(() => ({ ok: false, error: failure }));
    }
    this.#observe(calls, full, replies);
    const out: Settled[] = new Array(calls.length);
    const unknown: number[] = [];
    calls.forEach((_, i) => {
      const [error, value] = replies[i] ?? [new Error('Connection is closed'), null];
      // NOSCRIPT: the server's script cache was emptied (restart, failover, SCRIPT FLUSH);
      // the call did nothing, so it is sent again, in full.
      if (!full && error && /NOSCRIPT/.test(error.message)) unknown.push(i);
      else out[i] = this.settle(error, value);
    });
    if (unknown.length > 0) {
      const again = await this.#batch(
        unknown.map((i) => calls[i]!),
        true,
      );
      unknown.forEach((i, j) => {
        out[i] = again[j]!;
      });
    }
    return out;
  }

  #observe(calls: readonly ScriptCall[], full: boolean, replies: Reply[] | undefined): void {
    let created = 0;
    let removed = 0;
    calls.forEach((call, i) => {
      const error = replies?.[i]?.[0];
      // A call refused with NOSCRIPT never ran (it is sent again in full).
      if (!call.temporaries || (error && /NOSCRIPT/.test(error.message))) return;
      created++;
      if (replies?.[i] && !error) removed++;
    });
    noteRoundTrip(
      this.library,
      () => {
        let bytes = 0;
        // A call resent after NOSCRIPT carries its script's source.
        for (const call of calls)
          bytes += sizeOf(call.keys) + sizeOf(call.args) + (full ? sizeOf(call.script.source) : 40);
        return bytes;
      },
      () => (replies ? sizeOf(replies.map((reply) => reply[1] ?? reply[0])) : 0),
      { created, removed },
    );
  }

  protected settle(error: Error | null, value: unknown): Settled {
    if (error) return { ok: false, error: this.error(error) };
    // The server answered: what the client reported before is no longer the story.
    this.lastError = undefined;
    // Emulators without redis.error_reply return our errors as marked strings.
    const text = Buffer.isBuffer(value) ? value.toString('latin1') : value;
    if (typeof text === 'string' && text.startsWith(SCRIPT_ERROR)) {
      return { ok: false, error: this.error(new Error(text.slice(SCRIPT_ERROR.length))) };
    }
    return { ok: true, value };
  }

  /** A round trip that takes longer than the timeout rejects (its outcome is then unknown). */
  protected bounded<T>(promise: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(
          new BackendError(
            `Redis at ${this.where} did not answer within ${this.options.timeoutMs} ms${
              this.lastError ? ` (last client error: ${causeOf(this.lastError)})` : ''
            }; a write may or may not have been applied (retry it with the same idempotencyKey to apply it exactly once)`,
            { code: 'TIMEOUT' },
          ),
        );
      }, this.options.timeoutMs);
      timer.unref?.();
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  }

  /** INFO of every master (one on a standalone server). */
  async info(): Promise<string[]> {
    try {
      return await this.bounded(this.infos());
    } catch (error) {
      throw this.error(error);
    }
  }

  protected abstract infos(): Promise<string[]>;

  /** Every key matching `pattern` on every master. */
  async scan(pattern: string): Promise<string[]> {
    const found: string[] = [];
    try {
      await this.bounded(this.scanInto(pattern, found));
    } catch (error) {
      throw this.error(error);
    }
    return found;
  }

  protected abstract scanInto(pattern: string, found: string[]): Promise<void>;

  /** Which optional features an emulator really has (real servers are known from INFO). */
  probeEmulator(_prefix: string): Promise<Set<Feature>> {
    return Promise.resolve(new Set<Feature>(['bitmaps', 'hyperloglog']));
  }

  /** The database index this connection is on, and the one it was asked for. */
  abstract database(): Promise<{ wanted: number; actual: number } | null>;

  async close(): Promise<void> {
    (this.client as Events).off?.call(this.client, 'ready', this.onReady);
    if (this.options.owned) await this.end();
    (this.client as Events).off?.call(this.client, 'error', this.onError);
  }

  /** End a client we own, so the process can exit at once. */
  protected abstract end(): Promise<void>;
}

/** The connection for a client of either library; which one is detected, never imported. */
export function connect(client: unknown, options: ConnectionOptions): Connection {
  if (typeof client === 'object' && client !== null) {
    const c = client as Record<string, unknown>;
    if (typeof c.pipeline === 'function') return new IoredisConnection(client as Redis | Cluster, options);
    if (typeof c.sendCommand === 'function' && typeof c.withTypeMapping === 'function') {
      return new NodeRedisConnection(client as NodeRedisLike, options);
    }
  }
  throw new InvalidArgumentError(
    'client',
    client,
    'must be an ioredis Redis or Cluster, or a connected node-redis client or cluster',
  );
}

class IoredisConnection extends Connection {
  readonly cluster: boolean;
  override readonly emulator: boolean;
  readonly #client: Redis | Cluster;

  constructor(client: Redis | Cluster, options: ConnectionOptions) {
    super(client, options);
    this.#client = client;
    this.cluster = (client as { isCluster?: boolean }).isCluster === true;
    const pipeline = client.pipeline() as unknown as Record<string, unknown>;
    this.emulator = ['eval', 'evalBuffer', 'evalsha', 'evalshaBuffer'].some(
      (m) => typeof pipeline[m] !== 'function',
    );
  }

  get library(): 'ioredis' {
    return 'ioredis';
  }

  get where(): string {
    const c = this.#client as unknown as {
      options?: { host?: string; port?: number };
      startupNodes?: Array<{ host?: string; port?: number } | string | number>;
    };
    if (this.cluster) {
      const first = c.startupNodes?.[0];
      const text =
        typeof first === 'object' ? `${first.host ?? '127.0.0.1'}:${first.port ?? 6379}` : String(first);
      return `the cluster at ${text}`;
    }
    return `${c.options?.host ?? '127.0.0.1'}:${c.options?.port ?? 6379}`;
  }

  protected async send(calls: readonly ScriptCall[], full: boolean): Promise<Reply[]> {
    const pipeline = this.#client.pipeline() as unknown as Pipeline;
    for (const call of calls) {
      const method = full ? (call.buffer ? 'evalBuffer' : 'eval') : call.buffer ? 'evalshaBuffer' : 'evalsha';
      const head = full ? call.script.source : call.script.sha;
      // ioredis flattens array arguments: no spreading of caller-sized lists (V8's stack).
      pipeline[method]!.call(pipeline, head, call.keys.length, call.keys as Arg[], call.args as Arg[]);
    }
    return (await pipeline.exec()) ?? [];
  }

  protected override async oneByOne(calls: readonly ScriptCall[]): Promise<Settled[]> {
    const out: Settled[] = [];
    const client = this.#client as unknown as Record<string, Sender>;
    for (const call of calls) {
      const method = call.buffer && typeof client.evalBuffer === 'function' ? 'evalBuffer' : 'eval';
      try {
        const value = await this.bounded(
          Promise.resolve(
            client[method]!.call(this.#client, call.script.plain, call.keys.length, call.keys, call.args),
          ),
        );
        out.push(this.settle(null, value));
      } catch (error) {
        out.push(this.settle(error as Error, null));
      }
    }
    return out;
  }

  #masters(): Redis[] {
    return this.cluster ? (this.#client as Cluster).nodes('master') : [this.#client as Redis];
  }

  protected async infos(): Promise<string[]> {
    if (this.cluster && this.#masters().length === 0) {
      // Not connected yet: any command waits for the slots map.
      await this.#client.ping();
    }
    return Promise.all(this.#masters().map((node) => node.info()));
  }

  protected async scanInto(pattern: string, found: string[]): Promise<void> {
    await Promise.all(
      this.#masters().map(async (node) => {
        let cursor = '0';
        do {
          const [next, batch] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
          cursor = next;
          for (const key of batch) found.push(key);
        } while (cursor !== '0');
      }),
    );
  }

  async database(): Promise<{ wanted: number; actual: number } | null> {
    const wanted = (this.#client as { options?: { db?: number } }).options?.db ?? 0;
    if (this.cluster || this.emulator || wanted === 0) return null;
    const info = String(await this.bounded((this.#client as Redis).client('INFO')));
    return { wanted, actual: Number(/\bdb=(\d+)/.exec(info)?.[1] ?? 0) };
  }

  /**
   * An emulator (no EVALSHA in its pipelines) is tried, once, on a scratch key: one that
   * stores strings as UTF-8 would give wrong bitmaps, so bitmaps are then unsupported. Only
   * a definite refusal marks a feature missing; any other failure is thrown and retried later.
   */
  override async probeEmulator(prefix: string): Promise<Set<Feature>> {
    const features = new Set<Feature>();
    const base = `${prefix}:probe:{probe}:`;
    const client = this.#client as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    const definite = (error: unknown) =>
      /unknown command|not supported|not implemented|ERR unknown/i.test(String(error));
    try {
      await client.setbit!(`${base}a`, 0, 1);
      await client.setbit!(`${base}a`, 7, 1);
      const count = await client.bitcount!(`${base}a`);
      const bytes = (await client.getBuffer!(`${base}a`)) as Buffer | null;
      await client.bitop!('OR', `${base}b`, `${base}a`);
      await client.bitfield!(`${base}a`, 'GET', 'u1', 0);
      if (count === 2 && bytes?.length === 1 && bytes[0] === 0x81) features.add('bitmaps');
    } catch (error) {
      if (!definite(error) && !(error instanceof TypeError)) throw this.error(error);
    }
    try {
      await client.pfadd!(`${base}c`, 'x');
      if ((await client.pfcount!(`${base}c`)) === 1) features.add('hyperloglog');
    } catch (error) {
      if (!definite(error) && !(error instanceof TypeError)) throw this.error(error);
    }
    try {
      await client.del!(`${base}a`, `${base}b`, `${base}c`);
    } catch (error) {
      throw this.error(error);
    }
    return features;
  }

  protected async end(): Promise<void> {
    const client = this.#client as unknown as {
      status?: string;
      quit(): Promise<unknown>;
      disconnect(): void;
    };
    if (client.status === 'ready') {
      try {
        await this.bounded(client.quit());
      } catch {
        client.disconnect();
      }
    } else {
      // Not connected (or still trying): stop reconnecting now, and end the socket at once,
      // so the process can exit (ioredis would wait its disconnectTimeout on a dead socket).
      client.disconnect();
      (this.#client as unknown as { stream?: { destroy(): void } }).stream?.destroy();
    }
  }
}

/** node-redis's RESP type code for blob strings (RESP_TYPES.BLOB_STRING). */
const BLOB_STRING = 36;

interface NodeRedisClient {
  sendCommand(args: Array<string | Buffer>): Promise<unknown>;
  withTypeMapping(mapping: Record<number, unknown>): NodeRedisClient;
  info(): Promise<string>;
  scan(
    cursor: string,
    options: { MATCH: string; COUNT: number },
  ): Promise<{ cursor: string; keys: string[] }>;
  options?: { url?: string; database?: number; socket?: { host?: string; port?: number } };
  isReady?: boolean;
  close?(): Promise<void>;
  destroy?(): void;
  quit?(): Promise<void>;
}

interface NodeRedisCluster {
  sendCommand(
    firstKey: string | undefined,
    readonly: boolean,
    args: Array<string | Buffer>,
  ): Promise<unknown>;
  withTypeMapping(mapping: Record<number, unknown>): NodeRedisCluster;
  masters: unknown[];
  nodeClient(node: unknown): NodeRedisClient | Promise<NodeRedisClient>;
  close?(): Promise<void>;
  destroy?(): void;
  quit?(): Promise<void>;
}

class NodeRedisConnection extends Connection {
  readonly cluster: boolean;
  readonly #client: NodeRedisClient | NodeRedisCluster;
  /** The same client with bulk strings as Buffers (binary-safe chunk replies). */
  readonly #binary: NodeRedisClient | NodeRedisCluster;

  constructor(client: NodeRedisLike, options: ConnectionOptions) {
    super(client, options);
    this.#client = client as unknown as NodeRedisClient | NodeRedisCluster;
    this.cluster = Array.isArray((client as unknown as NodeRedisCluster).masters);
    this.#binary = this.#client.withTypeMapping({ [BLOB_STRING]: Buffer });
  }

  get library(): 'node-redis' {
    return 'node-redis';
  }

  get where(): string {
    if (this.cluster) return 'the cluster';
    const options = (this.#client as NodeRedisClient).options;
    if (options?.socket?.host !== undefined || options?.socket?.port !== undefined) {
      return `${options.socket.host ?? 'localhost'}:${options.socket.port ?? 6379}`;
    }
    if (options?.url) {
      try {
        const url = new URL(options.url);
        return `${url.hostname}:${url.port || 6379}`;
      } catch {
        // fall through
      }
    }
    return 'localhost:6379';
  }

  protected async send(calls: readonly ScriptCall[], full: boolean): Promise<Reply[]> {
    await this.options.ready;
    // Commands issued in the same tick leave as one write (node-redis pipelines them) and are
    // answered in order.
    return Promise.all(
      calls.map((call) => {
        const command: Array<string | Buffer> = [
          full ? 'EVAL' : 'EVALSHA',
          full ? call.script.source : call.script.sha,
          String(call.keys.length),
        ];
        for (const key of call.keys) command.push(key);
        for (const arg of call.args) command.push(typeof arg === 'number' ? String(arg) : arg);
        const client = call.buffer ? this.#binary : this.#client;
        const sent = this.cluster
          ? (client as NodeRedisCluster).sendCommand(call.keys[0], false, command)
          : (client as NodeRedisClient).sendCommand(command);
        return sent.then(
          (value): Reply => [null, value],
          (error: unknown): Reply => [error instanceof Error ? error : new Error(String(error)), null],
        );
      }),
    );
  }

  async #masters(): Promise<NodeRedisClient[]> {
    if (!this.cluster) return [this.#client as NodeRedisClient];
    const cluster = this.#client as NodeRedisCluster;
    return Promise.all(cluster.masters.map((node) => cluster.nodeClient(node)));
  }

  protected async infos(): Promise<string[]> {
    await this.options.ready;
    return Promise.all((await this.#masters()).map((node) => node.info()));
  }

  protected async scanInto(pattern: string, found: string[]): Promise<void> {
    await this.options.ready;
    await Promise.all(
      (await this.#masters()).map(async (node) => {
        let cursor = '0';
        do {
          const page = await node.scan(cursor, { MATCH: pattern, COUNT: 1000 });
          cursor = String(page.cursor);
          for (const key of page.keys) found.push(key);
        } while (cursor !== '0');
      }),
    );
  }

  async database(): Promise<{ wanted: number; actual: number } | null> {
    if (this.cluster) return null;
    const client = this.#client as NodeRedisClient;
    let wanted = client.options?.database ?? 0;
    if (client.options?.url) {
      const path = /^\/(\d+)/.exec(new URL(client.options.url).pathname)?.[1];
      if (path !== undefined) wanted = Number(path);
    }
    if (wanted === 0) return null;
    const info = String(await this.bounded(client.sendCommand(['CLIENT', 'INFO'])));
    return { wanted, actual: Number(/\bdb=(\d+)/.exec(info)?.[1] ?? 0) };
  }

  protected async end(): Promise<void> {
    const client = this.#client;
    try {
      if (typeof client.close === 'function') await this.bounded(client.close());
      else if (typeof client.quit === 'function') await this.bounded(client.quit());
    } catch {
      client.destroy?.();
    }
  }
}
