/** The command line: commander definitions only; each command's work is in commands/. */
import { Command } from 'commander';
import { type CollapseFlags, collapseCommand, type LookupFlags, lookupCommand } from './commands/activity.js';
import { type CohortFlags, cohortCommand } from './commands/cohort.js';
import { type CountersFlags, countersCommand } from './commands/counters.js';
import { type DeleteFlags, deleteCommand } from './commands/delete.js';
import { type DemoFlags, demoCommand } from './commands/demo.js';
import { type EventStep, type EventsFlags, eventsCommand, type StepOp } from './commands/events.js';
import { type FunnelFlags, funnelCommand } from './commands/funnel.js';
import { type LifecycleFlags, lifecycleCommand } from './commands/lifecycle.js';
import { type NamesFlags, namesCommand } from './commands/names.js';
import { type ReportFlags, reportCommand } from './commands/report.js';
import { type RetentionFlags, retentionCommand } from './commands/retention.js';
import { type ServeFlags, serveCommand } from './commands/serve.js';
import { type StatsFlags, statsCommand } from './commands/stats.js';
import { type StickinessFlags, stickinessCommand } from './commands/stickiness.js';
import { UsageError } from './errors.js';
import type { Io } from './io.js';
import { isTerminal } from './terminal.js';
import { VERSION } from './version.js';

export const DATA_SOURCE_HELP = `
Where the data comes from:
  --redis <url>   a Redis server (RedisBackend.fromUrl), keys under --prefix (default "porpoise").
  no --redis      a fresh in-process MemoryBackend. It is EMPTY unless --demo seeds it first
                  with the demo's synthetic month (--users N, default 100000); with --demo,
                  --now defaults to the demo's clock, 2026-11-24T12:00:00Z. To query the demo
                  on Redis: porpoise demo --redis <url> --keep, then --redis <url> --prefix porpoise-demo.

Ranges (--range): <unit>:<start>[..<end>], unit minute|hour|day|week|month|year.
  start and end are integer offsets from the current bucket (day:-14 is the 14 days before
  today, the end defaults to 0) or ISO 8601 dates (day:2026-11-01..2026-11-08, end exclusive).

Exit codes: 0 ok, 1 backend or connection error, 2 bad input or usage (one line on stderr).`;

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** The flags every command takes. */
function common(command: Command, options: { demo?: boolean } = {}): Command {
  command
    .option('--redis <url>', 'use a Redis server (redis:// or rediss://) instead of the in-memory backend')
    .option('--prefix <prefix>', 'the RedisBackend key prefix (default "porpoise"; needs --redis)')
    .option('--zone <iana>', 'IANA time zone of buckets, ranges and dates (default UTC)')
    .option(
      '--now <iso>',
      'pin the clock for ranges (default: the system clock; with --demo, the demo clock)',
    )
    .option('--json', 'print exact JSON instead of tables');
  if (options.demo !== false) {
    command
      .option('--demo', "seed the in-memory backend with the demo's synthetic month first (not with --redis)")
      .option('--users <n>', 'users in the --demo month (default 100000)');
  }
  return command.addHelpText('after', DATA_SOURCE_HELP);
}

