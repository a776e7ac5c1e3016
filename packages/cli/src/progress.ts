/**
 * A one-line progress bar on stderr, redrawn in place. Drawn only on a terminal (see
 * `isTerminal`) and never with --json: piped or machine-read output gets no carriage returns mixed into it.
 */
import { bar } from './format/chart.js';
import type { Writer } from './io.js';
import { isTerminal } from './terminal.js';

/** Redraws at most this often: a fast loop must not spend its time painting. */
const FRAME_MS = 80;

export interface Progress {
  update(done: number, total: number): void;
  /** Clears the line (the result is printed next). */
  finish(): void;
}

const silent: Progress = { update() {}, finish() {} };

export function progressBar(
  stream: Writer,
  label: string,
  enabled: boolean,
  clock = () => Date.now(),
): Progress {
  if (!enabled || !isTerminal(stream)) return silent;
  let drawn = false;
  let last = Number.NEGATIVE_INFINITY;
  return {
    update(done, total) {
      const now = clock();
      if (done < total && now - last < FRAME_MS) return;
      last = now;
      drawn = true;
      const share = total === 0 ? 1 : done / total;
      stream.write(`\r\x1b[2K${label} ${bar(done, total, 24)} ${done}/${total} ${Math.floor(share * 100)}%`);
    },
    finish() {
      if (drawn) stream.write('\r\x1b[2K');
      drawn = false;
    },
  };
}
