/**
 * `events.stats()`: what the namespace holds, from the catalogue and the Backend interface
 * alone (exists, ttl, the bitmaps themselves). A tooling path: it reads every listed bitmap.
 */
import {
  type Bitmap,
  CHUNK_BYTES,
  InvalidArgumentError,
  type ReadOp,
  recordedBuckets,
} from '@porpoise/storage';
import type { Unit } from '@porpoise/timerange';
import type { QueryContext } from './query.js';

export interface StatsOptions {
  /** Called after each page of keys is read, with keys read so far and the total listed. */
  onProgress?: (done: number, total: number) => void;
}

/** Sizes of a set of bitmaps. */
export interface BitmapSizes {
  /** Keys that exist (listed keys that expired or were deleted are not counted). */
  keys: number;
  /**
   * Bytes of the bitmaps in their compact form (2 bytes per id of a sparse 64 Ki-bit chunk,
   * 8 KiB per dense one). What the store spends on top (a Redis string per chunk, key
   * overhead) is not visible through the Backend interface.
   */
  bytes: number;
  /** Bytes if every 64 Ki-bit chunk holding an id were stored whole (8 KiB each). */
  rawBytes: number;
  /** Set bits summed over the keys. */
  ids: number;
}

export interface EventStatsRow extends BitmapSizes {
  name: string;
  unit: Unit;
  /** Buckets the catalogue lists (including keys already expired). */
  listed: number;
  /** The largest id in these bitmaps; null when they hold none. */
  maxId: number | null;
  /** Retention of the unit in ms; null when kept forever. */
  retention: number | null;
  /** Keys with an expiry, and their sizes: what the retention will free. */
  expiring: BitmapSizes;
}

export interface SegmentStatsRow extends BitmapSizes {
  name: string;
  maxId: number | null;
}

export interface EventStats {
  /** The largest id ever recorded in the namespace (NOT's universe - 1); null before any. */
  maxId: number | null;
  events: EventStatsRow[];
  segments: SegmentStatsRow[];
}

const PAGE = 64;

function sizes(): BitmapSizes {
  return { keys: 0, bytes: 0, rawBytes: 0, ids: 0 };
}

function addTo(into: BitmapSizes, bitmap: Bitmap): void {
  into.keys++;
  into.bytes += bitmap.byteLength;
  into.rawBytes += bitmap.chunkIndices().length * CHUNK_BYTES;
  into.ids += bitmap.size;
}

export async function eventStats(context: QueryContext, options: unknown): Promise<EventStats> {
  const onProgress = progressOf(options);
  const { backend, keys, options: series } = context;
  const [names, segments, max] = await backend.read([
    { op: 'setMembers', keys: [keys.names] },
    { op: 'setMembers', keys: [keys.segments] },
    { op: 'get', key: keys.maxId },
  ] as const);
  const buckets = await recordedBuckets(backend, keys, names);
  const rows = new Map<string, EventStatsRow>();
  const work: Array<{ row: EventStatsRow | SegmentStatsRow; key: string; timed: boolean }> = [];
  names.forEach((name, i) => {
    for (const { unit, key } of buckets[i]!) {
      const id = `${name}\u0000${unit}`;
      let row = rows.get(id);
      if (!row) {
        row = {
          name,
          unit,
          listed: 0,
          ...sizes(),
          maxId: null,
          retention: series.retention.get(unit) ?? null,
          expiring: sizes(),
        };
        rows.set(id, row);
      }
      row.listed++;
      work.push({ row, key, timed: true });
    }
  });
  const segmentRows = segments.map((name): SegmentStatsRow => ({ name, ...sizes(), maxId: null }));
  for (const row of segmentRows) work.push({ row, key: keys.segment(row.name), timed: false });
  for (let at = 0; at < work.length; at += PAGE) {
    const page = work.slice(at, at + PAGE);
    const results = await backend.read(
      page.flatMap(({ key }): ReadOp[] => [
        { op: 'exists', key },
        { op: 'ttl', key },
        { op: 'bitmap', expr: { op: 'key', key } },
      ]),
    );
    page.forEach(({ row, timed }, i) => {
      if (results[3 * i] !== true) return;
      const bitmap = results[3 * i + 2] as Bitmap;
      addTo(row, bitmap);
      const top = bitmap.max();
      if (top >= 0 && (row.maxId === null || top > row.maxId)) row.maxId = top;
      if (timed && results[3 * i + 1] !== null) addTo((row as EventStatsRow).expiring, bitmap);
    });
    onProgress?.(Math.min(at + PAGE, work.length), work.length);
  }
  const order = (a: EventStatsRow, b: EventStatsRow) =>
    a.name < b.name
      ? -1
      : a.name > b.name
        ? 1
        : series.resolutions.indexOf(a.unit) - series.resolutions.indexOf(b.unit);
  return {
    maxId: max === null ? null : Number(max),
    events: [...rows.values()].sort(order),
    segments: segmentRows,
  };
}

export function progressOf(options: unknown): StatsOptions['onProgress'] {
  if (options === undefined) return undefined;
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError('options', options, 'must be an options object { onProgress? }');
  }
  const { onProgress } = options as StatsOptions;
  if (onProgress !== undefined && typeof onProgress !== 'function') {
    throw new InvalidArgumentError('onProgress', onProgress, 'must be a function (done, total) => void');
  }
  return onProgress;
}
