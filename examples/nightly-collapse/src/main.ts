/**
 * The nightly collapse as a command line job, for cron or a systemd timer:
 *
 *   tsx --conditions=@porpoise/source src/main.ts --redis redis://127.0.0.1:6379 \
 *     --buckets web,ios,android --aggregate total=web,ios,android --periods daily,monthly
 *
 * Without --redis it collapses a memory backend seeded with a week of synthetic activity,
 * twice, to show what a run does and that a second run changes nothing.
 */
import {
  type ActivityMode,
  ActivityTracker,
  MAX_COLLAPSE_PERIODS,
  PERIODS,
  type Period,
} from '@porpoise/activity';
import { type Backend, MemoryBackend, RedisBackend } from '@porpoise/storage';
import { Command, InvalidArgumentError as InvalidOptionError, Option } from 'commander';
import { type NightlyCollapseReport, runNightlyCollapse } from './job.js';
import { seedActivity } from './seed.js';

// Pinned for the seeded demo, so its output is the same every time: 02:00 UTC on 2 December
// closes the week of 25 November to 1 December, and the month of November.
const DEMO_DATE = '2026-12-02T02:00:00Z';

interface CliOptions {
  redis?: string;
  prefix: string;
  namespace: string;
  zone: string;
  mode: ActivityMode;
  buckets: string[];
  aggregate: Record<string, string[]>;
  periods: Period[];
  maxPeriods: number;
  date?: Date;
}

function list(value: string): string[] {
  const items = value.split(',').map((item) => item.trim());
  if (items.some((item) => item === '')) throw new InvalidOptionError('expected a comma-separated list');
  return items;
}

function periodList(value: string): Period[] {
  const periods = list(value);
  const unknown = periods.find((period) => !(PERIODS as readonly string[]).includes(period));
  if (unknown !== undefined)
    throw new InvalidOptionError(`unknown period "${unknown}" (${PERIODS.join(', ')})`);
  return periods as Period[];
}

function aggregate(value: string, previous: Record<string, string[]>): Record<string, string[]> {
  const match = /^([^=]+)=(.+)$/.exec(value);
  if (!match) throw new InvalidOptionError('expected name=bucket,bucket');
  return { ...previous, [match[1]!.trim()]: list(match[2]!) };
}

function count(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_COLLAPSE_PERIODS) {
    throw new InvalidOptionError(`expected an integer from 1 to ${MAX_COLLAPSE_PERIODS}`);
  }
  return n;
}

function instant(value: string): Date {
  // An explicit offset is required: without one, a date or time would be read in this
  // machine's zone (or UTC), which need not be the zone the tracker's days begin in.
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(value)) {
    throw new InvalidOptionError('expected an ISO 8601 date-time with an offset, e.g. 2026-12-02T02:00:00Z');
  }
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new InvalidOptionError('not a valid date');
  return date;
}

const program = new Command()
  .name('nightly-collapse')
  .description(
    'Collapse closed periods of Porpoise activity into counts. Idempotent; safe to run from several machines.',
  )
  .option('--redis <url>', 'the Redis to collapse (default: a memory backend seeded with a demo week)')
  .option('--prefix <prefix>', "the key prefix of the application's RedisBackend", 'porpoise')
  .option('--namespace <name>', "the ActivityTracker's prefix", 'activity')
  .option('--zone <iana>', 'the zone the tracker was created with', 'UTC')
  .addOption(
    new Option('--mode <mode>', 'the mode the tracker was created with')
      .choices(['exact', 'approximate'])
      .default('exact'),
  )
  .addOption(
    new Option('--buckets <list>', 'every bucket the application tracks, comma-separated')
      .argParser(list)
      .default(['all'], 'all'),
  )
  .addOption(
    new Option('--aggregate <name=list>', 'an exact union of buckets, e.g. total=web,ios (repeatable)')
      .argParser(aggregate)
      .default({}, 'none'),
  )
  .addOption(
    new Option('--periods <list>', `periods to collapse, of ${PERIODS.join(', ')}`)
      .argParser(periodList)
      .default(['daily'], 'daily'),
  )
  .option('--max-periods <n>', 'closed periods one run may catch up on, per period type', count, 60)
  .option('--date <iso>', `collapse periods closed by then (default: now; the demo: ${DEMO_DATE})`, instant)
  .showHelpAfterError();

// `pnpm collapse -- --redis …` may pass a literal '--' through; commander would stop there.
const argv = process.argv.slice(2);
const options = program.parse(argv[0] === '--' ? argv.slice(1) : argv, { from: 'user' }).opts<CliOptions>();

