/**
 * `porpoise serve [--port 8321] [--host 127.0.0.1] [--token T]`: the JSON API and its page,
 * until SIGINT or SIGTERM; then the server and the backend are closed.
 */
import { isIP } from 'node:net';
import { parseWholeNumber } from '../args/values.js';
import { messageOf, UsageError } from '../errors.js';
import type { Io } from '../io.js';
import { buildServer, LOOPBACK_HOSTS } from '../serve/server.js';
import { type CommonFlags, openSession, settingsOf } from '../session.js';

export interface ServeFlags extends CommonFlags {
  port?: string;
  host?: string;
  token?: string;
}

export const DEFAULT_PORT = 8321;
export const DEFAULT_HOST = '127.0.0.1';
/** The token can come from the environment, so it stays out of `ps` and shell history. */
export const TOKEN_VARIABLE = 'PORPOISE_SERVE_TOKEN';

function isLoopback(host: string): boolean {
  return LOOPBACK_HOSTS.includes(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function urlOf(host: string, port: number): string {
  return `http://${isIP(host) === 6 ? `[${host}]` : host}:${port}/`;
}

/** Resolves once a signal asks the process to stop. */
function stopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

export async function serveCommand(flags: ServeFlags, io: Io): Promise<void> {
  const settings = settingsOf(flags);
  const port = flags.port === undefined ? DEFAULT_PORT : parseWholeNumber(flags.port, '--port', 0, 65535);
  const host = flags.host ?? DEFAULT_HOST;
  if (host === '') throw new UsageError('--host is empty: give an address such as 127.0.0.1');
  const token = flags.token ?? process.env[TOKEN_VARIABLE];
  if (token !== undefined && (token.length < 8 || /\s/.test(token))) {
    throw new UsageError('--token must be at least 8 characters without spaces');
  }
  const loopback = isLoopback(host);
  // A pinned clock (--now, or the demo's) stays pinned; otherwise "today" moves on while serving.
  const pinned = flags.now !== undefined || settings.demo;
  const session = await openSession(settings, io, pinned ? {} : { clock: () => new Date() });
  const app = buildServer({
    analytics: session.analytics,
    zone: settings.zone,
    now: pinned ? () => settings.now : () => new Date(),
    source: session.describe(),
    ...(token === undefined ? {} : { token }),
    // Behind a public address the Host header is whatever the clients use.
    allowedHosts: loopback ? [...LOOPBACK_HOSTS, host] : null,
    onInternalError: (error, request) => {
      io.stderr.write(`porpoise serve: internal error on ${request}: ${messageOf(error)}\n`);
      if (process.env.PORPOISE_DEBUG === '1' && error instanceof Error && error.stack) {
        io.stderr.write(`${error.stack}\n`);
      }
    },
  });
  try {
    await app.listen({ port, host });
    const address = app.server.address();
    const bound = typeof address === 'object' && address !== null ? address.port : port;
    const url = urlOf(host, bound);
    if (settings.json) {
      // One line, unlike other commands' --json: a script reads it and keeps the process running.
      io.stdout.write(
        `${JSON.stringify({ command: 'serve', url, token: token !== undefined, source: session.source })}\n`,
      );
    } else {
      io.stdout.write(
        `porpoise serve: ${url} · ${session.describe()}${token === undefined ? '' : ' · token required'}\n` +
          `(read-only JSON API under ${url}api/; Ctrl-C stops)\n`,
      );
    }
    if (!loopback && token === undefined) {
      io.stderr.write(
        `porpoise serve: warning: listening on ${host} without --token: anyone who can reach it can read every event\n`,
      );
    }
    await stopSignal();
  } finally {
    await app.close();
    await session.close();
  }
}
