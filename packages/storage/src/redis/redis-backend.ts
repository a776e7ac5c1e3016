/**
 * The Redis backend, on a user-supplied ioredis client (standalone or Cluster).
 *
 * Every `read` and `write` becomes one pipeline per locality group (on a standalone server,
 * one pipeline in all), so a whole query or ingest batch is one round trip. Operations that
 * must check a type or touch a bitmap's chunks run as Lua scripts (./lua).
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Cluster, Redis, RedisOptions } from 'ioredis';
import type { Backend, BitExpr, Feature, ReadOp, ReadResults, WriteOp, WriteOptions } from '../backend.js';
import { Bitmap } from '../bitmap.js';
import { BackendError, InvalidArgumentError, PorpoiseError, UnsupportedError } from '../errors.js';
import { localityGroup } from '../keys.js';
import { exprKeys, validateReadOps, validateWriteOps } from '../validate.js';
import { decodeChunks, encodeBits, REDIS_CHUNK_BITS } from './chunks.js';
import { KeyLayout } from './layout.js';
import { ATOMIC } from './lua/atomic.js';
import { BITQUERY } from './lua/bitquery.js';
import {
  CHUNKS,
  CLEARBITS,
  DEL,
  EXPIRE,
  GETBIT,
  HGETALL,
  MAX,
  ORCHUNKS,
  SETBITS,
  SETVALUE,
  STORECARD,
  UNIONCARD,
} from './lua/scripts.js';

export interface RedisBackendOptions {
  /** Namespace for every key this backend writes: 1-64 characters of [A-Za-z0-9_.-]. Default 'porpoise'. */
  prefix?: string;
}

type Client = Redis | Cluster;
type Arg = string | number | Buffer;

