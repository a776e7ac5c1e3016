/**
 * Id dictionaries on Redis: every per-shard step of ../dictionary.ts is one call of
 * lua/dictionary.lua in the shard's slot, so assignment is atomic per shard and a cluster
 * spreads a dictionary's shards over its nodes.
 *
 * Unlike writes, the steps of one `run` never depend on each other (distinct ids, or link
 * steps sent one at a time), so a round may hold several calls of one shard: a call that
 * meets NOSCRIPT and is sent again after a later one changes only which id gets which of the
 * shard's next integers. Rounds are bounded, so a huge batch never builds one huge pipeline.
 */
import {
  type DictionaryConfig,
  type DictionaryStore,
  dictionaryKeys,
  type ShardStep,
  shardGroup,
} from '../dictionary.js';
import type { PorpoiseError } from '../errors.js';
import { type Arg, type Connection, type ScriptCall, script } from './connection.js';
import type { KeyLayout } from './layout.js';
import { DICTIONARY } from './lua/scripts.js';

const DICTIONARY_SCRIPT = script(DICTIONARY);
/** Calls per round trip. */
const ROUND_CALLS = 128;

function text(value: unknown): string | null {
  if (value === null || value === undefined || value === false) return null;
  return Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
}

function integer(value: unknown): number | null {
  if (value === null || value === undefined || value === false) return null;
  return Number(Buffer.isBuffer(value) ? value.toString('latin1') : value);
}

export class RedisDictionaries implements DictionaryStore {
  readonly #connection: Connection;
  readonly #layout: KeyLayout;
  /** Parameters never change once a dictionary exists: learnt once per backend. */
  readonly #configs = new Map<string, Promise<DictionaryConfig>>();

  constructor(connection: Connection, layout: KeyLayout) {
    this.#connection = connection;
    this.#layout = layout;
  }

  config(name: string, wanted: DictionaryConfig): Promise<DictionaryConfig> {
    let config = this.#configs.get(name);
    if (config === undefined) {
      config = this.#connection
        .call({
          group: name,
          script: DICTIONARY_SCRIPT,
          keys: [this.#layout.physical(dictionaryKeys.config(name))],
          args: ['config', String(wanted.shards), String(wanted.buckets), '0', '', ''],
          buffer: false,
        })
        .then((reply) => {
          const [shards, buckets] = reply as [unknown, unknown];
          return { shards: integer(shards)!, buckets: integer(buckets)! };
        });
      this.#configs.set(name, config);
      // Failures are not remembered: the next call asks again.
      config.catch(() => this.#configs.delete(name));
    }
    return config;
  }

  async run(name: string, config: DictionaryConfig, steps: readonly ShardStep[]): Promise<unknown[]> {
    const calls = steps.map((step) => this.#call(name, config, step));
    const out: unknown[] = new Array(steps.length);
    let failure: PorpoiseError | undefined;
    for (let start = 0; start < calls.length; start += ROUND_CALLS) {
      const settled = await this.#connection.round(calls.slice(start, start + ROUND_CALLS));
      settled.forEach((result, i) => {
        if (!result.ok) failure ??= result.error;
        else out[start + i] = this.#decode(steps[start + i]!, result.value);
      });
      if (failure) throw failure;
    }
    return out;
  }

  #call(name: string, config: DictionaryConfig, step: ShardStep): ScriptCall {
    const group = shardGroup(name, step.shard);
    // Numbers go as decimal strings: ioredis would send the same, and emulators' Lua bridges
    // hand JavaScript numbers to scripts as objects.
    const args: Arg[] = [
      step.op,
      String(config.shards),
      String(config.buckets),
      String(step.shard),
      `${this.#layout.prefix}:dict:${name}:`,
      `:{${group}}`,
    ];
    switch (step.op) {
      case 'resolve':
        args.push(step.assign ? '1' : '0');
        for (const [bucket, id] of step.entries) args.push(String(bucket), id);
        break;
      case 'lookup':
        for (const local of step.locals) args.push(String(local));
        break;
      case 'rename':
        args.push(String(step.local), step.from, step.to);
        break;
      default:
        args.push(String(step.bucket), step.id, String(step.value));
    }
    return {
      group,
      script: DICTIONARY_SCRIPT,
      keys: [this.#layout.physical(dictionaryKeys.state(name, step.shard))],
      args,
      buffer: false,
    };
  }

  #decode(step: ShardStep, value: unknown): unknown {
    switch (step.op) {
      case 'resolve':
        return (value as unknown[]).map(integer);
      case 'lookup':
        return (value as unknown[]).map(text);
      case 'rename':
        return Number(value) === 1;
      case 'point':
        return null;
      default:
        return integer(value);
    }
  }
}
