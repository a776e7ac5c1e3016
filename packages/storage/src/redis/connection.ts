/**
 * The client seam: everything that knows ioredis lives here. The rest of the Redis backend
 * speaks in script calls (one Lua script, its keys and arguments, in one locality group) and
 * a few plain commands (INFO, SCAN).
 *
 * Order survives a lost script cache: a round holds at most one call per locality group and
 * every operation of a call is inside its script, so a call that meets NOSCRIPT did nothing
 * at all and is sent again in full, and nothing of its group ran after it.
 */
import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { BackendError, type BackendErrorCode, PorpoiseError } from '../errors.js';

export type Client = Redis | Cluster;
export type Arg = string | number | Buffer;

export interface ScriptCall {
  /** Locality group: on a cluster, calls are routed by it (every key shares its slot). */
  readonly group: string;
  readonly script: Script;
  readonly keys: readonly string[];
  readonly args: readonly Arg[];
  /** Bulk replies as Buffers (binary-safe) rather than strings. */
  readonly buffer: boolean;
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
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|EPIPE|Connection is closed|MaxRetriesPerRequest|max retries per request|Stream isn't writeable|Reached the max retries|Failed to refresh slots|None of startup nodes|Protocol error|connect/i;

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
}

/** One ioredis client (standalone or Cluster), as the backend uses it. */
export class Connection {
  readonly cluster: boolean;
  /** ioredis-mock and the like: no EVAL in pipelines, so calls go one at a time, in order. */
  readonly emulator: boolean;
  readonly #client: Client;
  readonly #options: ConnectionOptions;
  #lastError: string | undefined;
  #generation = 0;
  readonly #onError = (error: Error) => {
    this.#lastError = error.message;
  };
  readonly #onReady = () => {
    this.#generation++;
  };

  constructor(client: Client, options: ConnectionOptions) {
    this.#client = client;
    this.#options = options;
    this.cluster = (client as { isCluster?: boolean }).isCluster === true;
    const pipeline = client.pipeline() as unknown as Record<string, unknown>;
    this.emulator = ['eval', 'evalBuffer', 'evalsha', 'evalshaBuffer'].some(
      (m) => typeof pipeline[m] !== 'function',
    );
    const events = client as unknown as { on?: (event: string, fn: (...a: never[]) => void) => void };
    if (typeof events.on === 'function') {
      // Our own client needs an error listener (Node would otherwise report every failed
      // reconnect); a user's client keeps whatever listeners its owner gave it.
      if (options.owned) events.on.call(client, 'error', this.#onError);
      events.on.call(client, 'ready', this.#onReady);
    }
  }

  /** Counts (re)connections: server facts learnt under an older generation are stale. */
  get generation(): number {
    return this.#generation;
  }

  /** host:port for messages. */
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

  error(error: unknown): PorpoiseError {
    return toBackendError(error, this.where, this.#lastError);
  }

  /**
   * Send one round of script calls (at most one per locality group): one pipeline on a
   * standalone server, one per group on a cluster. Every call settles; none rejects.
   */
  async round(calls: readonly ScriptCall[]): Promise<Settled[]> {
    if (calls.length === 0) return [];
    if (this.emulator) return this.#oneByOne(calls);
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
        const settled = await this.#pipeline(indices.map((i) => calls[i]!));
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

  async #pipeline(calls: readonly ScriptCall[], full = false): Promise<Settled[]> {
    const pipeline = this.#client.pipeline() as unknown as Pipeline;
    for (const call of calls) {
      const method = full ? (call.buffer ? 'evalBuffer' : 'eval') : call.buffer ? 'evalshaBuffer' : 'evalsha';
      const head = full ? call.script.source : call.script.sha;
      // ioredis flattens array arguments: no spreading of caller-sized lists (V8's stack).
      pipeline[method]!.call(pipeline, head, call.keys.length, call.keys as Arg[], call.args as Arg[]);
    }
    let replies: [Error | null, unknown][] | null;
    try {
      replies = await this.#bounded(pipeline.exec());
    } catch (error) {
      const failure = this.error(error);
      return calls.map(() => ({ ok: false, error: failure }));
    }
    const out: Settled[] = new Array(calls.length);
    const unknown: number[] = [];
    calls.forEach((_, i) => {
      const [error, value] = replies?.[i] ?? [new Error('Connection is closed'), null];
      // NOSCRIPT: the server's script cache was emptied (restart, failover, SCRIPT FLUSH);
      // the call did nothing, so it is sent again, in full.
      if (!full && error && /NOSCRIPT/.test(error.message)) unknown.push(i);
      else out[i] = this.#settle(error, value);
    });
    if (unknown.length > 0) {
      const again = await this.#pipeline(
        unknown.map((i) => calls[i]!),
        true,
      );
      unknown.forEach((i, j) => {
        out[i] = again[j]!;
      });
    }
    return out;
  }

  async #oneByOne(calls: readonly ScriptCall[]): Promise<Settled[]> {
    const out: Settled[] = [];
    const client = this.#client as unknown as Record<string, Sender>;
    for (const call of calls) {
      const method = call.buffer && typeof client.evalBuffer === 'function' ? 'evalBuffer' : 'eval';
      try {
        const value = await this.#bounded(
          Promise.resolve(
            client[method]!.call(this.#client, call.script.plain, call.keys.length, call.keys, call.args),
          ),
        );
        out.push(this.#settle(null, value));
      } catch (error) {
        out.push(this.#settle(error as Error, null));
      }
    }
    return out;
  }

  #settle(error: Error | null, value: unknown): Settled {
    if (error) return { ok: false, error: this.error(error) };
    // Emulators without redis.error_reply return our errors as marked strings.
    const text = Buffer.isBuffer(value) ? value.toString('latin1') : value;
    if (typeof text === 'string' && text.startsWith(SCRIPT_ERROR)) {
      return { ok: false, error: this.error(new Error(text.slice(SCRIPT_ERROR.length))) };
    }
    return { ok: true, value };
  }

  /** A round trip that takes longer than the timeout rejects (its outcome is then unknown). */
  #bounded<T>(promise: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(
          new BackendError(
            `Redis at ${this.where} did not answer within ${this.#options.timeoutMs} ms${
              this.#lastError ? ` (last client error: ${causeOf(this.#lastError)})` : ''
            }; a write may or may not have been applied (retry it with the same idempotencyKey to apply it exactly once)`,
            { code: 'TIMEOUT' },
          ),
        );
      }, this.#options.timeoutMs);
      timer.unref?.();
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  }

  /** INFO of every master (one on a standalone server). */
  async info(): Promise<string[]> {
    try {
      const nodes: Redis[] = this.cluster
        ? (this.#client as Cluster).nodes('master')
        : [this.#client as Redis];
      if (this.cluster && nodes.length === 0) {
        // Not connected yet: any command waits for the slots map.
        await this.#bounded(this.#client.ping());
        return this.info();
      }
      return await this.#bounded(Promise.all(nodes.map((node) => node.info())));
    } catch (error) {
      throw this.error(error);
    }
  }

  /** Every key matching `pattern` on every master. */
  async scan(pattern: string): Promise<string[]> {
    const nodes: Redis[] = this.cluster ? (this.#client as Cluster).nodes('master') : [this.#client as Redis];
    const found: string[] = [];
    try {
      await Promise.all(
        nodes.map(async (node) => {
          let cursor = '0';
          do {
            const [next, batch] = await this.#bounded(node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000));
            cursor = next;
            for (const key of batch) found.push(key);
          } while (cursor !== '0');
        }),
      );
    } catch (error) {
      throw this.error(error);
    }
    return found;
  }

  /** Plain commands for the emulator feature probe. */
  get raw(): Client {
    return this.#client;
  }

  async close(): Promise<void> {
    const events = this.#client as unknown as { off?: (event: string, fn: (...a: never[]) => void) => void };
    events.off?.call(this.#client, 'ready', this.#onReady);
    if (!this.#options.owned) return;
    const client = this.#client as unknown as {
      status?: string;
      quit(): Promise<unknown>;
      disconnect(): void;
    };
    if (client.status === 'ready') {
      try {
        await this.#bounded(client.quit());
      } catch {
        client.disconnect();
      }
    } else {
      // Not connected (or still trying): stop reconnecting now, so the process can exit.
      client.disconnect();
    }
    events.off?.call(this.#client, 'error', this.#onError);
  }
}
