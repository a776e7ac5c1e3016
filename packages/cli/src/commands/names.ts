/** `porpoise names [--name-prefix text]`: what has been recorded, from the write-time catalogues. */
import type { Analytics } from '@porpoise/analytics';
import { toJson } from '../format/json.js';
import { fmt } from '../format/text.js';
import type { Io } from '../io.js';
import { type CommonFlags, openSession, settingsOf } from '../session.js';

export interface NamesFlags extends CommonFlags {
  namePrefix?: string;
}

export interface Recorded {
  events: string[];
  segments: string[];
  counters: string[];
  buckets: string[];
}

export async function recordedNames(analytics: Analytics, prefix: string | undefined): Promise<Recorded> {
  const options = prefix === undefined ? {} : { prefix };
  const [events, segments, counters, buckets] = await Promise.all([
    analytics.names(options),
    analytics.segments(options),
    analytics.counterKeys(options),
    analytics.buckets(),
  ]);
  return {
    events,
    segments,
    counters,
    buckets: prefix === undefined ? buckets : buckets.filter((bucket) => bucket.startsWith(prefix)),
  };
}

export async function namesCommand(flags: NamesFlags, io: Io): Promise<void> {
  const settings = settingsOf(flags);
  const prefix = flags.namePrefix;
  const session = await openSession(settings, io);
  try {
    const recorded = await recordedNames(session.analytics, prefix);
    if (settings.json) {
      io.stdout.write(
        toJson({
          command: 'names',
          ...(prefix === undefined ? {} : { prefix }),
          source: session.source,
          ...recorded,
        }),
      );
      return;
    }
    const lines = [
      `Recorded${prefix === undefined ? '' : `, starting with ${JSON.stringify(prefix)}`} · ${session.describe()}`,
    ];
    const section = (title: string, names: string[]) => {
      lines.push('', `${title} (${fmt(names.length)})`);
      lines.push(...(names.length === 0 ? ['  (none)'] : names.map((name) => `  ${name}`)));
    };
    section('events', recorded.events);
    section('segments', recorded.segments);
    section('counters', recorded.counters);
    section('activity buckets', recorded.buckets);
    io.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await session.close();
  }
}
