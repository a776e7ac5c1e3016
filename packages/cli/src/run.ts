import { CommanderError } from 'commander';
import { EXIT_OK, EXIT_USAGE, exitCodeOf, messageOf, UsageError } from './errors.js';
import { type Io, processIo } from './io.js';
import { buildProgram } from './program.js';

/** Commander's ways of ending a run that are not errors. */
const FINISHED = new Set(['commander.helpDisplayed', 'commander.version']);

/**
 * `pnpm demo -- --users 2000` hands the literal "--" through; commander would take it as the
 * end of the options. Dropped only where no argument can follow: first, or after `demo`.
 */
function withoutPassThrough(argv: readonly string[]): string[] {
  const args = argv[0] === '--' ? argv.slice(1) : [...argv];
  return args[0] === 'demo' && args[1] === '--' ? [args[0], ...args.slice(2)] : args;
}

/**
 * Runs the porpoise command line in this process: `argv` without node and the script
 * (`process.argv.slice(2)`). Resolves to the exit code: 0 ok, 1 backend or connection error,
 * 2 bad input or usage. Errors are printed as one `porpoise: <message>` line on `io.stderr`.
 */
export async function run(argv: readonly string[], io: Io = processIo()): Promise<number> {
  const args = withoutPassThrough(argv);
  try {
    if (args.length === 0) throw new UsageError('missing command (see porpoise --help)');
    const program = buildProgram(io);
    // Commander answers `help <unknown>` with the whole help on stderr; errors here are one line.
    const asked = args[0] === 'help' ? args[1] : undefined;
    if (asked !== undefined && !program.commands.some((c) => c.name() === asked)) {
      throw new UsageError(`unknown command '${asked}' (see porpoise --help)`);
    }
    await program.parseAsync(args, { from: 'user' });
    return EXIT_OK;
  } catch (error) {
    if (error instanceof CommanderError && FINISHED.has(error.code)) return error.exitCode;
    // `porpoise help …`: the help is already printed (to stderr when commander deems it an error).
    if (error instanceof CommanderError && error.code === 'commander.help') {
      return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    io.stderr.write(`porpoise: ${messageOf(error)}\n`);
    // On request only: by default a user gets one line, never a stack trace.
    if (process.env.PORPOISE_DEBUG === '1' && error instanceof Error && error.stack) {
      io.stderr.write(`${error.stack}\n`);
    }
    return exitCodeOf(error);
  }
}
