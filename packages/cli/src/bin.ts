#!/usr/bin/env node
import { run } from './run.js';

// `porpoise events … | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => stream.write('', () => resolve()));
}

const code = await run(process.argv.slice(2));
// Exit once the output is flushed rather than when the loop drains: an ioredis client that
// never reached its server keeps a timer alive for seconds after close.
await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
process.exit(code);
