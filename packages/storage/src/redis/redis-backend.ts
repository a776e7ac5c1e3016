/**
 * The Redis backend, on a user-supplied ioredis client (standalone or Cluster).
 *
 * Every operation runs inside one of two Lua scripts (lua/read.lua, lua/write.lua): a read or
 * write becomes one script call per locality group per round (on a standalone server, one
 * call in all for most batches), so the operations of a group keep their order and see one
 * snapshot, whatever the server's script cache holds. Calls are sized so that none holds the
 * server for long: large writes are split into several calls, and reads stop when their work
 * budget runs out and continue in the next round.
 */
import { createRequire } from 'node:module';
import type { RedisOptions } from 'ioredis';
import type { Backend, BitExpr, Feature, ReadOp, ReadResults, WriteOp, WriteOptions } from '../backend.js';
import { Bitmap } from '../bitmap.js';
import { linkIdsWith, lookupIdsWith, resolveIdsWith } from '../dictionary.js';
import { BackendError, InvalidArgumentError, type PorpoiseError, UnsupportedError } from '../errors.js';
import { encodeKeySegment, localityGroup } from '../keys.js';
import { noteKeys } from '../telemetry.js';
import { exprKeys, validateReadOps, validateWriteOps } from '../validate.js';
import { REDIS_CHUNK_BITS } from './chunks.js';
import {
  type Client,
  type Connection,
  connect,
  type NodeRedisLike,
  type ScriptCall,
  script,
} from './connection.js';
import { RedisDictionaries } from './dictionary.js';
import { KeyLayout } from './layout.js';
import { WRITE } from './lua/scripts.js';
import { ReadScheduler, text } from './read-plan.js';
import { ExpressionTask, HashTask, SetUnionTask, SimpleTask } from './read-tasks.js';
import { evictionProblem, parseServerFacts, type ServerFacts } from './server.js';
import { WritePlan } from './write-plan.js';

export interface RedisBackendOptions {
  /** Namespace for every key this backend writes: 1-64 characters of [A-Za-z0-9_.-]. Default 'porpoise'. */
  prefix?: string;
  /**
   * Milliseconds one round trip may take before its promises reject with a TIMEOUT error
   * (a write's outcome is then unknown: retry it with the same idempotencyKey). Default 10,000.
   */
  timeoutMs?: number;
  /**
   * Under a maxmemory-policy of `allkeys-*`, Redis may evict single keys of a chunked bitmap,
   * so bitmap writes are refused with a CONFIG_ERROR. `true` accepts the risk: one warning
   * instead (and reads report DATA_LOSS where a chunk is found missing).
   */
  allowEviction?: boolean;
  /**
   * Server milliseconds one read call may work before it stops and the rest is sent in
   * another call, so other clients are served in between. Default 20.
   */
  scriptBudgetMs?: number;
}

/** What fromUrl adds: which client library to create, and options for it. */
export interface RedisUrlOptions extends RedisBackendOptions {
  /** The client library to create the client with. Default 'ioredis'. */
  client?: 'ioredis' | 'node-redis';
  /** Options passed to the client: ioredis `RedisOptions`, or node-redis `createClient` options. */
  redis?: RedisOptions | Record<string, unknown>;
}