export function buildProgram(io: Io): Command {
  const program = new Command('porpoise')
    .description(
      'Query Porpoise events, counters, cohorts and active users from a terminal, and render a self-contained HTML report.',
    )
    .version(VERSION, '-V, --version')
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      // Commander would ask process.stdout and process.stderr, not the writers of this run.
      getOutHasColors: () => isTerminal(io.stdout),
      getErrHasColors: () => isTerminal(io.stderr),
      // run() prints errors itself, as one "porpoise: …" line.
      outputError: () => {},
    })
    .exitOverride()
    .showSuggestionAfterError(true)
    .addHelpText('after', DATA_SOURCE_HELP);

  common(
    program
      .command('demo')
      .description('the quick start: record a synthetic month of a music app, then print what it says')
      .option('--users <n>', 'users in the synthetic month (default 100000)')
      .option('--keep', 'with --redis: write under --prefix (default "porpoise-demo") and keep the data')
      .action((flags: DemoFlags) => demoCommand(flags, io)),
    { demo: false },
  );

  const steps: EventStep[] = [];
  const step = (op: StepOp) => (name: string) => {
    steps.push({ op, name });
    return steps;
  };
  common(
    program
      .command('events')
      .description(
        'ids per bucket of an event, or of an expression over events folded left in the order given; an operand name@<range> (active@month:-1) is that event over the whole range',
      )
      .argument('<name>', 'the event, e.g. active')
      .option('--and <name>', 'AND another event (repeatable)', step('and'))
      .option('--or <name>', 'OR another event (repeatable)', step('or'))
      .option('--xor <name>', 'XOR another event (repeatable)', step('xor'))
      .option('--not <name>', 'AND NOT another event (repeatable)', step('not'))
      .option(
        '--segment <name>',
        'AND a segment, a property with no time, e.g. plan:pro (repeatable)',
        (name: string) => {
          steps.push({ op: 'and', name, segment: true });
          return steps;
        },
      )
      .option('--range <range>', 'the buckets, e.g. day:-14 or hour:-24..0 (default day:-14)')
      .option(
        '--during <range>',
        'answer the whole expression once over this range (the ids in any of its buckets), instead of per bucket',
      )
      .option('--ids', 'list the ids of each bucket (at most --limit each)')
      .option('--limit <n>', 'ids listed per bucket with --ids (default 20)')
      .option('--id <n>', 'show whether this id is in each bucket')
      .option(
        '--identities [dictionary]',
        'the events were recorded with string ids through this id dictionary (default ids): --ids lists them and --id takes one',
      )
      .action((name: string, flags: EventsFlags) => eventsCommand(name, steps, flags, io)),
  );

  common(
    program
      .command('counters')
      .description('the top ids of a counter summed over a range, and the total of each bucket')
      .argument('<key>', 'the counter key, e.g. song:played')
      .option('--range <range>', 'the buckets, e.g. hour:-24 (default hour:-24)')
      .option('--top <n>', 'how many ids to list (default 10)')
      .action((key: string, flags: CountersFlags) => countersCommand(key, flags, io)),
  );

  common(
    program
      .command('cohort')
      .description('the retention grid: each cohort, its size and the share active in each following period')
      .option('--cohort <name>', 'the event that puts an id in a cohort (default signup)')
      .option('--activity <name>', 'the event that counts as retained (default active)')
      .option('--unit <unit>', 'cohort and period unit: day, week, month… (default week)')
      .option('--periods <n>', 'following periods per cohort (default 12)')
      .option('--range <range>', 'the cohort buckets (default <unit>:-<periods>)')
      .action((flags: CohortFlags) => cohortCommand(flags, io)),
  );

  common(
    program
      .command('funnel')
      .description('how many users reached each step within a window of their step 1, and how long they took')
      .argument('<steps...>', 'the events, first step first, e.g. signup first-play subscribed')
      .option('--window <n>', 'buckets of the range unit a start has for the later steps (default 7)')
      .option('--order <order>', 'sequential, strict or any (default sequential)')
      .option('--exclude <name>', 'drop a start when this was done between step 1 and its last step')
      .option('--range <range>', 'the buckets a step 1 may fall in (default day:-30)')
      .option(
        '--breakdown <name>',
        'also the funnel of the users who did this in the range (repeatable)',
        collect,
      )
      .action((names: string[], flags: FunnelFlags) => funnelCommand(names, flags, io)),
  );

  common(
    program
      .command('retention')
      .description('the retention grid from period 0 and its size-weighted curve, exact or on-or-after')
      .option('--start <name>', 'the event that puts a user in a cohort (default signup)')
      .option('--returning <name>', 'the event that counts as coming back (default active)')
      .option('--unit <unit>', 'cohort and period unit (default week)')
      .option('--periods <n>', 'periods per cohort, period 0 included (default 8)')
      .option('--kind <kind>', 'exact or on-or-after (default exact)')
      .option('--cohort <cohort>', 'recurring or first-time (default recurring)')
      .option('--range <range>', 'the cohort buckets (default <unit>:-<periods>..1)')
      .option(
        '--breakdown <name>',
        'also the grid of the users who did this in the range (repeatable)',
        collect,
      )
      .action((flags: RetentionFlags) => retentionCommand(flags, io)),
  );

  common(
    program
      .command('lifecycle')
      .description('per period: new, returning, resurrecting and dormant users (PostHog definitions)')
      .option('--event <name>', 'what counts as active (default active)')
      .option('--unit <unit>', 'the period (default week)')
      .option('--range <range>', 'the periods (default <unit>:-4..1)')
      .action((flags: LifecycleFlags) => lifecycleCommand(flags, io)),
  );

  common(
    program
      .command('stickiness')
      .description('per week or month: how many users were active on exactly k of its days')
      .option('--event <name>', 'what counts as active (default active)')
      .option('--unit <unit>', 'week or month (default week)')
      .option('--range <range>', 'the periods (default <unit>:-1)')
      .action((flags: StickinessFlags) => stickinessCommand(flags, io)),
  );

  const activity = program
    .command('activity')
    .description('daily, weekly and monthly active users of the activity tracker')
    // Without an action commander would print the whole help to stderr: errors are one line.
    .argument('[command]')
    .allowExcessArguments()
    .action((name: string | undefined, _flags: unknown, command: Command) => {
      if (name === 'help') {
        const wanted = command.args[1];
        const sub = wanted === undefined ? undefined : command.commands.find((c) => c.name() === wanted);
        (sub ?? command).outputHelp();
        return;
      }
      throw new UsageError(
        name === undefined
          ? 'activity needs a subcommand: lookup or collapse (see porpoise activity --help)'
          : `unknown activity command "${name}": use lookup or collapse (see porpoise activity --help)`,
      );
    });
  common(
    activity
      .command('lookup')
      .description('active users per period and bucket; collapsed periods are final, others live')
      .option('--period <period>', 'daily, weekly or monthly (default daily)')
      .option('--buckets <list>', 'comma-separated buckets to report, e.g. web,ios,total (default all)')
      .option(
        '--aggregate <name=buckets>',
        'an exact union of buckets, e.g. total=web,ios (repeatable)',
        collect,
      )
      .option('--start <iso>', 'first period (default: 365 days before --end)')
      .option('--end <iso>', 'end, exclusive (default: now, so the open period is included)')
      .option('--mode <mode>', 'how the tracker stored ids: exact or approximate (default exact)')
      .action((flags: LookupFlags) => lookupCommand(flags, io)),
  );
  common(
    activity
      .command('collapse')
      .description('turn closed periods into final counts, newest first, up to the first already collapsed')
      .requiredOption(
        '--buckets <list>',
        'every bucket you track, comma-separated (a collapsed period is final)',
      )
      .option(
        '--aggregate <name=buckets>',
        'store an exact union too, e.g. total=web,ios (repeatable)',
        collect,
      )
      .option('--max-periods <n>', 'closed periods to collapse at most, per period type (default 1)')
      .option('--periods <list>', 'period types, e.g. daily,monthly (default daily)')
      .option('--date <iso>', 'collapse periods that ended by then (default now)')
      .option('--mode <mode>', 'exact or approximate (default exact)')
      .action((flags: CollapseFlags) => collapseCommand(flags, io)),
  );

  common(
    program
      .command('report')
      .description(
        'write ONE self-contained HTML file: daily actives, retention, top counters, activity by bucket',
      )
      .requiredOption('--out <file>', 'where to write the HTML, e.g. report.html')
      .option('--active <name>', 'the activity event (default active)')
      .option('--cohort <name>', 'the cohort event (default signup)')
      .option('--counter <key>', 'the counter for the top list (default song:played)')
      .option('--buckets <list>', 'activity buckets (default web,ios,android)')
      .option('--aggregate <name=buckets>', 'aggregate buckets (default total=web,ios,android)', collect)
      .option('--days <n>', 'days of daily actives, counters and activity (default 30)')
      .option('--weeks <n>', 'weekly cohorts and periods followed (default 8)')
      .option('--top <n>', 'counter ids listed (default 10)')
      .option('--mode <mode>', 'how the tracker stored ids: exact or approximate (default exact)')
      .action((flags: ReportFlags) => reportCommand(flags, io)),
  );

  common(
    program
      .command('serve')
      .description(
        'a read-only JSON API and a page of charts (trend, funnel, retention, lifecycle, activity) over HTTP',
      )
      .option('--port <n>', 'the TCP port, 0 for any free one (default 8321)')
      .option('--host <address>', 'the address to listen on (default 127.0.0.1, this machine only)')
      .option(
        '--token <token>',
        'require Authorization: Bearer <token> on every /api request (or set PORPOISE_SERVE_TOKEN)',
      )
      .action((flags: ServeFlags) => serveCommand(flags, io)),
  );

  common(
    program
      .command('names')
      .description('what has been recorded: event names, segments, counter keys and activity buckets, sorted')
      .option('--name-prefix <text>', 'only names starting with this text')
      .action((flags: NamesFlags) => namesCommand(flags, io)),
  );

  common(
    program
      .command('stats')
      .description(
        'per event, segment and counter and resolution: keys, bytes, ids, the largest id, and what retention will free',
      )
      .action((flags: StatsFlags) => statsCommand(flags, io)),
  );

  common(
    program
      .command('delete')
      .description(
        'delete every key of an event, a segment or a counter (all resolutions and buckets), or everything under the prefix',
      )
      .option('--event <name>', 'an event (repeatable)', collect)
      .option('--segment <name>', 'a segment (repeatable)', collect)
      .option('--counter <key>', 'a counter key (repeatable)', collect)
      .option('--all', 'every event, segment and counter under the prefix (activity data is kept)')
      .option('--yes', 'really delete: without it, nothing is deleted and the command says what would be')
      .action((flags: DeleteFlags) => deleteCommand(flags, io)),
    { demo: true },
  );

  return program;
}
