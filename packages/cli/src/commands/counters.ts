/** `porpoise counters <key> --range <range> [--top n]`: the top ids over the range, and totals per bucket. */
import type { Analytics, Bucket } from '@porpoise/analytics';
import { parseRange } from '../args/range.js';
import { parseWholeNumber } from '../args/values.js';
import { bar, peakOf, sparkline } from '../format/chart.js';
import { toJson } from '../format/json.js';
import { bucketLabel, rangeJson, rangeLabel } from '../format/labels.js';
import { fmt, table } from '../format/text.js';
import type { Io } from '../io.js';
import { type CommonFlags, openSession, settingsOf } from '../session.js';

export interface CountersFlags extends CommonFlags {
  range?: string;
  top?: string;
}

export const DEFAULT_COUNTERS_RANGE = 'hour:-24';
export const DEFAULT_TOP = 10;
const MAX_TOP = 100_000;

export async function countersCommand(key: string, flags: CountersFlags, io: Io): Promise<void> {
  const settings = settingsOf(flags);
  const spec = flags.range ?? DEFAULT_COUNTERS_RANGE;
  const range = parseRange(spec, { zone: settings.zone, now: settings.now });
  const topN = flags.top === undefined ? DEFAULT_TOP : parseWholeNumber(flags.top, '--top', 1, MAX_TOP);
  const read = async (analytics: Analytics) => {
    const query = analytics.counters(key);
    const sum = await query.sum(range);
    const buckets: Array<{ bucket: Bucket; total: number; ids: number }> = [];
    for await (const snapshot of query.over(range)) {
      buckets.push({ bucket: snapshot.bucket!, total: snapshot.total, ids: snapshot.values.size });
    }
    return { sum, buckets };
  };
  const session = await openSession(settings, io, { check: read });
  try {
    const { sum, buckets } = await read(session.analytics);
    const top = sum.top(topN).map(([id, count]) => ({ id, count }));
    if (settings.json) {
      io.stdout.write(
        toJson({
          command: 'counters',
          key,
          range: { spec, ...rangeJson(range) },
          source: session.source,
          total: sum.total,
          ids: sum.values.size,
          top,
          buckets: buckets.map(({ bucket, total, ids }) => ({
            key: bucket.key,
            start: bucket.start.toISO()!,
            total,
            ids,
          })),
        }),
      );
      return;
    }
    const lines = [key, `${spec} · ${rangeLabel(range)} · ${session.describe()}`, ''];
    const best = top[0]?.count ?? 0;
    lines.push(`Top ${fmt(top.length)} ids over the range`);
    lines.push(
      top.length === 0
        ? '(no counts in this range)'
        : table(
            ['id', 'count', ''],
            top.map(({ id, count }) => [id, fmt(count), bar(count, best, 20)]),
            { trim: true },
          ),
    );
    lines.push(`${fmt(sum.total)} in total over ${fmt(sum.values.size)} ids`, '', 'Per bucket');
    const peak = peakOf(buckets.map((b) => b.total));
    lines.push(
      table(
        ['bucket', range.unit, 'total', 'ids', ''],
        buckets.map(({ bucket, total, ids }) => [
          bucket.key,
          bucketLabel(bucket),
          fmt(total),
          fmt(ids),
          bar(total, peak),
        ]),
        { left: 2, trim: true },
      ),
    );
    if (peak === 0) lines.push('(every bucket is empty)');
    else if (buckets.length > 1) lines.push(`trend ${sparkline(buckets.slice(-120).map((b) => b.total))}`);
    io.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await session.close();
  }
}
