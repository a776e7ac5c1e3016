/**
 * String ids against a model that never sees an integer: random workloads of events,
 * unevents and links over a small pool of ids (so links meet ids with and without history,
 * and `7` and `'7'` meet as one id), compared after every run on every backend. The model
 * states the documented link semantics (identity README, "Linking an anonymous visitor").
 */
import { type ExternalId, Identities } from '@porpoise/identity';
import type { Backend } from '@porpoise/storage';
import { describeEachBackend } from '@porpoise/test-backends';
import { dayrange, hourrange } from '@porpoise/timerange';
import fc from 'fast-check';
import { beforeEach, expect, it } from 'vitest';
import { Events } from '../src/index.js';

const NOW = new Date('2026-11-24T12:30:00Z');
const HOURS = 6;
const at = (h: number) => new Date(Date.UTC(2026, 10, 24, h, 20));
const sharp = (h: number) => new Date(Date.UTC(2026, 10, 24, h));
const NAMES = ['login', 'play'] as const;
const POOL: readonly ExternalId[] = [
  '0b7e1c9a-2f4d-4c4e-9a51-3d2f8e6b7a10',
  'ada@example.com',
  'zoë',
  '🐬 visitor',
  7,
  '7',
  'anon-1',
  'anon-2',
];

type Command =
  | { op: 'event'; name: (typeof NAMES)[number]; id: ExternalId; hour: number }
  | { op: 'unevent'; name: (typeof NAMES)[number]; id: ExternalId; hour: number }
  | { op: 'link'; from: ExternalId; to: ExternalId };

const idArb = fc.constantFrom(...POOL);
const commandArb: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      op: fc.constant('event' as const),
      name: fc.constantFrom(...NAMES),
      id: idArb,
      hour: fc.integer({ min: 0, max: HOURS - 1 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('unevent' as const),
      name: fc.constantFrom(...NAMES),
      id: idArb,
      hour: fc.integer({ min: 0, max: HOURS - 1 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc
      .record({ op: fc.constant('link' as const), from: idArb, to: idArb })
      .filter((c) => String(c.from) !== String(c.to)),
  },
);

/** Entities are abstract: the model only knows which id each one is reported as. */
class Model {
  readonly #points = new Map<string, number>();
  readonly #owners = new Map<number, string>();
  readonly #bits = new Map<string, Set<number>>();
  #next = 0;

  #resolve(id: string): number {
    let entity = this.#points.get(id);
    if (entity === undefined) {
      entity = this.#next++;
      this.#points.set(id, entity);
      this.#owners.set(entity, id);
    }
    return entity;
  }

  #bucket(name: string, hour: number): Set<number> {
    const key = `${name}@${hour}`;
    let set = this.#bits.get(key);
    if (set === undefined) this.#bits.set(key, (set = new Set()));
    return set;
  }

  apply(command: Command): string | undefined {
    if (command.op === 'event') {
      this.#bucket(command.name, command.hour).add(this.#resolve(String(command.id)));
      return undefined;
    }
    if (command.op === 'unevent') {
      const entity = this.#points.get(String(command.id));
      if (entity !== undefined) this.#bucket(command.name, command.hour).delete(entity);
      return undefined;
    }
    const from = String(command.from);
    const to = String(command.to);
    const n = this.#resolve(from);
    const m = this.#points.get(to);
    if (m !== undefined) {
      if (m !== n) {
        this.#points.set(from, m);
        return 'redirected';
      }
      // Both on n: n is reported as the id linked to (this also completes an interrupted takeover).
      if (this.#owners.get(n) === from) this.#owners.set(n, to);
      return 'unchanged';
    }
    if (this.#owners.get(n) !== from) {
      this.#points.set(from, this.#resolve(to));
      return 'redirected';
    }
    this.#points.set(to, n);
    this.#owners.set(n, to);
    return 'took-over';
  }

  /** The ids a bucket lists, as lookups report them. */
  listed(name: string, hour: number): string[] {
    return [...this.#bucket(name, hour)].map((entity) => this.#owners.get(entity)!).sort();
  }

  both(): string[] {
    const out = new Set<string>();
    for (let h = 0; h < HOURS; h++) {
      const play = this.#bucket('play', h);
      for (const entity of this.#bucket('login', h)) if (play.has(entity)) out.add(this.#owners.get(entity)!);
    }
    return [...out].sort();
  }

  /** What `peek(id)` then `lookup` reports for an id: its owner's id, or null when never seen. */
  reported(id: ExternalId): string | null {
    const entity = this.#points.get(String(id));
    return entity === undefined ? null : this.#owners.get(entity)!;
  }
}

describeEachBackend((make) => {
  let backend: Backend;
  let runs = 0;
  beforeEach(() => {
    backend = make();
    return async () => {
      await backend.close();
    };
  });

  it('events, unevents and links of string ids answer as the model does', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(commandArb, { minLength: 1, maxLength: 30 }), async (commands) => {
        const run = runs++;
        // A cache of 0 in every other run: answers must not depend on what the process remembers.
        const identities = new Identities(backend, {
          prefix: `model${run}`,
          cacheSize: run % 2 === 0 ? 1_000 : 0,
        });
        const events = new Events(backend, { identities, prefix: `model${run}`, now: () => NOW });
        const model = new Model();
        for (const command of commands) {
          const expected = model.apply(command);
          if (command.op === 'event') await events.event(command.name, command.id, at(command.hour));
          else if (command.op === 'unevent') await events.unevent(command.name, command.id, at(command.hour));
          else expect((await identities.link(command.from, command.to)).outcome).toBe(expected);
        }
        for (const name of NAMES) {
          const range = hourrange(sharp(0), sharp(HOURS));
          const listed: string[][] = [];
          for await (const set of events.get(name).over(range)) listed.push([...set].map(String).sort());
          const wanted = Array.from({ length: HOURS }, (_, h) => model.listed(name, h));
          expect(listed).toEqual(wanted);
          const counts = (await events.get(name).counts(range)).map(({ count }) => count);
          expect(counts).toEqual(wanted.map((ids) => ids.length));
        }
        const both = await events
          .get('login')
          .and(events.get('play'))
          .over(hourrange(sharp(0), sharp(HOURS)));
        const union = new Set<string>();
        for await (const set of both) for (const id of set) union.add(String(id));
        expect([...union].sort()).toEqual(model.both());
        const day = await events.get('login').union(dayrange(sharp(0), new Date(Date.UTC(2026, 10, 25))));
        expect([...day].map(String).sort()).toEqual(
          [...new Set(Array.from({ length: HOURS }, (_, h) => model.listed('login', h)).flat())].sort(),
        );
        const ints = await identities.peek(POOL);
        const reported = await identities.lookup(ints.filter((n): n is number => n !== null));
        const reportedById = new Map<ExternalId, string | null>();
        let j = 0;
        for (const [i, n] of ints.entries()) reportedById.set(POOL[i]!, n === null ? null : reported[j++]!);
        expect(POOL.map((id) => reportedById.get(id))).toEqual(POOL.map((id) => model.reported(id)));
      }),
      { numRuns: 25 },
    );
  }, 120_000);
});
