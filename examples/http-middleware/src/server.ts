/**
 * A Fastify server that records product analytics as a side effect of serving requests:
 * every authenticated request marks its user `active` today, playing a song records who
 * played and which song, and `/stats/*` reads the numbers back.
 */
import { type Analytics, BackendError, dayrange } from '@porpoise/analytics';
import Fastify, { type FastifyInstance, type FastifyRequest, type FastifyServerOptions } from 'fastify';

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated user, or null for an anonymous request. */
    userId: number | null;
  }
  interface FastifyInstance {
    /** Resolves when every analytics write started so far has settled (stored or logged). */
    recordingsSettled(): Promise<void>;
  }
}

/**
 * A stand-in for real authentication: a fixed table of bearer tokens. In an application this
 * is your session lookup or JWT verification; all the analytics hook needs is a numeric user
 * id (event ids are bit offsets, so they must be integers in [0, 2^32)).
 */
export const DEMO_TOKENS: ReadonlyMap<string, number> = new Map([
  ['alice-token', 1],
  ['bob-token', 2],
  ['carol-token', 3],
]);

export interface ServerOptions {
  analytics: Analytics;
  /** The clock for recording and for "today". Default: the system clock. */
  now?: () => Date;
  /** Bearer token -> user id. Default: DEMO_TOKENS. */
  tokens?: ReadonlyMap<string, number>;
  /** Fastify's logger option. Default: off. */
  logger?: FastifyServerOptions['logger'];
}

export interface DauDay {
  date: string;
  dau: number;
}

const MAX_DAYS = 366;

export function buildServer({
  analytics,
  now = () => new Date(),
  tokens = DEMO_TOKENS,
  logger = false,
}: ServerOptions): FastifyInstance {
  const app = Fastify({ logger });
  app.decorateRequest('userId', null);

  // Analytics is best effort: a slow or unreachable store must not slow down or fail the
  // request, so writes are not awaited by the handler. They are kept here so that closing
  // the server (and tests) can wait for the ones still in flight.
  const inFlight = new Set<Promise<void>>();
  function record(request: FastifyRequest, what: string, write: () => Promise<void>): void {
    const settled = write().catch((error: unknown) => {
      request.log.error({ err: error, userId: request.userId }, `analytics: recording ${what} failed`);
    });
    inFlight.add(settled);
    void settled.finally(() => inFlight.delete(settled));
  }
  app.decorate('recordingsSettled', async () => {
    await Promise.all([...inFlight]);
  });
  app.addHook('onClose', () => app.recordingsSettled());

  app.addHook('onRequest', async (request, reply) => {
    const header = request.headers.authorization;
    if (header === undefined) return;
    const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
    const userId = token === undefined ? undefined : tokens.get(token);
    if (userId === undefined) {
      // A wrong token is an error, not anonymity: the client believes it is logged in.
      return reply.code(401).send({ error: 'invalid bearer token' });
    }
    request.userId = userId;
    // Requests arriving in the same tick share one backend write (analytics.event coalesces).
    record(request, 'active', () => analytics.event('active', userId, now()));
  });

  app.setErrorHandler((error, request, reply) => {
    if (BackendError.isInstance(error)) {
      request.log.error({ err: error }, 'analytics: store unavailable');
      return reply.code(503).send({ error: 'analytics store unavailable' });
    }
    return reply.send(error);
  });

  app.get<{ Params: { id: string } }>(
    '/songs/:id/play',
    {
      schema: {
        params: {
          type: 'object',
          properties: { id: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' } },
          required: ['id'],
        },
      },
    },
    async (request, reply) => {
      const userId = request.userId;
      if (userId === null) return reply.code(401).send({ error: 'log in to play songs' });
      const song = request.params.id;
      const at = now();
      record(request, 'song:played', async () => {
        await Promise.all([
          analytics.event('song:played', userId, at),
          analytics.count('song:played', song, 1, at),
        ]);
      });
      // Stands in for streaming the audio.
      return { playing: song, user: userId };
    },
  );

  app.get<{ Querystring: { days?: number } }>(
    '/stats/dau',
    {
      schema: {
        querystring: {
          type: 'object',
          properties: { days: { type: 'integer', minimum: 1, maximum: MAX_DAYS } },
          additionalProperties: false,
        },
      },
    },
    async (request) => {
      const { days } = request.query;
      const range = dayrange(-((days ?? 1) - 1), 1, { now: now() });
      const active = analytics.events('active');
      const perDay: DauDay[] = (await active.counts(range)).map(({ bucket, count }) => ({
        date: bucket.start.toFormat('yyyy-MM-dd'),
        dau: count,
      }));
      if (days === undefined) return perDay[0];
      // Unique users over the days: the union of the daily bitmaps, not the sum of the DAUs.
      return { days: perDay, unique: (await active.union(range)).size };
    },
  );

  app.get<{ Querystring: { top?: number } }>(
    '/stats/songs',
    {
      schema: {
        querystring: {
          type: 'object',
          properties: { top: { type: 'integer', minimum: 1, maximum: 100 } },
          additionalProperties: false,
        },
      },
    },
    async (request) => {
      const today = dayrange(0, 1, { now: now() });
      const snapshot = await analytics.counters('song:played').sum(today);
      return {
        date: today.start.toFormat('yyyy-MM-dd'),
        plays: snapshot.total,
        top: snapshot.top(request.query.top ?? 5).map(([song, plays]) => ({ song, plays })),
      };
    },
  );

  return app;
}
