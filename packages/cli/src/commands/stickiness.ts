/** `porpoise stickiness --event active --unit week`: users active on exactly k days of each period. */
import type { StickinessPeriod } from '@porpoise/analytics';
import { parseRange } from '../args/range.js';
import { UsageError } from '../errors.js';
import { bar, peakOf } from '../format/chart.js';
import { toJson } from '../format/json.js';
import { rangeJson, rangeLabel } from '../format/labels.js';
import { fmt, pct, table } from '../format/text.js';
import type { Io } from '../io.js';
import { type CommonFlags, openSession, settingsOf } from '../session.js';

export interface StickinessFlags extends CommonFlags {
  event?: string;
  unit?: string;
  range?: string;
}

export function stickinessJson(periods: StickinessPeriod[]) {
  return periods.map(({ bucket, ...rest }) => ({ key: bucket.key, start: bucket.start.toISO()!, ...rest }));
}

export async function stickinessCommand(flags: StickinessFlags, io: Io): Promise<void> {
  const settings = settingsOf(flags);
  const name = flags.event ?? 'active';
  const unit = flags.unit ?? 'week';
  if (unit !== 'week' && unit !== 'month') throw new UsageError(`--unit "${unit}": must be week or month`);
  const spec = flags.range ?? `${unit}:-1`;
  const range = parseRange(spec, { zone: settings.zone, now: settings.now });
  if (range.unit !== unit)
    throw new UsageError(`--range "${spec}": its unit is ${range.unit}, but --unit is ${unit}`);
  const read = (analytics: Awaited<ReturnType<typeof openSession>>['analytics']) =>
    analytics.stickiness({ query: analytics.events(name), range, unit });
  const session = await openSession(settings, io, { check: read });
  try {
    const result = await read(session.analytics);
    if (settings.json) {
      io.stdout.write(
        toJson({
          command: 'stickiness',
          event: name,
          unit,
          range: { spec, ...rangeJson(range) },
          source: session.source,
          periods: stickinessJson(result.periods),
        }),
      );
      return;
    }
    const lines = [
      `Stickiness of ${name}: users active on exactly k days of each ${unit}`,
      `${spec} · ${rangeLabel(range)} · ${session.describe()}`,
    ];
    for (const period of result.periods) {
      const peak = peakOf(period.counts, 1);
      lines.push(
        '',
        `${period.bucket.key}${period.partial ? ' (not ended)' : ''}: ${fmt(period.active)} active`,
        table(
          ['days', 'users', 'share', ''],
          period.counts.map((count, k) => [
            String(k + 1),
            fmt(count),
            pct(period.active === 0 ? 0 : count / period.active),
            bar(count, peak, 24),
          ]),
          { trim: true },
        ),
      );
    }
    io.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await session.close();
  }
}
