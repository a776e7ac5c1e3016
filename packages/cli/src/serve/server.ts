/**
 * `buildServer(options)`: the Fastify instance of `porpoise serve`, not yet listening, so
 * tests drive it with `app.inject`. Read-only by design: GET routes only, no route writes.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Analytics } from '@porpoise/analytics';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { loadAssets } from './assets.js';
import { ApiError, type InternalErrorListener, sendError } from './errors.js';
import { type LimitOptions, QueryLimiter } from './limit.js';
import { registerRoutes } from './routes.js';

export interface ServerOptions {
  analytics: Analytics;
  /** IANA zone of buckets and ranges. */
  zone: string;
  /** The clock ranges are counted from: live by default, pinned with --now or --demo. */
  now?: () => Date;
  /** When set, every request but the page and its assets needs `Authorization: Bearer <token>`. */
  token?: string;
  limits?: LimitOptions;
  /** One line naming where the data lives, shown by the page (never a password). */
  source?: string;
  /**
   * Host names the Host header may carry. Bound to a loopback address the default is the
   * loopback names only, so a web page on another origin cannot reach the API through DNS
   * rebinding; `null` accepts any host (bound to a public address, use --token).
   */
  allowedHosts?: readonly string[] | null;
  logger?: boolean;
  /** Told about each unexpected error (a 500, whose details the client does not get). */
  onInternalError?: InternalErrorListener;
  /** The limiter's clock (tests). */
  limiterClock?: () => number;
}

export const LOOPBACK_HOSTS: readonly string[] = ['localhost', '127.0.0.1', '[::1]', '::1'];

/** What the page may load and where it may connect: its own origin and nothing else. */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  // uPlot sizes its elements through style attributes.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function hostnameOf(header: string | undefined): string {
  if (header === undefined) return '';
  // "[::1]:8321" keeps its brackets; "localhost:8321" loses the port.
  const match = /^(\[[^\]]*\]|[^:]*)(?::\d+)?$/.exec(header);
  return (match?.[1] ?? header).toLowerCase();
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A query route: admitted by the limiter. */
    query?: boolean;
    /** Served without the token: the page and its assets, which hold no data. */
    public?: boolean;
  }
}

export function buildServer(options: ServerOptions): FastifyInstance {
  const now = options.now ?? (() => new Date());
  const app = Fastify({
    logger: options.logger === true,
    // Unknown parameters are errors (a misspelt one would otherwise be silently ignored).
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
    // No body is ever read: the API has no write route.
    bodyLimit: 1024,
  });
  const limiter = new QueryLimiter(options.limits, options.limiterClock);
  const expected = options.token === undefined ? undefined : digest(options.token);
  const allowedHosts = options.allowedHosts === undefined ? LOOPBACK_HOSTS : options.allowedHosts;
  const { page, assets } = loadAssets();

  app.setErrorHandler((error, request, reply) => sendError(request, reply, error, options.onInternalError));

  const knownPaths = new Set<string>();
  app.addHook('onRoute', (route) => {
    knownPaths.add(route.url);
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]!;
    if (knownPaths.has(path) && request.method !== 'GET' && request.method !== 'HEAD') {
      reply.header('allow', 'GET, HEAD');
      return sendError(
        request,
        reply,
        new ApiError(405, 'METHOD_NOT_ALLOWED', `${request.method} ${path}: the API is read-only, use GET`),
      );
    }
    return sendError(request, reply, new ApiError(404, 'NOT_FOUND', `no route ${request.method} ${path}`));
  });

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('cache-control', 'no-store');
    if (allowedHosts !== null && !allowedHosts.includes(hostnameOf(request.headers.host))) {
      throw new ApiError(
        403,
        'FORBIDDEN_HOST',
        `the Host header "${request.headers.host ?? ''}" is not allowed`,
      );
    }
    // Deny by default: only the page and its assets are public. Matching on request.url would
    // miss /%61pi/names, which the router decodes to /api/names.
    if (expected !== undefined && request.routeOptions.config.public !== true) {
      const header = request.headers.authorization ?? '';
      const given = header.startsWith('Bearer ') ? digest(header.slice('Bearer '.length)) : undefined;
      if (given === undefined || !timingSafeEqual(given, expected)) {
        reply.header('www-authenticate', 'Bearer');
        throw new ApiError(
          401,
          'UNAUTHORIZED',
          header === '' ? 'missing Authorization: Bearer <token>' : 'wrong token',
        );
      }
    }
  });

  const running = new WeakMap<FastifyRequest, () => void>();
  // After validation (preHandler), so a malformed request never takes a slot.
  app.addHook('preHandler', async (request, reply) => {
    if (request.routeOptions.config.query !== true) return;
    const admission = limiter.admit();
    if (!admission.ok) {
      reply.header('retry-after', String(admission.retryAfterSeconds));
      throw new ApiError(
        429,
        'RATE_LIMITED',
        admission.reason === 'rate'
          ? `more than ${limiter.perMinute} queries this minute: retry in ${admission.retryAfterSeconds} s`
          : `${limiter.concurrent} queries are already running: retry shortly`,
      );
    }
    running.set(request, admission.release);
  });
  // onResponse runs after a failed handler too; an aborted request gets no response.
  const release = async (request: FastifyRequest) => {
    running.get(request)?.();
    running.delete(request);
  };
  app.addHook('onResponse', release);
  app.addHook('onRequestAbort', release);

  registerRoutes(app, {
    analytics: options.analytics,
    zone: options.zone,
    now,
    source: options.source ?? options.analytics.backend.name,
  });

  app.get('/', { config: { public: true } }, async (_request, reply) =>
    reply.type(page.type).header('content-security-policy', CONTENT_SECURITY_POLICY).send(page.body),
  );
  app.get<{ Params: { name: string } }>(
    '/assets/:name',
    { config: { public: true } },
    async (request, reply) => {
      const asset = assets.get(request.params.name);
      if (asset === undefined) throw new ApiError(404, 'NOT_FOUND', `no asset ${request.params.name}`);
      return reply.type(asset.type).send(asset.body);
    },
  );

  return app;
}
