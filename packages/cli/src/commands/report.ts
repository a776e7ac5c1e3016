/** `porpoise report --out report.html`: one self-contained HTML file of the main charts. */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Analytics } from '@porpoise/analytics';
import { parseAggregates, parseList, parseMode, parseWholeNumber } from '../args/values.js';
import { UsageError } from '../errors.js';
import { toJson } from '../format/json.js';
import { fmt } from '../format/text.js';
import type { Io } from '../io.js';
import { gatherReport } from '../report/data.js';
import { renderReport } from '../report/html.js';
import { type CommonFlags, openSession, type Session, settingsOf } from '../session.js';
import { VERSION } from '../version.js';

export interface ReportFlags extends CommonFlags {
  out?: string;
  active?: string;
  cohort?: string;
  counter?: string;
  buckets?: string;
  aggregate?: string[];
  days?: string;
  weeks?: string;
  top?: string;
  mode?: string;
}

export const REPORT_DEFAULTS = {
  active: 'active',
  cohort: 'signup',
  counter: 'song:played',
  buckets: 'web,ios,android',
  aggregate: 'total=web,ios,android',
  days: 30,
  weeks: 8,
  top: 10,
} as const;

export async function reportCommand(flags: ReportFlags, io: Io): Promise<void> {
  const settings = settingsOf(flags);
  const out = resolve(flags.out ?? 'porpoise-report.html');
  // The default aggregate names the default buckets: with buckets of your own, name your own.
  const aggregate =
    flags.aggregate && flags.aggregate.length > 0
      ? flags.aggregate
      : flags.buckets === undefined
        ? [REPORT_DEFAULTS.aggregate]
        : [];
  const options = {
    active: flags.active ?? REPORT_DEFAULTS.active,
    cohort: flags.cohort ?? REPORT_DEFAULTS.cohort,
    counter: flags.counter ?? REPORT_DEFAULTS.counter,
    buckets: parseList(flags.buckets ?? REPORT_DEFAULTS.buckets, '--buckets'),
    aggregates: parseAggregates(aggregate),
    days: flags.days === undefined ? REPORT_DEFAULTS.days : parseWholeNumber(flags.days, '--days', 1, 3660),
    weeks:
      flags.weeks === undefined ? REPORT_DEFAULTS.weeks : parseWholeNumber(flags.weeks, '--weeks', 1, 104),
    top: flags.top === undefined ? REPORT_DEFAULTS.top : parseWholeNumber(flags.top, '--top', 1, 100),
    zone: settings.zone,
    now: settings.now,
  };
  const mode = flags.mode === undefined ? 'exact' : parseMode(flags.mode);
  const read = (analytics: Analytics, session?: Session) =>
    gatherReport(analytics, options, {
      source: session?.source ?? { backend: 'memory', demo: false },
      description: session?.describe() ?? '',
      version: VERSION,
    });
  const session = await openSession(settings, io, { mode, check: (analytics) => read(analytics) });
  try {
    const data = await read(session.analytics, session);
    const html = renderReport(data);
    try {
      await writeFile(out, html, 'utf8');
    } catch (error) {
      // A missing folder or a read-only path is the user's --out, not a backend failure.
      const code = (error as NodeJS.ErrnoException).code;
      if (
        code === 'ENOENT' ||
        code === 'EACCES' ||
        code === 'EISDIR' ||
        code === 'ENOTDIR' ||
        code === 'EROFS'
      ) {
        throw new UsageError(`--out "${flags.out}": cannot write ${out} (${code})`);
      }
      throw error;
    }
    const bytes = Buffer.byteLength(html);
    if (settings.json) {
      io.stdout.write(toJson({ command: 'report', out, bytes, data }));
      return;
    }
    io.stdout.write(
      `Wrote ${out} (${fmt(Math.ceil(bytes / 1024))} KB): ${options.days} days of ${options.active}, ` +
        `${options.weeks} weekly ${options.cohort} cohorts, top ${options.counter}, ` +
        `${data.activity.names.length} activity buckets · ${session.describe()}\n`,
    );
  } finally {
    await session.close();
  }
}
