/**
 * Redis's HyperLogLog, register for register: the same hash (MurmurHash64A, seed
 * 0xadc83b19), the same 16384 six-bit registers and the same estimator (Ertl's improved
 * raw estimate, as in Redis 5+), so the memory backend's PFCOUNT equals a real server's.
 */

const P = 14;
const REGISTERS = 1 << P;
const Q = 64 - P;
// Redis writes 0.721347520444481703680; this is the same double.
const ALPHA_INF = 0.7213475204444817;
const M = 0xc6a4a7935bd1e995n;
const MASK64 = (1n << 64n) - 1n;
const SEED = 0xadc83b19n;
const encoder = new TextEncoder();

function murmurHash64A(data: Uint8Array): bigint {
  const len = data.length;
  let h = (SEED ^ ((BigInt(len) * M) & MASK64)) & MASK64;
  const blocks = len - (len & 7);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (let i = 0; i < blocks; i += 8) {
    let k = view.getBigUint64(i, true);
    k = (k * M) & MASK64;
    k ^= k >> 47n;
    k = (k * M) & MASK64;
    h ^= k;
    h = (h * M) & MASK64;
  }
  const rest = len & 7;
  if (rest > 0) {
    for (let i = rest - 1; i >= 0; i--) h ^= BigInt(data[blocks + i]!) << BigInt(8 * i);
    h = (h * M) & MASK64;
  }
  h ^= h >> 47n;
  h = (h * M) & MASK64;
  h ^= h >> 47n;
  return h;
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
    z -= (1 - x) ** 2 * y;
  } while (previous !== z);
  return z / 3;
}

export class HyperLogLog {
  readonly registers: Uint8Array;

  constructor(registers?: Uint8Array) {
    this.registers = registers ?? new Uint8Array(REGISTERS);
  }

  /** Add a member; true when a register changed (as PFADD reports). */
  add(member: string): boolean {
    const hash = murmurHash64A(encoder.encode(member));
    const index = Number(hash & BigInt(REGISTERS - 1));
    // The remaining 50 bits plus a stop bit; the run of trailing zeros + 1 is the rank.
    let rest = (hash >> BigInt(P)) | (1n << BigInt(Q));
    let count = 1;
    let low = Number(rest & 0xffffffffn);
    if (low === 0) {
      count += 32;
      rest >>= 32n;
      low = Number(rest & 0xffffffffn);
    }
    count += 31 - Math.clz32(low & -low);
    if (count > this.registers[index]!) {
      this.registers[index] = count;
      return true;
    }
    return false;
  }

  clone(): HyperLogLog {
    return new HyperLogLog(this.registers.slice());
  }

  /** Register-wise maximum of several HyperLogLogs (PFMERGE). */
  static merge(sketches: readonly HyperLogLog[]): HyperLogLog {
    const out = new HyperLogLog();
    for (const sketch of sketches) {
      const source = sketch.registers;
      for (let i = 0; i < REGISTERS; i++) if (source[i]! > out.registers[i]!) out.registers[i] = source[i]!;
    }
    return out;
  }

  count(): number {
    const histogram = new Array<number>(64).fill(0);
    for (let i = 0; i < REGISTERS; i++) histogram[this.registers[i]!]!++;
    const m = REGISTERS;
    let z = m * tau((m - histogram[Q + 1]!) / m);
    for (let j = Q; j >= 1; j--) {
      z += histogram[j]!;
      z *= 0.5;
    }
    z += m * sigma(histogram[0]! / m);
    return Math.round((ALPHA_INF * m * m) / z);
  }
}