const WRITE_SCRIPT = script(WRITE);
// Deleting and expiring free memory: they must work on a full server.
const WRITE_ALLOW_OOM = script(WRITE.replace(/^#!lua\n/, '#!lua flags=allow-oom\n'));

/** Leaves one server-side expression may have; wider ones are split and combined here. */
const LEAF_LIMIT = 128;
/** Reply bytes per read call. */
const REPLY_BYTES = 8 * 2 ** 20;
/** Default time to live of idempotency markers. */
const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;

const BITMAP_READS = new Set(['getBit', 'bitCount', 'bitmap']);

interface Facts {
  readonly generation: number;
  readonly features: ReadonlySet<Feature>;
  readonly server: ServerFacts | null;
}

/** Settle every promise; reject with the first failure once all are done. */
async function settleAll<T>(promises: Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(promises);
  const failure = results.find((r) => r.status === 'rejected');
  if (failure) throw (failure as PromiseRejectedResult).reason;
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}

/** Postfix program of an expression over its distinct leaves (1-based leaf indices). */
function compile(expr: BitExpr, leaves: string[], out: Array<string | number> = []): Array<string | number> {
  switch (expr.op) {
    case 'key': {
      let index = leaves.indexOf(expr.key);
      if (index < 0) index = leaves.push(expr.key) - 1;
      out.push('k', index + 1);
      return out;
    }
    case 'not':
      compile(expr.args[0], leaves, out);
      out.push('not', expr.bits);
      return out;
    case 'andnot':
      compile(expr.args[0], leaves, out);
      compile(expr.args[1], leaves, out);
      out.push('andnot');
      return out;
    default:
      for (const arg of expr.args) compile(arg, leaves, out);
      out.push(expr.op, expr.args.length);
      return out;
  }
}

function validateOptions(options: unknown): asserts options is RedisBackendOptions {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError('options', options, 'must be an options object');
  }
  const o = options as RedisBackendOptions;
  const positive = (name: string, value: unknown, max: number) => {
    if (
      value !== undefined &&
      (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max)
    ) {
      throw new InvalidArgumentError(name, value, `must be an integer in [1, ${max}]`);
    }
  };
  positive('timeoutMs', o.timeoutMs, 600_000);
  positive('scriptBudgetMs', o.scriptBudgetMs, 1_000);
  if (o.allowEviction !== undefined && typeof o.allowEviction !== 'boolean') {
    throw new InvalidArgumentError('allowEviction', o.allowEviction, 'must be a boolean');
  }
}

export class RedisBackend implements Backend {
  readonly name = 'redis';
  readonly #connection: Connection;
  readonly #layout: KeyLayout;
  readonly #options: RedisBackendOptions;
  #facts: Promise<Facts> | undefined;
  #factsGeneration = -1;
  #warnedEviction = false;
  #closed = false;

  /**
   * @param client an ioredis `Redis` or `Cluster`, or a connected node-redis client
   *   (`createClient()`) or cluster (`createCluster()`): the one you already use. It stays
   *   yours: `close()` does not end it.
   */
  constructor(
    client: Client,
    options: RedisBackendOptions = {},
    owned: boolean | { owned: true; ready: Promise<unknown> } = false,
  ) {
    validateOptions(options);
    const ready = typeof owned === 'object' ? owned.ready : undefined;
    this.#connection = connect(client, {
      timeoutMs: options.timeoutMs ?? 10_000,
      owned: owned !== false,
      ready,
    });
    this.#layout = new KeyLayout(options.prefix);
    this.#options = options;
  }

  /**
   * A backend that owns its client (closed by `close()`). The client fails fast instead of
   * queueing forever: a 5 s connect timeout, one retry per command, and the backend's own
   * round-trip timeout (default 10 s), so a down or stopped server rejects with a typed
   * CONNECTION_ERROR or TIMEOUT within seconds.
   */
  static fromUrl(url: string, options: RedisUrlOptions = {}): RedisBackend {
    if (typeof url !== 'string' || !/^rediss?:\/\//.test(url)) {
      throw new InvalidArgumentError('url', url, 'must be a redis:// or rediss:// URL');
    }
    const { redis, client: library = 'ioredis', ...backendOptions } = options;
    validateOptions(backendOptions);
    if (library !== 'ioredis' && library !== 'node-redis') {
      throw new InvalidArgumentError('client', library, 'must be "ioredis" or "node-redis"');
    }
    // Both clients are optional peers: only the one asked for must be installed.
    const require = createRequire(import.meta.url);
    const load = <T>(name: string): T => {
      try {
        return require(name) as T;
      } catch (error) {
        throw new UnsupportedError(
          `RedisBackend.fromUrl with client "${library}" needs the ${name} package: npm install ${name}`,
          {
            cause: error,
          },
        );
      }
    };
    if (library === 'node-redis') {
      const { createClient } = load<{
        createClient(
          options: object,
        ): NodeRedisLike & { connect(): Promise<unknown>; on(e: string, f: () => void): void };
      }>('redis');
      const client = createClient({
        url,
        ...(redis as object | undefined),
        socket: {
          connectTimeout: 5_000,
          reconnectStrategy: (retries: number) =>
            retries > 20 ? new Error('gave up reconnecting') : Math.min(retries * 100, 1_000),
          ...((redis as { socket?: object } | undefined)?.socket ?? {}),
        },
      });
      // Failures reach callers as rejected promises (the connection keeps the last one for messages).
      client.on('error', () => {});
      const ready = client.connect();
      ready.catch(() => {});
      return new RedisBackend(client, backendOptions, { owned: true, ready });
    }
    const { Redis: RedisClient } = load<typeof import('ioredis')>('ioredis');
    const client = new RedisClient(url, {
      maxRetriesPerRequest: 1,
      connectTimeout: 5_000,
      retryStrategy: (times) => (times > 20 ? null : Math.min(times * 100, 1_000)),
      // close() must let the process exit at once, also when the server is gone.
      disconnectTimeout: 100,
      ...(redis as RedisOptions | undefined),
    });
    return new RedisBackend(client, backendOptions, true);
  }

  get prefix(): string {
    return this.#layout.prefix;
  }

  async supports(feature: Feature): Promise<boolean> {
    this.#assertOpen();
    return (await this.#serverFacts()).features.has(feature);
  }

  async read<const T extends readonly ReadOp[]>(ops: T): Promise<ReadResults<T>> {
    this.#assertOpen();
    validateReadOps(ops);
    noteKeys(ops);
    await this.#ready(
      ops.some((op) => BITMAP_READS.has(op.op)),
      ops.some((op) => op.op === 'hllCount'),
      false,
    );
    const scheduler = new ReadScheduler(this.#connection, this.#layout, {
      workMs: this.#options.scriptBudgetMs ?? 20,
      replyBytes: REPLY_BYTES,
    });
    const pending = ops.map((op) => this.#readOne(op, scheduler));
    const results = settleAll(pending);
    // Observed below, once every round is done; until then a failure is not "unhandled".
    results.catch(() => {});
    await scheduler.run();
    return (await results) as ReadResults<T>;
  }

  async write(ops: readonly WriteOp[], options: WriteOptions = {}): Promise<boolean> {
    this.#assertOpen();
    validateWriteOps(ops, options);
    noteKeys(ops);
    const bitmapKeys = new Set<string>();
    for (const op of ops)
      if (op.op === 'setBits' && op.value !== false && op.offsets.length > 0) bitmapKeys.add(op.key);
    await this.#ready(
      ops.some((op) => op.op === 'setBits'),
      ops.some((op) => op.op === 'hllAdd' || (op.op === 'storeCardinality' && op.kind === 'hll')),
      bitmapKeys.size > 0,
      ops.some((op) => op.op === 'expire' && bitmapKeys.has(op.key)),
    );
    const atomic = options.atomic === true;
    const cluster = this.#connection.cluster;
    if (cluster) this.#checkGroups(ops, options);
    const plan = new WritePlan(this.#layout, cluster, atomic, this.#connection.emulator ? 4_000 : undefined);
    for (const op of ops) plan.add(op);
    const rounds = plan.rounds();
    const freeing = ops.every((op) => op.op === 'delete' || op.op === 'expire');
    const idempotent = options.idempotencyKey !== undefined;
    const ttl = (options.idempotencyTtl ?? IDEMPOTENCY_TTL_SECONDS) * 1000;
    let problem: string | undefined;
    for (let r = 0; r < rounds.length; r++) {
      const calls: ScriptCall[] = rounds[r]!.map((call) => {
        const keys = [...call.keys];
        let guard = 0;
        if (options.unlessExists !== undefined)
          guard = keys.push(this.#layout.physical(options.unlessExists));
        let marker = 0;
        if (idempotent) {
          marker = keys.push(
            `${this.#layout.prefix}:idem:{${call.group}}:${encodeKeySegment(options.idempotencyKey!)}:${r}`,
          );
        }
        return {
          group: call.group,
          script: freeing ? WRITE_ALLOW_OOM : WRITE_SCRIPT,
          keys,
          args: [atomic || idempotent ? 'atomic' : 'ops', guard, marker, ttl, ...call.ops],
          buffer: false,
        };
      });
      const settled = await this.#connection.round(calls);
      let failure: PorpoiseError | undefined;
      let skipped = false;
      for (const result of settled) {
        if (!result.ok) {
          failure ??= result.error;
          continue;
        }
        const [status, reason] = result.value as [number, string];
        if (status === 0) skipped = true;
        if (reason) problem ??= reason;
      }
      // A call that failed stops the write: nothing after it in its group is sent, so what
      // was applied is a prefix of each group's operations (an idempotent retry applies the rest).
      if (failure) throw failure;
      if (skipped) return false;
    }
    if (problem !== undefined) throw this.#connection.error(new Error(problem));
    return true;
  }

  // Id dictionaries: see ./dictionary.ts. Refused like bitmap writes under allkeys-* eviction.
  #dictionaries: RedisDictionaries | undefined;
  async #dictionary(): Promise<RedisDictionaries> {
    this.#assertOpen();
    await this.#ready(false, false, true);
    return (this.#dictionaries ??= new RedisDictionaries(this.#connection, this.#layout));
  }
  resolveIds: Required<Backend>['resolveIds'] = async (d, ids, o) =>
    resolveIdsWith(await this.#dictionary(), d, ids, o);
  lookupIds: Required<Backend>['lookupIds'] = async (d, ints, o) =>
    lookupIdsWith(await this.#dictionary(), d, ints, o);
  linkIds: Required<Backend>['linkIds'] = async (d, from, to, o) =>
    linkIdsWith(await this.#dictionary(), d, from, to, o);

  async keys(): Promise<string[]> {
    this.#assertOpen();
    const found = new Set<string>();
    for (const physical of await this.#connection.scan(this.#layout.pattern)) {
      const logical = this.#layout.logical(physical);
      if (logical !== null) found.add(logical);
    }
    return [...found].sort();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#connection.close();
  }

  #assertOpen(): void {
    if (this.#closed) throw new BackendError('the Redis backend is closed');
  }

  /**
   * What the server is and can do, learnt once per connection (again after a reconnect: a
   * failover may have brought another server). Failures are not remembered.
   */
  #serverFacts(): Promise<Facts> {
    const generation = this.#connection.generation;
    if (this.#facts === undefined || this.#factsGeneration !== generation) {
      this.#factsGeneration = generation;
      const facts = this.#learnFacts(generation);
      this.#facts = facts;
      facts.catch(() => {
        if (this.#facts === facts) this.#facts = undefined;
      });
    }
    return this.#facts;
  }

  async #learnFacts(generation: number): Promise<Facts> {
    if (this.#connection.emulator) {
      return {
        generation,
        features: await this.#connection.probeEmulator(this.#layout.prefix),
        server: null,
      };
    }
    const server = parseServerFacts(await this.#connection.info(), this.#connection.where);
    await this.#checkDatabase();
    return { generation, features: new Set<Feature>(['bitmaps', 'hyperloglog']), server };
  }

  /** A database index the server cannot select would otherwise send every command to db 0. */
  async #checkDatabase(): Promise<void> {
    let db: { wanted: number; actual: number } | null;
    try {
      db = await this.#connection.database();
    } catch (error) {
      throw this.#connection.error(error);
    }
    if (db !== null && db.actual !== db.wanted) {
      throw new BackendError(
        `Redis at ${this.#connection.where} could not select database ${db.wanted} (the connection is on database ${db.actual}; check the server's "databases" setting)`,
        { code: 'CONNECTION_ERROR' },
      );
    }
  }

  async #ready(
    bitmaps: boolean,
    hyperloglog: boolean,
    bitmapWrite: boolean,
    expiring = false,
  ): Promise<void> {
    const facts = await this.#serverFacts();
    if (bitmaps && !facts.features.has('bitmaps')) {
      throw new UnsupportedError(
        'this Redis server or emulator does not support bitmaps faithfully (BITOP, BITFIELD, binary-safe BITCOUNT/GET are required)',
      );
    }
    if (hyperloglog && !facts.features.has('hyperloglog')) {
      throw new UnsupportedError(
        'this Redis server or emulator does not support HyperLogLog (PFADD, PFCOUNT)',
      );
    }
    if (bitmapWrite && facts.server) {
      const problem = evictionProblem(facts.server, this.#connection.where, expiring);
      if (problem) {
        if (!this.#options.allowEviction) throw problem;
        if (!this.#warnedEviction) {
          this.#warnedEviction = true;
          process.emitWarning(
            `${problem.message.replace(/, or pass allowEviction: true to accept the risk\.$/, '.')} (allowEviction: true: writing anyway)`,
            { code: 'PORPOISE_EVICTION' },
          );
        }
      }
    }
  }

  /** On a cluster, keys combined in one step must share a slot: refuse before sending. */
  #checkGroups(ops: readonly WriteOp[], options: WriteOptions): void {
    if (options.atomic) {
      const keys: string[] = [];
      for (const op of ops) {
        if (op.op === 'delete') keys.push(...op.keys);
        else if (op.op === 'storeCardinality') keys.push(op.key, ...op.sources);
        else if (op.op === 'setBits' || op.op === 'setAdd' || op.op === 'setRemove' || op.op === 'hllAdd') {
          if ((op.op === 'setBits' ? op.offsets.length : op.members.length) > 0) keys.push(op.key);
        } else if (op.op === 'increment') {
          if (op.increments.length > 0) keys.push(op.key);
        } else keys.push(op.key);
      }
      if (options.unlessExists !== undefined && keys.length > 0) keys.push(options.unlessExists);
      if (keys.length > 0 && this.#commonGroup(keys) === null) {
        throw new InvalidArgumentError(
          'ops',
          keys,
          'on a Redis Cluster an atomic write must keep every key in one locality group (last key segment)',
        );
      }
    }
    for (const op of ops) {
      if (op.op === 'storeCardinality' && this.#commonGroup([op.key, ...op.sources]) === null) {
        throw new InvalidArgumentError(
          'sources',
          op.sources,
          'on a Redis Cluster, storeCardinality needs the destination and sources in one locality group (last key segment)',
        );
      }
    }
  }

  /** The one group all `keys` share, or null when they span groups on a cluster. */
  #commonGroup(keys: readonly string[]): string | null {
    const first = localityGroup(keys[0]!);
    if (!this.#connection.cluster) return first;
    return keys.every((key) => localityGroup(key) === first) ? first : null;
  }

  #readOne(op: ReadOp, scheduler: ReadScheduler): Promise<unknown> {
    const p = (key: string) => this.#layout.physical(key);
    const simple = <T>(
      key: string,
      name: string,
      args: (k: (i: number) => number) => unknown[],
      map: (v: unknown) => T,
    ) => {
      const task = new SimpleTask(localityGroup(key), [p(key)], name, args as never, map);
      scheduler.add(task);
      return task.promise;
    };
    switch (op.op) {
      case 'getBit': {
        const chunk = Math.floor(op.offset / REDIS_CHUNK_BITS);
        return simple(
          op.key,
          'gb',
          (k) => [k(0), chunk, op.offset - chunk * REDIS_CHUNK_BITS],
          (v) => Number(v) === 1,
        );
      }
      case 'bitCount':
      case 'bitmap':
        return this.#readExpr(op.expr, op.op === 'bitCount' ? 'count' : 'bytes', scheduler);
      case 'hashGetAll': {
        const task = new HashTask(localityGroup(op.key), p(op.key));
        scheduler.add(task);
        return task.promise;
      }
      case 'hashGet':
        return simple(
          op.key,
          'hg',
          (k) => [k(0), op.field],
          (v) => (v === null || v === false ? 0 : Number(text(v))),
        );
      case 'setHas':
        return simple(
          op.key,
          'sh',
          (k) => [k(0), op.member],
          (v) => Number(v) === 1,
        );
      case 'get':
        return simple(
          op.key,
          'get',
          (k) => [k(0)],
          (v) => (v === null || v === false ? null : text(v)),
        );
      case 'exists':
        return simple(
          op.key,
          'exi',
          (k) => [k(0)],
          (v) => Number(v) === 1,
        );
      case 'ttl':
        return simple(
          op.key,
          'ttl',
          (k) => [k(0)],
          (v) => (Number(v) < 0 ? null : Number(v)),
        );
      case 'setCardinality':
      case 'setMembers': {
        const mode = op.op === 'setCardinality' ? 'count' : 'members';
        const group = this.#commonGroup(op.keys);
        if (group !== null) {
          const task = new SetUnionTask(group, op.keys.map(p), mode);
          scheduler.add(task);
          return task.promise;
        }
        const parts = op.keys.map((key) => {
          const task = new SetUnionTask(localityGroup(key), [p(key)], 'members');
          scheduler.add(task);
          return task.promise as Promise<string[]>;
        });
        return settleAll(parts).then((lists) => {
          const union = new Set(lists.flat());
          return mode === 'count' ? union.size : [...union].sort();
        });
      }
      case 'hllCount': {
        const group = this.#commonGroup(op.keys);
        if (group !== null) {
          const keys = op.keys.map(p);
          const task = new SimpleTask(
            group,
            keys,
            'pc',
            (k) => keys.map((_, i) => k(i)),
            (v) => Number(v),
          );
          scheduler.add(task);
          return task.promise;
        }
        return this.#hllCountAcrossSlots(op.keys, scheduler);
      }
    }
  }

  /** Merge HyperLogLogs from several slots: copy each into one slot (DUMP/RESTORE), then count. */
  #hllCountAcrossSlots(keys: readonly string[], scheduler: ReadScheduler): Promise<number> {
    return new Promise((resolve, reject) => {
      const dumps: Array<Buffer | null> = new Array(keys.length).fill(null);
      let waiting = keys.length;
      let failed = false;
      // The merge is enqueued as the last dump arrives, inside the same round's answers, so
      // the scheduler sends it in the next round.
      const arrived = () => {
        if (--waiting > 0 || failed) return;
        const present = dumps.filter((dump): dump is Buffer => dump !== null);
        if (present.length === 0) {
          resolve(0);
          return;
        }
        const merge = new SimpleTask(
          localityGroup(keys[0]!),
          [],
          'hm',
          () => present,
          (v) => Number(v),
        );
        scheduler.add(merge);
        merge.promise.then(resolve, reject);
      };
      keys.forEach((key, i) => {
        const task = new SimpleTask(
          localityGroup(key),
          [this.#layout.physical(key)],
          'dump',
          (k) => [k(0)],
          (v) => {
            dumps[i] = v === null || v === false ? null : (v as Buffer);
            arrived();
            return dumps[i];
          },
        );
        task.promise.catch((error: unknown) => {
          failed = true;
          reject(error);
        });
        scheduler.add(task);
      });
    });
  }

  /**
   * An expression whose leaves share a group and are few enough runs where the data lives, in
   * one task. Otherwise (leaves in several cluster slots, or a union of thousands of buckets)
   * it is split into such pieces, each fetched as a bitmap, and finished here, exactly.
   */
  #readExpr(expr: BitExpr, mode: 'count' | 'bytes', scheduler: ReadScheduler): Promise<unknown> {
    const keys = [...new Set(exprKeys(expr))];
    const group = this.#commonGroup(keys);
    if (group !== null && keys.length <= LEAF_LIMIT) {
      return this.#expressionTask(group, expr, mode, scheduler);
    }
    const pieces: Array<Promise<Bitmap>> = [];
    const lowered = this.#lower(expr, pieces, scheduler);
    return settleAll(pieces).then((bitmaps) => {
      const resolve = (key: string) => bitmaps[Number(key.slice(1))];
      return mode === 'count' ? Bitmap.count(lowered, resolve) : Bitmap.evaluate(lowered, resolve);
    });
  }

  #expressionTask(group: string, expr: BitExpr, mode: 'count' | 'bytes', scheduler: ReadScheduler) {
    const leaves: string[] = [];
    const program = compile(expr, leaves);
    const task = new ExpressionTask(
      group,
      leaves.map((key) => this.#layout.physical(key)),
      program,
      mode,
    );
    scheduler.add(task);
    return task.promise;
  }

  /** `expr` with every server-side piece replaced by a placeholder key ('\0' + index). */
  #lower(expr: BitExpr, pieces: Array<Promise<Bitmap>>, scheduler: ReadScheduler): BitExpr {
    const fetch = (piece: BitExpr, group: string): BitExpr => {
      pieces.push(this.#expressionTask(group, piece, 'bytes', scheduler) as Promise<Bitmap>);
      return { op: 'key', key: `\u0000${pieces.length - 1}` };
    };
    const keys = [...new Set(exprKeys(expr))];
    const group = this.#commonGroup(keys);
    if (group !== null && keys.length <= LEAF_LIMIT) return fetch(expr, group);
    switch (expr.op) {
      case 'key':
        return fetch(expr, localityGroup(expr.key));
      case 'not':
        return { op: 'not', args: [this.#lower(expr.args[0], pieces, scheduler)], bits: expr.bits };
      case 'andnot':
        return {
          op: 'andnot',
          args: [this.#lower(expr.args[0], pieces, scheduler), this.#lower(expr.args[1], pieces, scheduler)],
        };
      default: {
        // and/or/xor are associative and commutative: operands of one group are gathered into
        // server-side pieces of at most LEAF_LIMIT leaves.
        const args: BitExpr[] = [];
        const open = new Map<string, { group: string; args: BitExpr[]; leaves: Set<string> }>();
        const close = (g: string) => {
          const batch = open.get(g);
          if (!batch) return;
          open.delete(g);
          args.push(
            fetch(batch.args.length === 1 ? batch.args[0]! : { op: expr.op, args: batch.args }, batch.group),
          );
        };
        for (const arg of expr.args) {
          const argKeys = [...new Set(exprKeys(arg))];
          const argGroup = this.#commonGroup(argKeys);
          if (argGroup === null || argKeys.length > LEAF_LIMIT) {
            args.push(this.#lower(arg, pieces, scheduler));
            continue;
          }
          const g = this.#connection.cluster ? argGroup : '';
          let batch = open.get(g);
          if (batch && batch.leaves.size + argKeys.length > LEAF_LIMIT) {
            close(g);
            batch = undefined;
          }
          if (!batch) open.set(g, (batch = { group: argGroup, args: [], leaves: new Set() }));
          batch.args.push(arg);
          for (const key of argKeys) batch.leaves.add(key);
        }
        for (const g of [...open.keys()]) close(g);
        return { op: expr.op, args } as BitExpr;
      }
    }
  }
}
