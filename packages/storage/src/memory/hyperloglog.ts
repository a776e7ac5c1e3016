/**
 * Redis's HyperLogLog, register for register, so that the memory backend's estimates are the
 * numbers a real server gives for the same members (Redis 7 `hyperloglog.c`):
 *
 * - hash: MurmurHash64A over the member's UTF-8 bytes (what ioredis sends), seed 0xadc83b19;
 * - 16384 registers (P = 14): the low 14 bits pick the register, the remaining 50 bits plus a
 *   stop bit at bit 50 give the rank (trailing zeros + 1, so at most 51 and within 6 bits);
 * - estimate: Otmar Ertl's improved estimator (`hllCount` since Redis 5, with `hllSigma` and
 *   `hllTau`), rounded like `llroundl`.
 *
 * Redis keeps small HyperLogLogs in a sparse encoding, but its estimate is computed from the
 * same register values, so it does not change the result. Registers are one byte each here.
 *
 * 64-bit arithmetic is done on 32-bit halves: BigInt allocates on every operation and would
 * make adding members several times slower.
 */

const P = 14;
export const HLL_REGISTERS = 1 << P;
const INDEX_MASK = HLL_REGISTERS - 1;
const Q = 64 - P;
/** Redis's HLL_ALPHA_INF, written 0.721347520444481703680 (0.5 / ln 2): this is the same double. */
const ALPHA_INF = 0.7213475204444817;
export const HLL_SEED = 0xadc83b19;

// MurmurHash64A's multiplier 0xc6a4a7935bd1e995, in halves and (low half) in 16-bit limbs.
const M_HIGH = 0xc6a4a793;
const M_LOW = 0x5bd1e995;
const M_LOW_0 = M_LOW & 0xffff;
const M_LOW_1 = M_LOW >>> 16;
const TWO_32 = 2 ** 32;

// The result of the last 64-bit multiplication (module state avoids allocating a pair).
let productHigh = 0;
let productLow = 0;

/** (high, low) * M mod 2^64, into productHigh/productLow. */
function multiplyByM(high: number, low: number): void {
  // low * M_LOW as a full 64-bit product, from 16-bit limbs (every partial product is exact).
  const a0 = low & 0xffff;
  const a1 = low >>> 16;
  const middle = a0 * M_LOW_1 + a1 * M_LOW_0;
  const lowSum = a0 * M_LOW_0 + (middle % 65536) * 65536;
  const carry = lowSum >= TWO_32 ? 1 : 0;
  const fullHigh = a1 * M_LOW_1 + Math.floor(middle / 65536) + carry;
  productLow = lowSum >>> 0;
  productHigh = (fullHigh + Math.imul(high, M_LOW) + Math.imul(low, M_HIGH)) >>> 0;
}

// The last hash (module state again, for the same reason).
let hashHigh = 0;
let hashLow = 0;

function murmurHash64AInto(data: Uint8Array, length: number, seed: number): void {
  multiplyByM(0, length);
  let high = productHigh;
  let low = (productLow ^ seed) >>> 0;
  const blocks = length - (length & 7);
  for (let i = 0; i < blocks; i += 8) {
    const kLow = (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24)) >>> 0;
    const kHigh = (data[i + 4]! | (data[i + 5]! << 8) | (data[i + 6]! << 16) | (data[i + 7]! << 24)) >>> 0;
    multiplyByM(kHigh, kLow);
    // k ^= k >> 47: only the high half's top 17 bits move, into the low half.
    multiplyByM(productHigh, (productLow ^ (productHigh >>> 15)) >>> 0);
    high = (high ^ productHigh) >>> 0;
    low = (low ^ productLow) >>> 0;
    multiplyByM(high, low);
    high = productHigh;
    low = productLow;
  }
  const rest = length & 7;
  if (rest > 0) {
    // The tail bytes, little-endian, as Redis's fall-through switch XORs them in.
    for (let i = rest - 1; i >= 0; i--) {
      const byte = data[blocks + i]!;
      if (i >= 4) high = (high ^ (byte << (8 * (i - 4)))) >>> 0;
      else low = (low ^ (byte << (8 * i))) >>> 0;
    }
    multiplyByM(high, low);
    high = productHigh;
    low = productLow;
  }
  low = (low ^ (high >>> 15)) >>> 0;
  multiplyByM(high, low);
  high = productHigh;
  low = (productLow ^ (productHigh >>> 15)) >>> 0;
  hashHigh = high;
  hashLow = low;
}

const encoder = new TextEncoder();
let scratch = new Uint8Array(256);

