/**
 * Memory held by bitmaps: `pnpm --filter @porpoise/bench exec tsx src/memory-bitmap.ts` (or
 * `pnpm --filter @porpoise/bench memory`); re-executes itself with --expose-gc. Each figure is the growth of
 * V8 heap plus ArrayBuffer memory (typed array storage lives outside the heap) after a full GC,
 * with the measured structure still referenced.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { bytes } from './report.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  // Run again with the GC exposed, against the packages' sources (no build needed).
  execFileSync(
    process.execPath,
    ['--expose-gc', '--conditions=@porpoise/source', '--import', 'tsx', fileURLToPath(import.meta.url)],
    { stdio: 'inherit' },
  );
  process.exit(0);
}
// Imported only now, so that the first run above needs neither a build nor the GC.
const { Events } = await import('@porpoise/events');
const { Bitmap, MemoryBackend } = await import('@porpoise/storage');

// xorshift32: every 32-bit value reachable. (The bench's float LCG loses precision past 2^53
// and visits under a sixth of the 2^16-bit chunks, which would flatter a chunked bitmap.)
let state = 2_463_534_242;
const random32 = () => {
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return state >>> 0;
};
const scattered = (n: number) => Array.from({ length: n }, random32);

function held(): number {
  gc!();
  gc!();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

/**
 * Memory still held per result of `build`, built `copies` times (small results are built
 * many times so that heap noise of a few KiB does not swamp them).
 */
async function measure<T>(build: () => T | Promise<T>, copies = 1): Promise<{ bytes: number; value: T }> {
  const values: T[] = [];
  const before = held();
  for (let i = 0; i < copies; i++) values.push(await build());
  const after = held();
  return { bytes: Math.round((after - before) / copies), value: values[0]! };
}

const NOW = new Date('2026-11-24T12:00:00Z');

async function main(): Promise<void> {
  const rows: string[] = [
    '| structure | held memory | container bytes (byteLength) | goal |',
    '|---|---|---|---|',
  ];

  const ids = scattered(65_536);
  const events = await measure(async () => {
    const backend = new MemoryBackend();
    await new Events(backend, { now: () => NOW, resolutions: ['hour', 'day', 'week', 'month'] }).eventMany(
      ids.map((id) => ({ name: 'scattered', id })),
    );
    return backend;
  });
  rows.push(
    `| MemoryBackend: 65,536 events at random ids in [0, 2^32), 4 resolutions | ${bytes(events.bytes)} | — | < 64 MiB |`,
  );

  const million = scattered(1_000_000);
  const spread = await measure(() => {
    const bitmap = Bitmap.empty();
    bitmap.setMany(million, true);
    return bitmap;
  });
  rows.push(
    `| Bitmap: 1 M random ids in [0, 2^32) | ${bytes(spread.bytes)} | ${bytes(spread.value.byteLength)} | ≤ 8 MiB |`,
  );

  const denseIds = Array.from({ length: 1_000_000 }, (_, id) => id);
  const dense = await measure(() => {
    const bitmap = Bitmap.empty();
    bitmap.setMany(denseIds, true);
    return bitmap;
  }, 32);
  rows.push(
    `| Bitmap: 1 M dense ids 0..999,999 | ${bytes(dense.bytes)} | ${bytes(dense.value.byteLength)} | ≤ 130 KiB of containers |`,
  );

  const thousand = scattered(1_000);
  const sparse = await measure(() => Bitmap.fromOffsets(thousand), 32);
  rows.push(
    `| Bitmap: 1,000 random ids in [0, 2^32) | ${bytes(sparse.bytes)} | ${bytes(sparse.value.byteLength)} | — |`,
  );

  console.log(`Node ${process.version}\n`);
  console.log(rows.join('\n'));
  // Keep every result referenced until all measurements are taken.
  void [events.value, spread.value, dense.value, sparse.value];
}

await main();
