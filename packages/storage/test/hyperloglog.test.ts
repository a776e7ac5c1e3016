import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HLL_REGISTERS, HyperLogLog, murmurHash64A, registerOf } from '../src/memory/hyperloglog.js';

// Every literal below was read from a real redis-server 7.0 (PFCOUNT; register values decoded
// from the HyperLogLog string GET returns), so these tests pin the memory backend to Redis.

/** MurmurHash64A written the obvious way, with BigInt, to check the 32-bit-halves version. */
function referenceMurmurHash64A(data: Uint8Array, seed: bigint): bigint {
  const m = 0xc6a4a7935bd1e995n;
  const mask = (1n << 64n) - 1n;
  let h = (seed ^ ((BigInt(data.length) * m) & mask)) & mask;
  const blocks = data.length - (data.length & 7);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (let i = 0; i < blocks; i += 8) {
    let k = view.getBigUint64(i, true);
    k = (k * m) & mask;
    k ^= k >> 47n;
    k = (k * m) & mask;
    h ^= k;
    h = (h * m) & mask;
  }
  if ((data.length & 7) > 0) {
    for (let i = (data.length & 7) - 1; i >= 0; i--) h ^= BigInt(data[blocks + i]!) << BigInt(8 * i);
    h = (h * m) & mask;
  }
  h ^= h >> 47n;
  h = (h * m) & mask;
  h ^= h >> 47n;
  return h;
}

const utf8 = (text: string) => new TextEncoder().encode(text);
const users = (from: number, count: number) => Array.from({ length: count }, (_, i) => `user-${from + i}`);

function sketchOf(members: Iterable<string>): HyperLogLog {
  const sketch = new HyperLogLog();
  for (const member of members) sketch.add(member);
  return sketch;
}

function withRegisters(value: (index: number) => number): HyperLogLog {
  return new HyperLogLog(new Uint8Array(HLL_REGISTERS).map((_, i) => value(i)));
}

describe('MurmurHash64A (seed 0xadc83b19)', () => {
  it('hashes the empty string, tails of 1 to 7 bytes and whole 8-byte blocks', () => {
    expect(murmurHash64A(new Uint8Array(0))).toBe(0xd8dfea6585bc9732n);
    expect(murmurHash64A(utf8('a'))).toBe(0x53d2470a9b43b1a7n);
    expect(murmurHash64A(utf8('hello'))).toBe(0x0f656f01eecfe400n);
    expect(murmurHash64A(utf8('exactly8'))).toBe(0x06d435297cb6004bn);
    expect(murmurHash64A(utf8('123456789012345'))).toBe(0xabc0149058e95233n);
  });

  it('agrees with a BigInt reference on random bytes of every length', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 40 }),
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        (data, seed) => {
          expect(murmurHash64A(data, seed)).toBe(referenceMurmurHash64A(data, BigInt(seed)));
        },
      ),
      { numRuns: 2_000 },
    );
  });
});

describe('registerOf: the register a member lands in and its rank', () => {
  it('matches the registers Redis sets, for ASCII and multi-byte UTF-8 members', () => {
    const expected: Array<[string, number, number]> = [
      ['a', 12_711, 2],
      ['b', 15_780, 1],
      ['c', 8_436, 1],
      ['hello', 9_216, 1],
      ['user-0', 9_961, 2],
      ['user@example.com', 2_503, 2],
      ['é', 13_353, 1],
      ['☃', 1_366, 1],
      ['😀', 4_429, 1],
      ['exactly8', 75, 4],
      ['123456789012345', 4_659, 1],
    ];
    for (const [member, index, rank] of expected)
      expect([member, registerOf(member)]).toEqual([member, { index, rank }]);
  });

  it('always gives a register below 16384 and a rank from 1 to 51', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 30 }), (member) => {
        const { index, rank } = registerOf(member);
        expect(index).toBeGreaterThanOrEqual(0);
        expect(index).toBeLessThan(16_384);
        expect(rank).toBeGreaterThanOrEqual(1);
        expect(rank).toBeLessThanOrEqual(51);
      }),
      { numRuns: 1_000 },
    );
  });
});

describe('HyperLogLog', () => {
  it('has 16384 one-byte registers and refuses any other size', () => {
    expect(new HyperLogLog().registers.length).toBe(16_384);
    expect(() => new HyperLogLog(new Uint8Array(100))).toThrow(RangeError);
  });

  it('counts an empty sketch as 0', () => {
    expect(new HyperLogLog().count()).toBe(0);
    expect(HyperLogLog.countUnion([])).toBe(0);
  });

  it('estimates exactly what Redis 7 answers for 1 to 100k members', () => {
    const estimates = [1, 2, 3, 5, 10, 50, 100, 300, 1_000, 2_000, 3_000, 5_000, 10_000, 20_000, 100_000].map(
      (n) => [n, sketchOf(users(0, n)).count()],
    );
    expect(estimates).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
      [5, 5],
      [10, 10],
      [50, 49],
      [100, 99],
      [300, 300],
      [1_000, 1_003],
      [2_000, 2_006],
      [3_000, 3_001],
      [5_000, 4_970],
      [10_000, 9_957],
      [20_000, 19_980],
      [100_000, 100_165],
    ]);
  });

  it('merges like PFCOUNT of several keys: the estimate of the register-wise maximum', () => {
    const first = sketchOf(users(0, 10_000));
    const second = sketchOf(users(5_000, 10_000));
    expect(HyperLogLog.countUnion([first, second])).toBe(14_907);
    expect(HyperLogLog.countUnion([first, first])).toBe(9_957);
    expect(HyperLogLog.countUnion([first])).toBe(9_957);
    expect(first.count()).toBe(9_957);
  });

  it('uses Redis’s estimator at the extremes of the register histogram', () => {
    expect(withRegisters(() => 1).count()).toBe(23_637);
    expect(withRegisters((i) => (i % 2 ? 1 : 0)).count()).toBe(10_360);
    expect(withRegisters((i) => (i % 1_000 === 0 ? 3 : 0)).count()).toBe(17);
    expect(withRegisters((i) => (i === 7 ? 51 : 0)).count()).toBe(1);
    expect(withRegisters(() => 20).count()).toBe(12_392_656_037);
    expect(withRegisters((i) => i % 52).count()).toBe(303_516);
    expect(withRegisters((i) => (i === 7 ? 0 : 51)).count()).toBe(193_623_433);
  });

  it('reports whether an add changed a register, as PFADD does', () => {
    const sketch = new HyperLogLog();
    expect(sketch.add('a')).toBe(true);
    expect(sketch.add('a')).toBe(false);
    expect(sketch.registers[12_711]).toBe(2);
  });

  it('recounts after a change', () => {
    const sketch = sketchOf(['a', 'b']);
    expect(sketch.count()).toBe(2);
    sketch.add('c');
    expect(sketch.count()).toBe(3);
  });

  it('clones independently', () => {
    const sketch = sketchOf(['a']);
    const copy = sketch.clone();
    copy.add('b');
    expect([sketch.count(), copy.count()]).toEqual([1, 2]);
  });
});
