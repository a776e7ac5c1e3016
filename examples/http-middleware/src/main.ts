/**
 * Runs the server of ./server.ts.
 *
 *   tsx --conditions=@porpoise/source src/main.ts                 # serve on :3000 until Ctrl-C
 *   tsx --conditions=@porpoise/source src/main.ts --smoke         # start, make requests, stop
 *   REDIS_URL=redis://127.0.0.1:6379 tsx … src/main.ts            # on Redis (or --redis <url>)
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Analytics, type Backend, MemoryBackend, RedisBackend } from '@porpoise/analytics';
import { buildServer } from './server.js';

// `pnpm start -- --smoke` passes a literal '--' through; parseArgs would stop there.
const argv = process.argv.slice(2);
const { values: args } = parseArgs({
  args: argv[0] === '--' ? argv.slice(1) : argv,
  options: {
    smoke: { type: 'boolean', default: false },
    redis: { type: 'string' },
    prefix: { type: 'string', default: 'porpoise' },
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '3000' },
  },
});

const redisUrl = args.redis ?? process.env.REDIS_URL;
// The smoke run writes under a throwaway prefix so it never mixes with real data.
const prefix = args.smoke ? `porpoise-smoke-${randomBytes(3).toString('hex')}` : args.prefix;
const backend: Backend = redisUrl ? RedisBackend.fromUrl(redisUrl, { prefix }) : new MemoryBackend();
const analytics = new Analytics(backend);

async function smoke(): Promise<void> {
  const app = buildServer({ analytics, logger: { level: 'warn' } });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  console.log(`Porpoise + Fastify smoke run on the ${backend.name} backend (a free port on 127.0.0.1)\n`);
  const requests: Array<[path: string, token?: string]> = [
    ['/stats/dau'],
    ['/songs/42/play', 'alice-token'],
    ['/songs/42/play', 'bob-token'],
    ['/songs/7/play', 'alice-token'],
    ['/songs/7/play'],
    ['/songs/7/play', 'forged-token'],
    ['/stats/dau', 'carol-token'],
    ['/stats/dau?days=3'],
    ['/stats/songs'],
  ];
  try {
    for (const [path, token] of requests) {
      const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
      const response = await fetch(base + path, { headers });
      const who = token ? `Bearer ${token}` : 'anonymous';
      console.log(`GET ${path.padEnd(17)} ${who.padEnd(20)} -> ${response.status} ${await response.text()}`);
      // Recording is not awaited by the handlers; wait here so each line shows the previous ones.
      await app.recordingsSettled();
    }
  } finally {
    await app.close();
    if (redisUrl) {
      const keys = await backend.keys();
      if (keys.length > 0) await backend.write([{ op: 'delete', keys }]);
    }
    await analytics.close();
  }
  console.log('\nserver closed');
}

async function serve(): Promise<void> {
  const app = buildServer({ analytics, logger: true });
  const stop = async () => {
    await app.close();
    await analytics.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await app.listen({ host: args.host, port: Number(args.port) });
  console.log(
    `Try: curl -H 'Authorization: Bearer alice-token' http://${args.host}:${args.port}/songs/42/play`,
  );
}

(args.smoke ? smoke() : serve()).catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
  void analytics.close();
});