interface Command {
  readonly group: string;
  readonly name: string;
  readonly args: readonly Arg[];
  readonly buffer: boolean;
  /** For EVAL: the script, sent by its SHA1 (EVALSHA) and again in full only on NOSCRIPT. */
  readonly sha?: string;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

const CONNECTION_FAILURE =
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EPIPE|Connection is closed|MaxRetriesPerRequest|Stream isn't writeable|connect|Reached the max retries|Failed to refresh slots|None of startup nodes/i;

function toBackendError(error: unknown): PorpoiseError {
  if (PorpoiseError.isInstance(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (
    !/^(WRONGTYPE|ERR|NOSCRIPT|BUSY|OOM|READONLY|CROSSSLOT|MOVED|ASK|CLUSTERDOWN)/.test(message) &&
    CONNECTION_FAILURE.test(message)
  ) {
    return new BackendError(`Redis connection failed: ${message}`, {
      cause: error,
      code: 'CONNECTION_ERROR',
    });
  }
  // Lua errors are wrapped by Redis as "ERR user_script:…: WRONGTYPE …"; surface the reason.
  const wrongType = message.indexOf('WRONGTYPE');
  return new BackendError(wrongType > 0 ? message.slice(wrongType) : message, { cause: error });
}

const SCRIPT_ERROR = 'PORPOISE_SCRIPT_ERROR ';

const shas = new Map<string, string>();
function shaOf(source: string): string {
  let sha = shas.get(source);
  if (sha === undefined) {
    sha = createHash('sha1').update(source).digest('hex');
    shas.set(source, sha);
  }
  return sha;
}

/**
 * Settle a command with its reply. On an emulator without redis.error_reply our scripts
 * return their error as a marked string (see lua/includes.ts); turn it back into an error.
 */
function settleReply(command: Command, error: unknown, value: unknown): void {
  if (error) command.reject(toBackendError(error));
  else if (typeof value === 'string' && value.startsWith(SCRIPT_ERROR)) {
    command.reject(toBackendError(new Error(value.slice(SCRIPT_ERROR.length))));
  } else command.resolve(value);
}

/** Commands queued for one round trip: one pipeline per locality group (or one in all). */
class Batch {
  readonly #commands: Command[] = [];
  /** Payload bytes queued, roughly: buffers by length, other arguments as a few bytes each. */
  #bytes = 0;

  constructor(
    private readonly client: Client,
    private readonly cluster: boolean,
  ) {}

  call<T = unknown>(
    group: string,
    name: string,
    args: readonly Arg[],
    buffer = false,
    sha?: string,
  ): Promise<T> {
    for (const arg of args) this.#bytes += typeof arg === 'object' ? arg.length : 8;
    return new Promise<T>((resolve, reject) => {
      this.#commands.push({
        group,
        name,
        args,
        buffer,
        sha,
        resolve: resolve as (v: unknown) => void,
        reject,
      });
    });
  }

  script<T = unknown>(
    group: string,
    source: string,
    keys: readonly string[],
    args: readonly Arg[],
    buffer = false,
  ) {
    return this.call<T>(group, 'EVAL', [source, keys.length, ...keys, ...args], buffer, shaOf(source));
  }

  get size(): number {
    return this.#commands.length;
  }

  get bytes(): number {
    return this.#bytes;
  }

  async flush(): Promise<void> {
    const groups = new Map<string, Command[]>();
    for (const command of this.#commands) {
      const key = this.cluster ? command.group : '';
      let list = groups.get(key);
      if (!list) groups.set(key, (list = []));
      list.push(command);
    }
    this.#commands.length = 0;
    await Promise.all([...groups.values()].map((commands) => this.#send(commands)));
  }

  async #send(commands: Command[]): Promise<void> {
    type Sender = (...args: readonly Arg[]) => Promise<unknown> | unknown;
    const pipeline = this.client.pipeline();
    const lookup = (target: object, c: Command) =>
      (target as Record<string, Sender | undefined>)[`${c.name.toLowerCase()}${c.buffer ? 'Buffer' : ''}`];
    // Emulators whose pipelines cannot EVAL get scripts in full, on their own (below).
    const canEvalsha = ['eval', 'evalsha'].every(
      (m) => typeof (pipeline as unknown as Record<string, unknown>)[m] === 'function',
    );
    // An emulator that cannot pipeline some command (ioredis-mock's EVAL) gets the whole
    // batch one command at a time, in order: a write's operations must not be reordered.
    if (commands.some((c) => !(c.sha && canEvalsha) && !lookup(pipeline, c))) {
      for (const c of commands) {
        const alone = lookup(this.client, c);
        if (!alone) {
          c.reject(new UnsupportedError(`this Redis client cannot send ${c.name}`));
          continue;
        }
        try {
          settleReply(c, null, await alone.apply(this.client, [...c.args]));
        } catch (error) {
          settleReply(c, error, null);
        }
      }
      return;
    }
    const piped: Command[] = [];
    for (const c of commands) {
      // Scripts go by SHA1: sending a 5 KB script with every call would dominate small reads.
      if (c.sha && canEvalsha) {
        const method = (pipeline as unknown as Record<string, Sender>)[
          c.buffer ? 'evalshaBuffer' : 'evalsha'
        ]!;
        method.apply(pipeline, [c.sha, ...c.args.slice(1)]);
      } else {
        // Named command methods rather than pipeline.call, so emulators like ioredis-mock work.
        lookup(pipeline, c)!.apply(pipeline, [...c.args]);
      }
      piped.push(c);
    }
    if (piped.length > 0) {
      let replies: [Error | null, unknown][] | null = null;
      try {
        replies = await pipeline.exec();
      } catch (error) {
        for (const c of piped) c.reject(toBackendError(error));
      }
      if (replies) {
        const unknownScripts: Command[] = [];
        piped.forEach((c, i) => {
          const [error, value] = replies[i] ?? [new Error('Connection is closed'), null];
          // NOSCRIPT: the server has not seen this script yet (or was restarted); the command
          // did not run, so sending it in full is safe.
          if (c.sha && error && /^NOSCRIPT/.test(error.message))
            unknownScripts.push({ ...c, sha: undefined });
          else settleReply(c, error, value);
        });
        if (unknownScripts.length > 0) await this.#send(unknownScripts);
      }
    }
  }
}

/** Settle every promise; reject with the first failure once all are done. */
async function settleAll<T>(promises: Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(promises);
  const failure = results.find((r) => r.status === 'rejected');
  if (failure) throw (failure as PromiseRejectedResult).reason;
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}

/** Postfix program of an expression over the distinct leaf keys. */
function compile(expr: BitExpr, leaves: string[], out: string[] = []): string[] {
  switch (expr.op) {
    case 'key': {
      let index = leaves.indexOf(expr.key);
      if (index < 0) index = leaves.push(expr.key) - 1;
      out.push('k', String(index + 1));
      return out;
    }
    case 'not':
      compile(expr.args[0], leaves, out);
      out.push('not', String(expr.bits));
      return out;
    case 'andnot':
      compile(expr.args[0], leaves, out);
      compile(expr.args[1], leaves, out);
      out.push('andnot');
      return out;
    default:
      for (const arg of expr.args) compile(arg, leaves, out);
      out.push(expr.op, String(expr.args.length));
      return out;
  }
}

/** See `write`: how much of a large write is sent at a time. */
const PART_BYTES = 4 * 2 ** 20;

const BITMAP_READS = new Set(['getBit', 'bitCount', 'bitmap']);

/** Bit expressions of one read, gathered per mode and place so each place gets one script call. */
type ExpressionQueue = Map<
  string,
  {
    group: string;
    mode: 'count' | 'bytes';
    items: Array<{ expr: BitExpr; resolve: (value: unknown) => void; reject: (error: unknown) => void }>;
  }
>;

export class RedisBackend implements Backend {
  readonly name = 'redis';
  readonly #client: Client;
  readonly #owned: boolean;
  readonly #layout: KeyLayout;
  readonly #cluster: boolean;
  #features: Promise<Set<Feature>> | undefined;
  #closed = false;

  constructor(client: Client, options: RedisBackendOptions = {}, owned = false) {
    if (typeof client !== 'object' || client === null || typeof (client as Redis).pipeline !== 'function') {
      throw new InvalidArgumentError('client', client, 'must be an ioredis Redis or Cluster client');
    }
    this.#layout = new KeyLayout(options.prefix);
    this.#client = client;
    this.#owned = owned;
    this.#cluster = (client as { isCluster?: boolean }).isCluster === true;
  }

  /**
   * A backend that owns its client (closed by `close()`). The client fails fast instead of
   * queueing forever: one retry per command and a 5 s connect timeout, so a down server
   * rejects promises with a CONNECTION_ERROR within seconds.
   */
  static fromUrl(url: string, options: RedisBackendOptions & { redis?: RedisOptions } = {}): RedisBackend {
    if (typeof url !== 'string' || !/^rediss?:\/\//.test(url)) {
      throw new InvalidArgumentError('url', url, 'must be a redis:// or rediss:// URL');
    }
    // ioredis is an optional peer: only users of RedisBackend.fromUrl need it installed.
    const require = createRequire(import.meta.url);
    const { Redis: RedisClient } = require('ioredis') as typeof import('ioredis');
    const client = new RedisClient(url, {
      maxRetriesPerRequest: 1,
      connectTimeout: 5_000,
      retryStrategy: (times) => (times > 20 ? null : Math.min(times * 100, 1_000)),
      ...options.redis,
    });
    client.on('error', () => {
      // Failures reach callers as rejected promises; without a listener Node would crash.
    });
    return new RedisBackend(client, { prefix: options.prefix }, true);
  }

  get prefix(): string {
    return this.#layout.prefix;
  }

  async supports(feature: Feature): Promise<boolean> {
    this.#assertOpen();
    return (await this.#probe()).has(feature);
  }

  async read<const T extends readonly ReadOp[]>(ops: T): Promise<ReadResults<T>> {
    this.#assertOpen();
    validateReadOps(ops);
    await this.#require(
      ops.some((op) => BITMAP_READS.has(op.op)),
      ops.some((op) => op.op === 'hllCount'),
    );
    const batch = new Batch(this.#client, this.#cluster);
    const second = new Batch(this.#client, this.#cluster);
    const expressions: ExpressionQueue = new Map();
    const pending = ops.map((op) => this.#readOne(op, batch, second, expressions));
    this.#sendExpressions(expressions, batch);
    // Handlers go on before anything is sent, so a failed command is never an unhandled rejection.
    const results = settleAll(pending);
    // Cross-slot HyperLogLog merges on a cluster queue (and flush) a second round trip themselves.
    await batch.flush();
    return (await results) as ReadResults<T>;
  }

  async write(ops: readonly WriteOp[], options: WriteOptions = {}): Promise<boolean> {
    this.#assertOpen();
    validateWriteOps(ops, options);
    await this.#require(
      ops.some((op) => op.op === 'setBits'),
      ops.some((op) => op.op === 'hllAdd' || (op.op === 'storeCardinality' && op.kind === 'hll')),
    );
    if (options.atomic) return this.#writeAtomic(ops, options.unlessExists);
    // A large write goes in parts of about PART_BYTES, each sent once the previous one is
    // answered (so operations stay in order): the server applies one part while this process
    // encodes the next, instead of waiting for the whole batch.
    const pending: Promise<unknown>[] = [];
    let batch = new Batch(this.#client, this.#cluster);
    let sent: Promise<void> = Promise.resolve();
    const send = (part: Batch) => {
      sent = sent.finally(() => part.flush());
    };
    for (const op of ops) {
      this.#writeOne(op, batch, pending);
      if (batch.bytes >= PART_BYTES) {
        send(batch);
        batch = new Batch(this.#client, this.#cluster);
      }
    }
    send(batch);
    const settled = settleAll(pending);
    await sent;
    await settled;
    return true;
  }

  async keys(): Promise<string[]> {
    this.#assertOpen();
    const nodes: Redis[] = this.#cluster
      ? (this.#client as Cluster).nodes('master')
      : [this.#client as Redis];
    const found = new Set<string>();
    try {
      await Promise.all(
        nodes.map(async (node) => {
          let cursor = '0';
          do {
            const [next, batch] = await node.scan(cursor, 'MATCH', this.#layout.pattern, 'COUNT', 1000);
            cursor = next;
            for (const physical of batch) {
              const logical = this.#layout.logical(physical);
              if (logical !== null) found.add(logical);
            }
          } while (cursor !== '0');
        }),
      );
    } catch (error) {
      throw toBackendError(error);
    }
    return [...found].sort();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#owned) {
      try {
        await this.#client.quit();
      } catch {
        this.#client.disconnect();
      }
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new BackendError('the Redis backend is closed');
  }

  #probe(): Promise<Set<Feature>> {
    this.#features ??= (async () => {
      const features = new Set<Feature>();
      const base = `${this.#layout.prefix}:probe:{probe}:`;
      const client = this.#client;
      try {
        await client.setbit(`${base}a`, 0, 1);
        await client.setbit(`${base}a`, 7, 1);
        const count = await client.bitcount(`${base}a`);
        const bytes = await client.getBuffer(`${base}a`);
        await client.bitop('OR', `${base}b`, `${base}a`);
        await client.bitfield(`${base}a`, 'GET', 'u1', 0);
        // An emulator that stores strings as UTF-8 gets 0x81 wrong: its answers would be wrong too.
        if (count === 2 && bytes?.length === 1 && bytes[0] === 0x81) features.add('bitmaps');
      } catch {
        // not supported
      }
      try {
        await client.pfadd(`${base}c`, 'x');
        if ((await client.pfcount(`${base}c`)) === 1) features.add('hyperloglog');
      } catch {
        // not supported
      }
      try {
        await client.del(`${base}a`, `${base}b`, `${base}c`);
      } catch (error) {
        this.#features = undefined;
        throw toBackendError(error);
      }
      return features;
    })();
    return this.#features;
  }

  async #require(bitmaps: boolean, hyperloglog: boolean): Promise<void> {
    if (!bitmaps && !hyperloglog) return;
    const features = await this.#probe();
    if (bitmaps && !features.has('bitmaps')) {
      throw new UnsupportedError(
        'this Redis server or emulator does not support bitmaps faithfully (BITOP, BITFIELD, binary-safe BITCOUNT/GET are required)',
      );
    }
    if (hyperloglog && !features.has('hyperloglog')) {
      throw new UnsupportedError(
        'this Redis server or emulator does not support HyperLogLog (PFADD, PFCOUNT)',
      );
    }
  }

  /** The one group all `keys` share, or null when they span groups on a cluster. */
  #commonGroup(keys: readonly string[]): string | null {
    const first = localityGroup(keys[0]!);
    if (!this.#cluster) return first;
    return keys.every((key) => localityGroup(key) === first) ? first : null;
  }

  #readOne(op: ReadOp, batch: Batch, second: Batch, expressions: ExpressionQueue): Promise<unknown> {
    const p = (key: string) => this.#layout.physical(key);
    switch (op.op) {
      case 'getBit': {
        const chunk = Math.floor(op.offset / REDIS_CHUNK_BITS);
        return batch
          .script<number>(
            localityGroup(op.key),
            GETBIT,
            [p(op.key)],
            [chunk, op.offset - chunk * REDIS_CHUNK_BITS],
          )
          .then((bit) => bit === 1);
      }
      case 'bitCount':
      case 'bitmap':
        return this.#readExpr(op.expr, op.op === 'bitCount' ? 'count' : 'bytes', batch, expressions);
      case 'hashGetAll':
        return batch.script<string[]>(localityGroup(op.key), HGETALL, [p(op.key)], []).then((flat) => {
          const map = new Map<string, number>();
          for (let i = 0; i < flat.length; i += 2) map.set(flat[i]!, Number(flat[i + 1]));
          return map;
        });
      case 'hashGet':
        return batch
          .call<string | null>(localityGroup(op.key), 'HGET', [p(op.key), op.field])
          .then((v) => (v === null ? 0 : Number(v)));
      case 'setHas':
        return batch
          .call<number>(localityGroup(op.key), 'SISMEMBER', [p(op.key), op.member])
          .then((v) => v === 1);
      case 'get':
        // Emulators may hand back numbers for values a script stored.
        return batch
          .call<string | number | null>(localityGroup(op.key), 'GET', [p(op.key)])
          .then((v) => (v === null ? null : String(v)));
      case 'exists':
        return batch.call<number>(localityGroup(op.key), 'EXISTS', [p(op.key)]).then((v) => v === 1);
      case 'ttl':
        return batch.call<number>(localityGroup(op.key), 'PTTL', [p(op.key)]).then((v) => (v < 0 ? null : v));
      case 'setCardinality':
      case 'setMembers': {
        const group = this.#commonGroup(op.keys);
        const keys = op.keys.map(p);
        if (group !== null) {
          if (op.op === 'setCardinality') return batch.script<number>(group, UNIONCARD, keys, []);
          return batch.call<string[]>(group, 'SUNION', keys).then((m) => m.sort());
        }
        return settleAll(
          op.keys.map((key) => batch.call<string[]>(localityGroup(key), 'SMEMBERS', [p(key)])),
        ).then((lists) => {
          const union = new Set(lists.flat());
          return op.op === 'setCardinality' ? union.size : [...union].sort();
        });
      }
      case 'hllCount': {
        const group = this.#commonGroup(op.keys);
        if (group !== null) return batch.call<number>(group, 'PFCOUNT', op.keys.map(p));
        return this.#hllCountAcrossSlots(op.keys, batch, second);
      }
    }
  }

  #sendExpressions(expressions: ExpressionQueue, batch: Batch): void {
    for (const { group, mode, items } of expressions.values()) {
      const leaves: string[] = [];
      const programs = items.map((item) => compile(item.expr, leaves));
      const args: Arg[] = [mode, this.#layout.temporary(group), programs.length];
      for (const program of programs) args.push(program.length, ...program);
      batch
        .script<unknown[]>(
          group,
          BITQUERY,
          leaves.map((k) => this.#layout.physical(k)),
          args,
          mode === 'bytes',
        )
        .then(
          (results) => {
            items.forEach((item, i) => {
              item.resolve(mode === 'count' ? Number(results[i]) : decodeChunks(results[i]));
            });
          },
          (error: unknown) => {
            for (const item of items) item.reject(error);
          },
        );
    }
  }

  /** Merge HyperLogLogs from several slots: copy each into one slot (DUMP/RESTORE), then PFCOUNT. */
  async #hllCountAcrossSlots(keys: readonly string[], batch: Batch, second: Batch): Promise<number> {
    const dumps = await settleAll(
      keys.map((key) =>
        batch.call<Buffer | null>(localityGroup(key), 'DUMP', [this.#layout.physical(key)], true),
      ),
    );
    const group = localityGroup(keys[0]!);
    const base = this.#layout.temporary(group);
    const temps: string[] = [];
    const restores: Promise<unknown>[] = [];
    dumps.forEach((dump, i) => {
      if (dump === null) return;
      const temp = `${base}${i}`;
      temps.push(temp);
      restores.push(second.call(group, 'RESTORE', [temp, 60_000, dump, 'REPLACE']));
    });
    if (temps.length === 0) return 0;
    const count = second.call<number>(group, 'PFCOUNT', temps);
    const cleanup = second.call(group, 'DEL', temps);
    const settled = settleAll<unknown>([...restores, count, cleanup]);
    await second.flush();
    return (await settled)[restores.length] as number;
  }

  #readExpr(
    expr: BitExpr,
    mode: 'count' | 'bytes',
    batch: Batch,
    expressions: ExpressionQueue,
  ): Promise<unknown> {
    const keys = [...new Set(exprKeys(expr))];
    const group = this.#commonGroup(keys);
    if (group !== null) {
      // Queued: every expression of this read that can run in one place goes in one script call.
      return new Promise((resolve, reject) => {
        const slot = `${mode}|${this.#cluster ? group : ''}`;
        let entry = expressions.get(slot);
        if (!entry) expressions.set(slot, (entry = { group, mode, items: [] }));
        entry.items.push({ expr, resolve, reject });
      });
    }
    // Leaves in several cluster slots: fetch each bitmap and evaluate here, exactly.
    return settleAll(
      keys.map((key) => batch.script(localityGroup(key), CHUNKS, [this.#layout.physical(key)], [], true)),
    ).then((replies) => {
      const bitmaps = new Map(keys.map((key, i) => [key, decodeChunks(replies[i])]));
      const resolve = (key: string) => bitmaps.get(key);
      return mode === 'count' ? Bitmap.count(expr, resolve) : Bitmap.evaluate(expr, resolve);
    });
  }

  #writeOne(op: WriteOp, batch: Batch, pending: Promise<unknown>[]): void {
    const p = (key: string) => this.#layout.physical(key);
    const group = (key: string) => localityGroup(key);
    switch (op.op) {
      case 'setBits': {
        if (op.offsets.length === 0) return;
        if (op.value === false) {
          const { sparse } = encodeBits(op.offsets, true);
          pending.push(batch.script(group(op.key), CLEARBITS, [p(op.key)], sparse));
          return;
        }
        // Chunks with many bits in this batch are packed here and ORed in whole; the others go
        // as packed offsets, all of one bitmap in one script call.
        const { dense, sparse } = encodeBits(op.offsets);
        if (dense.length > 0) pending.push(batch.script(group(op.key), ORCHUNKS, [p(op.key)], dense));
        if (sparse.length > 0) pending.push(batch.script(group(op.key), SETBITS, [p(op.key)], sparse));
        return;
      }
      case 'increment':
        for (const [field, by] of op.increments) {
          pending.push(batch.call(group(op.key), 'HINCRBY', [p(op.key), field, by]));
        }
        return;
      case 'setAdd':
      case 'setRemove':
      case 'hllAdd':
        if (op.members.length === 0) return;
        pending.push(
          batch.call(group(op.key), op.op === 'setAdd' ? 'SADD' : op.op === 'setRemove' ? 'SREM' : 'PFADD', [
            p(op.key),
            ...op.members,
          ]),
        );
        return;
      case 'set':
        pending.push(batch.script(group(op.key), SETVALUE, [p(op.key)], [op.value]));
        return;
      case 'max':
        pending.push(batch.script(group(op.key), MAX, [p(op.key)], [op.value]));
        return;
      case 'storeCardinality': {
        const keys = [op.key, ...op.sources];
        if (this.#commonGroup(keys) === null) {
          throw new InvalidArgumentError(
            'sources',
            op.sources,
            'on a Redis Cluster, storeCardinality needs the destination and sources in one locality group (last key segment)',
          );
        }
        pending.push(batch.script(group(op.key), STORECARD, keys.map(p), [op.kind]));
        return;
      }
      case 'delete':
        for (const key of op.keys) pending.push(batch.script(group(key), DEL, [p(key)], []));
        return;
      case 'expire':
        pending.push(batch.script(group(op.key), EXPIRE, [p(op.key)], [op.seconds * 1000]));
        return;
    }
  }

  async #writeAtomic(ops: readonly WriteOp[], guard: string | undefined): Promise<boolean> {
    const keys: string[] = [];
    const indexOf = (key: string) => {
      let i = keys.indexOf(key);
      if (i < 0) i = keys.push(key) - 1;
      return i + 1;
    };
    const args: Arg[] = [guard === undefined ? 0 : indexOf(guard)];
    const push = (name: string, key: number, list: Arg[]) => args.push(name, key, list.length, ...list);
    for (const op of ops) {
      switch (op.op) {
        case 'setBits': {
          push('setbits', indexOf(op.key), [
            op.value === false ? 0 : 1,
            ...encodeBits(op.offsets, true).sparse,
          ]);
          break;
        }
        case 'increment':
          push('hincr', indexOf(op.key), op.increments.flat());
          break;
        case 'setAdd':
        case 'setRemove':
        case 'hllAdd':
          if (op.members.length > 0) {
            push(op.op === 'setAdd' ? 'sadd' : op.op === 'setRemove' ? 'srem' : 'pfadd', indexOf(op.key), [
              ...op.members,
            ]);
          }
          break;
        case 'set':
          push('set', indexOf(op.key), [op.value]);
          break;
        case 'max':
          push('max', indexOf(op.key), [op.value]);
          break;
        case 'storeCardinality':
          push('storecard', indexOf(op.key), [op.kind, ...op.sources.map(indexOf)]);
          break;
        case 'delete':
          push('del', 0, op.keys.map(indexOf));
          break;
        case 'expire':
          push('expire', indexOf(op.key), [op.seconds * 1000]);
          break;
      }
    }
    if (keys.length === 0) return true;
    const group = this.#commonGroup(keys);
    if (group === null) {
      throw new InvalidArgumentError(
        'ops',
        keys,
        'on a Redis Cluster an atomic write must keep every key in one locality group (last key segment)',
      );
    }
    const batch = new Batch(this.#client, this.#cluster);
    const reply = batch.script<number>(
      group,
      ATOMIC,
      keys.map((k) => this.#layout.physical(k)),
      args,
    );
    const applied = reply.then((value) => value === 1);
    applied.catch(() => {
      // Observed below; this only keeps a failure from being reported as unhandled meanwhile.
    });
    await batch.flush();
    return applied;
  }
}