/** Columns right-aligned but the first; `groups` labels runs of columns above the header. */
function table(groups: Array<[label: string, span: number]>, header: string[], rows: string[][]): string {
  const widths = header.map((cell, i) => Math.max(cell.length, ...rows.map((row) => row[i]!.length)));
  const spanWidth = (first: number, span: number) =>
    widths.slice(first, first + span).reduce((sum, w) => sum + w, 0) + 2 * (span - 1);
  let first = 0;
  for (const [label, span] of groups) {
    // A label wider than its columns widens the group's last column.
    widths[first + span - 1]! += Math.max(0, label.length - spanWidth(first, span));
    first += span;
  }
  const line = (row: string[]) =>
    row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  first = 0;
  const labels = groups.map(([label, span]) => {
    const text = label.padEnd(spanWidth(first, span));
    first += span;
    return text;
  });
  return [
    labels.join('  ').trimEnd(),
    line(header),
    line(widths.map((w) => '─'.repeat(w))),
    ...rows.map(line),
  ].join('\n');
}

const fmt = (n: number) => n.toLocaleString('en-US');

function print(report: NightlyCollapseReport, names: string[]): void {
  for (const { period, collapsed, rows } of report.periods) {
    const active = collapsed.filter(({ before }) => Object.values(before).some((n) => n > 0));
    const empty = collapsed.length - active.length;
    console.log(
      `\n${period}: ${collapsed.length === 0 ? 'nothing to collapse' : `collapsed ${collapsed.length} period${collapsed.length === 1 ? '' : 's'}`}` +
        (empty > 0 ? ` (${empty} without activity, not shown)` : ''),
    );
    const shown = active.map(({ date, before, after }) => [
      date,
      ...names.map((name) => fmt(before[name] ?? 0)),
      '→',
      ...names.map((name) => fmt(after[name] ?? 0)),
    ]);
    if (shown.length > 0) {
      const groups: Array<[string, number]> = [
        ['', 1],
        ['live (before)', names.length],
        ['', 1],
        ['final (after)', names.length],
      ];
      console.log(table(groups, ['period', ...names, '', ...names], shown));
    }
    const open = rows.at(-1);
    if (open && !open.final) {
      console.log(
        `open: ${open.date} (live) ${names.map((name) => `${name} ${fmt(open.counts[name] ?? 0)}`).join(', ')}`,
      );
    }
    const newestFinal = rows.findLast((row) => row.final);
    if (collapsed.length === 0 && newestFinal) console.log(`newest final period: ${newestFinal.date}`);
  }
}

async function main(): Promise<void> {
  const demo = options.redis === undefined;
  const date = options.date ?? (demo ? new Date(DEMO_DATE) : new Date());
  const backend: Backend = demo
    ? new MemoryBackend()
    : RedisBackend.fromUrl(options.redis!, { prefix: options.prefix });
  const tracker = new ActivityTracker(backend, {
    periods: options.periods,
    zone: options.zone,
    prefix: options.namespace,
    mode: options.mode,
  });
  const job = {
    tracker,
    buckets: options.buckets,
    aggregateBuckets: options.aggregate,
    maxPeriods: options.maxPeriods,
    date,
  };
  const names = [...new Set([...options.buckets, ...Object.keys(options.aggregate)])];
  const aggregates = Object.entries(options.aggregate).map(
    ([name, members]) => `${name} = ${members.join(' ∪ ')}`,
  );
  try {
    console.log(`Nightly collapse at ${date.toISOString()} on the ${backend.name} backend`);
    console.log(
      `buckets ${options.buckets.join(', ')}` +
        (aggregates.length > 0 ? ` · aggregates ${aggregates.join('; ')}` : '') +
        ` · periods ${options.periods.join(', ')} · at most ${options.maxPeriods} per period`,
    );
    if (!demo) {
      print(await runNightlyCollapse(job), names);
      return;
    }
    const members = [...new Set([...options.buckets, ...Object.values(options.aggregate).flat()])];
    const seeded = await seedActivity(tracker, { buckets: members, date });
    console.log(
      `(no --redis: a memory backend seeded with ${fmt(seeded.activities)} activities of ${fmt(seeded.users)} users ` +
        `from ${seeded.from.toISOString().slice(0, 10)} to ${seeded.to.toISOString()})`,
    );
    const first = await runNightlyCollapse(job);
    print(first, names);
    console.log('\nThe same run again:');
    const second = await runNightlyCollapse(job);
    print(second, names);
    const same =
      JSON.stringify(first.periods.map((p) => p.rows)) === JSON.stringify(second.periods.map((p) => p.rows));
    console.log(
      `\nidempotent: ${same ? 'yes, every count is unchanged' : 'NO: the second run changed counts'}`,
    );
    if (!same) process.exitCode = 1;
  } finally {
    await backend.close();
  }
}

main().catch((error: unknown) => {
  console.error(`nightly-collapse: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
