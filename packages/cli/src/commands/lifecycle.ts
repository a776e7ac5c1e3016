/** `porpoise lifecycle --event active --unit week`: new, returning, resurrecting, dormant users. */
import type { LifecyclePeriod } from '@porpoise/analytics';
import { parseRange, UNITS } from '../args/range.js';
import { UsageError } from '../errors.js';
import { toJson } from '../format/json.js';
import { rangeJson, rangeLabel } from '../format/labels.js';
import { fmt, table } from '../format/text.js';
import type { Io } from '../io.js';
import { type CommonFlags, openSession, settingsOf } from '../session.js';

export interface LifecycleFlags extends CommonFlags {
  event?: string;
  unit?: string;
  range?: string;
}

export function lifecycleJson(periods: LifecyclePeriod[]) {
  return periods.map(({ bucket, ...counts }) => ({
    key: bucket.key,
    start: bucket.start.toISO()!,
    ...counts,
  }));
}

export async function lifecycleCommand(flags: LifecycleFlags, io: Io): Promise<void> {
  const settings = settingsOf(flags);
  const name = flags.event ?? 'active';
  const unit = flags.unit ?? 'week';
  if (!(UNITS as readonly string[]).includes(unit)) {
    throw new UsageError(`--unit "${unit}": must be one of ${UNITS.join(', ')}`);
  }
  const spec = flags.range ?? `${unit}:-4..1`;
  const range = parseRange(spec, { zone: settings.zone, now: settings.now });
  if (range.unit !== unit)
    throw new UsageError(`--range "${spec}": its unit is ${range.unit}, but --unit is ${unit}`);
  const read = (analytics: Awaited<ReturnType<typeof openSession>>['analytics']) =>
    analytics.lifecycle({ query: analytics.events(name), range });
  const session = await openSession(settings, io, { check: read });
  try {
    const result = await read(session.analytics);
    if (settings.json) {
      io.stdout.write(
        toJson({
          command: 'lifecycle',
          event: name,
          unit,
          range: { spec, ...rangeJson(range) },
          source: session.source,
          periods: lifecycleJson(result.periods),
        }),
      );
      return;
    }
    const lines = [
      `Lifecycle of ${name}, by ${unit}`,
      `${spec} · ${rangeLabel(range)} · ${session.describe()}`,
      '',
      table(
        [unit, 'new', 'returning', 'resurrecting', 'dormant', 'active'],
        result.periods.map((p) => [
          `${p.bucket.key}${p.partial ? '*' : ''}`,
          fmt(p.new),
          fmt(p.returning),
          fmt(p.resurrecting),
          `-${fmt(p.dormant)}`,
          fmt(p.active),
        ]),
        { trim: true },
      ),
      `(new: first ${unit} ever; returning: also active the ${unit} before; resurrecting: back after a gap; dormant: active the ${unit} before, not this one; *: not ended)`,
    ];
    io.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await session.close();
  }
}
