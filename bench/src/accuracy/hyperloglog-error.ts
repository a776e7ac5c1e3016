/**
 * How far the HyperLogLog estimates of approximate mode stray from the truth: `--buckets`
 * HyperLogLogs (default 20) of `--ids` distinct ids each (default 1,000,000), written as the
 * activity tracker writes them (string ids through `hllAdd`), on the memory backend, whose
 * HyperLogLog is Redis's register for register (so a real server estimates the same).
 * Prints each bucket's relative error, the mean absolute and root-mean-square error, the worst
 * bucket and the error of the union of all buckets.
 *
 *   pnpm --filter @porpoise/bench exec tsx --conditions=@porpoise/source src/accuracy/hyperloglog-error.ts [--buckets 20] [--ids 1000000]
 */
import { MemoryBackend } from '@porpoise/storage';

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : Number(process.argv[at + 1]);
}

const buckets = option('buckets', 20);
const ids = option('ids', 1_000_000);
const backend = new MemoryBackend();
const batch = 50_000;
const errors: number[] = [];

for (let b = 0; b < buckets; b++) {
  const key = `activity:raw:b${b}:d20261124`;
  for (let start = 0; start < ids; start += batch) {
    const members: string[] = [];
    // Ids as an application has them: e-mail-like strings, distinct across buckets.
    for (let i = start; i < Math.min(ids, start + batch); i++) members.push(`user${b * ids + i}@example.com`);
    await backend.write([{ op: 'hllAdd', key, members }]);
  }
  const [estimate] = (await backend.read([{ op: 'hllCount', keys: [key] }])) as [number];
  const error = (estimate - ids) / ids;
  errors.push(error);
  console.log(`bucket ${String(b).padStart(2)}: ${estimate} of ${ids} (${(error * 100).toFixed(3)}%)`);
}

const keys = Array.from({ length: buckets }, (_, b) => `activity:raw:b${b}:d20261124`);
const [union] = (await backend.read([{ op: 'hllCount', keys }])) as [number];
const absolute = errors.map(Math.abs);
const mean = absolute.reduce((a, b) => a + b, 0) / absolute.length;
const rms = Math.sqrt(errors.reduce((a, e) => a + e * e, 0) / errors.length);
const worst = Math.max(...absolute);
const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
console.log(
  `${buckets} buckets of ${ids.toLocaleString('en-US')} ids: mean |error| ${pct(mean)}, rms ${pct(rms)}, worst ${pct(worst)} ` +
    `(theory: standard error 1.04/sqrt(16384) = 0.81%); union of ${(buckets * ids).toLocaleString('en-US')} ids: ${union} (${pct((union - buckets * ids) / (buckets * ids))})`,
);
