/**
 * Whether a writer may receive terminal control sequences (the progress bar's line redraws,
 * commander's help styling): only a real terminal, and not one that asks for plain text
 * (`TERM=dumb`, `NO_COLOR`). Piped, redirected or collected output never gets an escape code.
 */
import type { Writer } from './io.js';

export function isTerminal(writer: Writer, env: NodeJS.ProcessEnv = process.env): boolean {
  if (writer.isTTY !== true) return false;
  if (env.TERM === 'dumb') return false;
  return env.NO_COLOR === undefined || env.NO_COLOR === '';
}
