import { PorpoiseError } from '@porpoise/analytics';
import { CommanderError } from 'commander';

/** Bad input found by the CLI itself (a flag's value, a combination of flags). Exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const EXIT_OK = 0;
/** The backend failed or could not be reached (and anything unexpected). */
export const EXIT_FAILURE = 1;
/** Bad input or usage: nothing was written. */
export const EXIT_USAGE = 2;

export function exitCodeOf(error: unknown): number {
  if (error instanceof UsageError || error instanceof CommanderError) return EXIT_USAGE;
  if (PorpoiseError.isInstance(error) && error.code === 'INVALID_ARGUMENT') return EXIT_USAGE;
  return EXIT_FAILURE;
}

/** The error as one line: scripts read stderr line by line, and a stack trace helps no user. */
export function messageOf(error: unknown): string {
  let message = error instanceof Error ? error.message : String(error);
  // Commander prefixes its own messages; ours carry the program name instead.
  if (error instanceof CommanderError) message = message.replace(/^error: /, '');
  return message.replace(/\s*\n\s*/g, ' ').trim() || 'unknown error';
}