/** The member's UTF-8 bytes (as ioredis sends them) in `scratch`; returns their length. */
function encodeMember(member: string): number {
  // A UTF-16 code unit never takes more than 3 bytes of UTF-8.
  if (scratch.length < member.length * 3)
    scratch = new Uint8Array(Math.max(member.length * 3, scratch.length * 2));
  return encoder.encodeInto(member, scratch).written;
}

/** MurmurHash64A as Redis computes it (unsigned 64-bit result). */
export function murmurHash64A(data: Uint8Array, seed: number = HLL_SEED): bigint {
  murmurHash64AInto(data, data.length, seed >>> 0);
  return (BigInt(hashHigh) << 32n) | BigInt(hashLow);
}

// The last member's register and rank (module state again).
let memberIndex = 0;
let memberRank = 0;

/** The register a member lands in and the rank it offers (Redis's `hllPatLen`). */
export function registerOf(member: string): { index: number; rank: number } {
  hashMember(member);
  return { index: memberIndex, rank: memberRank };
}

function hashMember(member: string): void {
  murmurHash64AInto(scratch, encodeMember(member), HLL_SEED);
  memberIndex = hashLow & INDEX_MASK;
  // hash >>= P; hash |= 1 << Q; rank = trailing zeros + 1.
  const low = ((hashLow >>> P) | (hashHigh << (32 - P))) >>> 0;
  const high = (hashHigh >>> P) | (1 << (Q - 32));
  memberRank = low !== 0 ? 32 - Math.clz32(low & -low) : 64 - Math.clz32(high & -high);
}

function sigma(input: number): number {
  if (input === 1) return Number.POSITIVE_INFINITY;
  let x = input;
  let y = 1;
  let z = x;
  let previous: number;
  do {
    x *= x;
    previous = z;
    z += x * y;
    y += y;
  } while (previous !== z);
  return z;
}

function tau(input: number): number {
  if (input === 0 || input === 1) return 0;
  let x = input;
  let y = 1;
  let z = 1 - x;
  let previous: number;
  do {
    x = Math.sqrt(x);
    previous = z;
    y *= 0.5;
    // C's pow(1 - x, 2) is correctly rounded, so it equals this single-rounding product.
    const d = 1 - x;
    z -= d * d * y;
  } while (previous !== z);
  return z / 3;
}

/** Redis's `hllCount` over plain one-byte registers. */
function estimate(registers: Uint8Array): number {
  const histogram = new Int32Array(64);
  for (let i = 0; i < HLL_REGISTERS; i++) histogram[registers[i]!]!++;
  const m = HLL_REGISTERS;
  let z = m * tau((m - histogram[Q + 1]!) / m);
  for (let j = Q; j >= 1; j--) {
    z += histogram[j]!;
    z *= 0.5;
  }
  z += m * sigma(histogram[0]! / m);
  // llroundl rounds halves away from zero; the value is positive, so Math.round agrees. Only
  // with every register at 51 (some 2^64 members) is z 0: Redis then answers llroundl(inf),
  // which C leaves undefined; this answers Infinity.
  return Math.round((ALPHA_INF * m * m) / z);
}

export class HyperLogLog {
  /** One register per byte (Redis packs six bits; the values are the same). */
  readonly registers: Uint8Array;
  #count = -1;

  constructor(registers: Uint8Array = new Uint8Array(HLL_REGISTERS)) {
    if (registers.length !== HLL_REGISTERS)
      throw new RangeError(`a HyperLogLog has ${HLL_REGISTERS} registers`);
    this.registers = registers;
  }

  /** Add a member; true when a register changed (PFADD's answer). */
  add(member: string): boolean {
    hashMember(member);
    if (memberRank > this.registers[memberIndex]!) {
      this.registers[memberIndex] = memberRank;
      this.#count = -1;
      return true;
    }
    return false;
  }

  /** The estimated number of distinct members (PFCOUNT). Cached until the next change. */
  count(): number {
    if (this.#count < 0) this.#count = estimate(this.registers);
    return this.#count;
  }

  clone(): HyperLogLog {
    return new HyperLogLog(this.registers.slice());
  }

  /** The estimate for the union of several HyperLogLogs: of their register-wise maximum. */
  static countUnion(sketches: readonly HyperLogLog[]): number {
    if (sketches.length === 0) return 0;
    if (sketches.length === 1) return sketches[0]!.count();
    const merged = new Uint8Array(HLL_REGISTERS);
    for (const sketch of sketches) {
      const source = sketch.registers;
      for (let i = 0; i < HLL_REGISTERS; i++) if (source[i]! > merged[i]!) merged[i] = source[i]!;
    }
    return estimate(merged);
  }
}
