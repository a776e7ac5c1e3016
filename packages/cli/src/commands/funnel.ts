/** `porpoise funnel signup first-play playlist:created subscribed --window 7`: conversion by step. */
import type { FunnelOrder, FunnelResult } from '@porpoise/analytics';
import { parseRange } from '../args/range.js';
import { parseWholeNumber } from '../args/values.js';
import { UsageError } from '../errors.js';
import { bar, peakOf } from '../format/chart.js';
import { toJson } from '../format/json.js';
import { rangeJson, rangeLabel } from '../format/labels.js';
import { fmt, pct, table } from '../format/text.js';
import type { Io } from '../io.js';
import { type CommonFlags, openSession, settingsOf } from '../session.js';

export interface FunnelFlags extends CommonFlags {
  window?: string;
  order?: string;
  exclude?: string;
  range?: string;
  breakdown?: string[];
}

const ORDERS: readonly FunnelOrder[] = ['sequential', 'strict', 'any'];

/** A funnel for --json: steps, time to convert and breakdowns as the library returns them. */
export function funnelJson(result: FunnelResult) {
  return {
    unit: result.unit,
    window: result.window,
    order: result.order,
    partial: result.partial,
    steps: result.steps,
    timeToConvert: result.timeToConvert,
  };
}

export async function funnelCommand(names: string[], flags: FunnelFlags, io: Io): Promise<void> {
  const settings = settingsOf(flags);
  if (names.length === 0)
    throw new UsageError('funnel needs at least one step, e.g. porpoise funnel signup first-play');
  const window = flags.window === undefined ? 7 : parseWholeNumber(flags.window, '--window', 1, 1000);
  const order = (flags.order ?? 'sequential') as FunnelOrder;
  if (!ORDERS.includes(order))
    throw new UsageError(`--order "${flags.order}": must be one of ${ORDERS.join(', ')}`);
  const spec = flags.range ?? 'day:-30';
  const range = parseRange(spec, { zone: settings.zone, now: settings.now });
  const breakdown = flags.breakdown ?? [];
  const read = (analytics: Awaited<ReturnType<typeof openSession>>['analytics']) =>
    analytics.funnel({
      steps: names.map((name) => analytics.events(name)),
      range,
      window,
      order,
      exclude: flags.exclude === undefined ? undefined : analytics.events(flags.exclude),
      breakdown: breakdown.map((name) => analytics.events(name)),
    });
  const session = await openSession(settings, io, { check: read });
  try {
    const result = await read(session.analytics);
    if (settings.json) {
      io.stdout.write(
        toJson({
          command: 'funnel',
          events: names,
          exclude: flags.exclude ?? null,
          range: { spec, ...rangeJson(range) },
          source: session.source,
          ...funnelJson(result),
          breakdowns: result.breakdowns.map((b, i) => ({ breakdown: breakdown[i], ...b })),
        }),
      );
      return;
    }
    const peak = peakOf(
      result.steps.map((s) => s.count),
      1,
    );
    const stepTable = (steps: FunnelResult['steps']) =>
      table(
        ['step', 'event', 'users', 'from previous', 'from step 1', ''],
        steps.map((s, k) => [
          String(s.step),
          names[k]!,
          fmt(s.count),
          pct(s.fromPrevious),
          pct(s.fromStart),
          bar(s.count, peak, 24),
        ]),
        { left: 2, trim: true },
      );
    const converted = result.timeToConvert.reduce((n, t) => n + t.count, 0);
    const lines = [
      `Funnel: ${names.join(' → ')}${flags.exclude ? ` (excluding ${flags.exclude})` : ''}`,
      `${spec} · ${rangeLabel(range)} · ${order}, within ${window} ${range.unit}${window === 1 ? '' : 's'} · ${session.describe()}`,
      '',
      stepTable(result.steps),
      '',
      `Time to convert (${range.unit}s from step 1 to step ${names.length}, ${fmt(converted)} users):`,
      table(
        [range.unit + 's', 'users', 'share'],
        result.timeToConvert.map((t) => [
          String(t.buckets),
          fmt(t.count),
          pct(converted === 0 ? 0 : t.count / converted),
        ]),
        { trim: true },
      ),
      ...result.breakdowns.flatMap((b, i) => [
        '',
        `Breakdown: users who did ${breakdown[i]} in the range`,
        stepTable(b.steps),
      ]),
      result.partial
        ? `(* some windows have not ended by ${settings.now.toISOString()}: later steps may still come)`
        : '',
    ];
    io.stdout.write(`${lines.join('\n').trimEnd()}\n`);
  } finally {
    await session.close();
  }
}
