/**
 * `porpoise stats`: per event, segment and counter and resolution, what the store holds, read
 * through the Backend interface only (the catalogue, exists, ttl, the bitmaps and hashes).
 */
import type { CounterStatsRow, EventStats } from '@porpoise/analytics';
import { toJson } from '../format/json.js';
import { fmt, table } from '../format/text.js';
import type { Io } from '../io.js';
import { progressBar } from '../progress.js';
import { type CommonFlags, openSession, settingsOf } from '../session.js';

export type StatsFlags = CommonFlags;

function bytes(n: number): string {
  if (n < 1024) return `${fmt(n)} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

function duration(ms: number | null): string {
  if (ms === null) return 'forever';
  const days = ms / 86_400_000;
  if (Number.isInteger(days)) return `${days}d`;
  const hours = ms / 3_600_000;
  if (Number.isInteger(hours)) return `${hours}h`;
  return `${Math.round(ms / 1000)}s`;
}

export async function statsCommand(flags: StatsFlags, io: Io): Promise<void> {
  const settings = settingsOf(flags);
  const session = await openSession(settings, io);
  try {
    const progress = progressBar(io.stderr, 'reading', !settings.json);
    let events: EventStats;
    let counters: CounterStatsRow[];
    try {
      events = await session.analytics.eventStore.stats({ onProgress: (d, t) => progress.update(d, t) });
      counters = await session.analytics.counterStore.stats({ onProgress: (d, t) => progress.update(d, t) });
    } finally {
      progress.finish();
    }
    if (settings.json) {
      io.stdout.write(toJson({ command: 'stats', source: session.source, events, counters }));
      return;
    }
    const lines = [`Stats · ${session.describe()}`, ''];
    lines.push(`largest id recorded: ${events.maxId === null ? '(none)' : fmt(events.maxId)}`, '');
    lines.push('events');
    lines.push(
      events.events.length === 0
        ? '(none)'
        : table(
            ['event', 'unit', 'keys', 'ids', 'bytes', 'raw bytes', 'largest id', 'retention', 'expiring'],
            events.events.map((r) => [
              r.name,
              r.unit,
              fmt(r.keys),
              fmt(r.ids),
              bytes(r.bytes),
              bytes(r.rawBytes),
              r.maxId === null ? '-' : fmt(r.maxId),
              duration(r.retention),
              `${fmt(r.expiring.keys)} keys, ${bytes(r.expiring.bytes)}`,
            ]),
            { left: 2, trim: true },
          ),
    );
    lines.push('', 'segments');
    lines.push(
      events.segments.length === 0
        ? '(none)'
        : table(
            ['segment', 'ids', 'bytes', 'largest id'],
            events.segments.map((r) => [
              r.name,
              fmt(r.ids),
              bytes(r.bytes),
              r.maxId === null ? '-' : fmt(r.maxId),
            ]),
            { trim: true },
          ),
    );
    lines.push('', 'counters');
    lines.push(
      counters.length === 0
        ? '(none)'
        : table(
            ['counter', 'unit', 'keys', 'fields', 'bytes', 'retention', 'expiring'],
            counters.map((r) => [
              r.key,
              r.unit,
              fmt(r.keys),
              fmt(r.fields),
              bytes(r.bytes),
              duration(r.retention),
              `${fmt(r.expiring.keys)} keys, ${bytes(r.expiring.bytes)}`,
            ]),
            { left: 2, trim: true },
          ),
    );
    lines.push(
      '',
      'bytes: the data itself (bitmaps in compact form, hash fields and values); the store adds its own overhead.',
      'raw bytes: every 64 Ki-bit chunk holding an id stored whole (8 KiB). expiring: keys with an expiry, freed by retention.',
    );
    io.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await session.close();
  }
}
