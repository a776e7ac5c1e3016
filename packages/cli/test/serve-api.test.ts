/**
 * The JSON API of `porpoise serve`, through app.inject: every route answers what the library
 * computes for the same query, on the demo month in memory and on a real redis-server; bad
 * input is a 400 with a code; the token, the rate limit, the Host check and read-only-ness hold.
 */
import { Analytics, type Backend, MemoryBackend, RedisBackend } from '@porpoise/analytics';
import { type Events, funnel, lifecycle, retention } from '@porpoise/events';
import { hasRedis, redisClient, redisTargets, uniquePrefix } from '@porpoise/test-redis';
import { dayrange, weekrange } from '@porpoise/timerange';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { funnelJson } from '../src/commands/funnel.js';
import { lifecycleJson } from '../src/commands/lifecycle.js';
import { retentionJson } from '../src/commands/retention.js';
import { DEMO_NOW } from '../src/demo/seed.js';
import { expressionText, parseExpression } from '../src/serve/expression.js';
import { QueryLimiter } from '../src/serve/limit.js';
import { buildServer, type ServerOptions } from '../src/serve/server.js';
import { demoLibrary } from './support.js';

const plain = <T>(value: T): T => JSON.parse(JSON.stringify(value));
const at = { now: DEMO_NOW };

function analyticsOn(backend: Backend): Analytics {
  return new Analytics(backend, {
    now: () => DEMO_NOW,
    activity: { periods: ['daily', 'weekly', 'monthly'] },
  });
}

function serverOn(backend: Backend, options: Partial<ServerOptions> = {}): FastifyInstance {
  return buildServer({ analytics: analyticsOn(backend), zone: 'UTC', now: () => DEMO_NOW, ...options });
}

async function get(app: FastifyInstance, url: string, headers: Record<string, string> = {}) {
  const response = await app.inject({ method: 'GET', url, headers });
  return {
    status: response.statusCode,
    headers: response.headers,
    body: response.body,
    json: () => response.json(),
  };
}

const q = (params: Record<string, string | string[]>) => {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    for (const item of Array.isArray(value) ? value : [value]) search.append(key, item);
  }
  return search.toString();
};

describe('serve API on the demo month (memory)', () => {
  let lib: Awaited<ReturnType<typeof demoLibrary>>;
  let events: Events;
  let app: FastifyInstance;
  beforeAll(async () => {
    lib = await demoLibrary();
    events = lib.events;
    app = serverOn(lib.backend);
  });
  afterAll(() => app.close());

  it('/api/names lists the catalogue: events, segments, counter keys and activity buckets', async () => {
    const response = await get(app, '/api/names');
    expect(response.status).toBe(200);
    const body = response.json();
    expect(body.events).toEqual(await events.names());
    expect(body.events).toEqual(expect.arrayContaining(['active', 'signup', 'subscribed']));
    expect(body.segments).toEqual(['plan:pro']);
    expect(body.counters).toEqual(await lib.counters.keys());
    expect(body.buckets).toEqual(['android', 'ios', 'web']);
    expect(body.now).toBe(DEMO_NOW.toISOString());
    expect((await get(app, '/api/names?prefix=s')).json().events).toEqual([
      'signup',
      'song:played',
      'subscribed',
    ]);
  });

  it('/api/counts of "active AND NOT login" is the library andNot, per bucket', async () => {
    const response = await get(
      app,
      `/api/counts?${q({ expr: 'active and not login', unit: 'day', from: '-7' })}`,
    );
    expect(response.status).toBe(200);
    const body = response.json();
    const expected = await events
      .get('active')
      .andNot(events.get('login'))
      .counts(dayrange(-7, 0, at));
    expect(body.expr).toBe('active AND NOT login');
    expect(body.buckets).toEqual(
      expected.map(({ bucket, count }) => ({ key: bucket.key, start: bucket.start.toISO(), count })),
    );
    expect(body.range).toMatchObject({ unit: 'day', buckets: 7, zone: 'UTC' });
    expect(expected.some((b) => b.count > 0)).toBe(true);
  });

  it('/api/counts: precedence (AND before OR), parentheses and a segment, as text and as JSON', async () => {
    const query = events.get('signup').or(events.get('login').and(events.segment('plan:pro')));
    const expected = (await query.counts(weekrange(-3, 1, at))).map((b) => b.count);
    const text = await get(
      app,
      `/api/counts?${q({ expr: 'signup OR login AND segment:plan:pro', unit: 'week', from: '-3', to: '1' })}`,
    );
    expect(text.json().expr).toBe('signup OR login AND segment:plan:pro');
    expect(text.json().buckets.map((b: { count: number }) => b.count)).toEqual(expected);
    const tree = JSON.stringify({ or: ['signup', { and: [{ event: 'login' }, { segment: 'plan:pro' }] }] });
    const json = await get(app, `/api/counts?${q({ expr: tree, unit: 'week', from: '-3', to: '1' })}`);
    expect(json.json()).toEqual(text.json());
    const grouped = await get(
      app,
      `/api/counts?${q({ expr: '(signup or login) and segment:plan:pro', unit: 'week', from: '-3', to: '1' })}`,
    );
    const groupedExpected = await events
      .get('signup')
      .or(events.get('login'))
      .and(events.segment('plan:pro'))
      .counts(weekrange(-3, 1, at));
    expect(grouped.json().expr).toBe('(signup OR login) AND segment:plan:pro');
    expect(grouped.json().buckets.map((b: { count: number }) => b.count)).toEqual(
      groupedExpected.map((b) => b.count),
    );
    expect(groupedExpected.map((b) => b.count)).not.toEqual(expected);
  });

  it('/api/counts takes ISO dates as bounds, end exclusive', async () => {
    const body = (
      await get(app, `/api/counts?${q({ expr: 'active', from: '2026-11-01', to: '2026-11-08' })}`)
    ).json();
    expect(body.buckets.map((b: { key: string }) => b.key)).toEqual([
      '20261101',
      '20261102',
      '20261103',
      '20261104',
      '20261105',
      '20261106',
      '20261107',
    ]);
  });

  it('/api/funnel is the library funnel (steps repeated, window, order)', async () => {
    const steps = ['signup', 'first-play', 'playlist:created', 'subscribed'];
    const response = await get(
      app,
      `/api/funnel?${q({ step: steps, from: '-21', window: '5', order: 'strict' })}`,
    );
    expect(response.status).toBe(200);
    const expected = await funnel(
      { steps: steps.map((n) => events.get(n)), range: dayrange(-21, 0, at), window: 5, order: 'strict' },
      events,
    );
    expect(response.json()).toMatchObject({ events: steps, exclude: null, ...plain(funnelJson(expected)) });
    expect(expected.steps[3]!.count).toBeGreaterThan(0);
  });

  it('/api/retention is the library grid and curve', async () => {
    const response = await get(
      app,
      `/api/retention?${q({ start: 'signup', returning: 'active', periods: '4', kind: 'on-or-after' })}`,
    );
    expect(response.status).toBe(200);
    const expected = await retention(
      {
        start: events.get('signup'),
        returning: events.get('active'),
        range: weekrange(-4, 1, at),
        periods: 4,
        kind: 'on-or-after',
      },
      events,
    );
    expect(response.json()).toMatchObject({
      periods: 4,
      kind: 'on-or-after',
      ...plain(retentionJson(expected)),
    });
    expect(expected.rows.length).toBe(5);
  });

  it('/api/lifecycle is the library lifecycle', async () => {
    const response = await get(
      app,
      `/api/lifecycle?${q({ expr: 'active', unit: 'week', from: '-4', to: '1' })}`,
    );
    const expected = await lifecycle({ query: events.get('active'), range: weekrange(-4, 1, at) }, events);
    expect(response.json().periods).toEqual(plain(lifecycleJson(expected.periods)));
    expect(expected.periods.some((p) => p.resurrecting > 0)).toBe(true);
  });

  it('/api/activity is the tracker lookup, every recorded bucket by default, aggregates on request', async () => {
    const response = await get(
      app,
      `/api/activity?${q({ period: 'daily', from: '-7', aggregate: 'total=web,ios,android' })}`,
    );
    expect(response.status).toBe(200);
    const body = response.json();
    const span = dayrange(-7, 1, at);
    const expected = await lib.activity.lookup({
      period: 'daily',
      start: span.start.toJSDate(),
      end: span.end.toJSDate(),
      buckets: ['android', 'ios', 'web', 'total'],
      aggregateBuckets: { total: ['web', 'ios', 'android'] },
    });
    expect(body.buckets).toEqual(['android', 'ios', 'web', 'total']);
    expect(body.rows).toEqual(plain(expected));
    expect(expected[0]!.counts.total).toBeGreaterThan(expected[0]!.counts.web!);
  });

  describe('bad input is a 400 with a code, never a stack trace', () => {
    const cases: Array<[string, string, string, string]> = [
      [
        'unknown unit',
        `/api/counts?${q({ expr: 'active', unit: 'fortnight' })}`,
        'INVALID_PARAMETER',
        '"unit" must be one of hour, day, week, month',
      ],
      [
        'inverted range',
        `/api/counts?${q({ expr: 'active', from: '2', to: '-3' })}`,
        'INVALID_ARGUMENT',
        'starts after its end',
      ],
      [
        'huge range',
        `/api/counts?${q({ expr: 'active', unit: 'hour', from: '-100000' })}`,
        'RANGE_TOO_LARGE',
        'at most 5000',
      ],
      [
        'range past the library bound',
        `/api/funnel?${q({ step: 'signup', from: '-1000', window: '1000' })}`,
        'INVALID_ARGUMENT',
        'exceeds 200000',
      ],
      [
        'offset off the calendar',
        `/api/counts?${q({ expr: 'active', unit: 'month', from: '-99999999999' })}`,
        'INVALID_ARGUMENT',
        'offset',
      ],
      [
        'not a date',
        `/api/counts?${q({ expr: 'active', from: 'yesterday' })}`,
        'INVALID_ARGUMENT',
        'yesterday',
      ],
      [
        'unclosed parenthesis',
        `/api/counts?${q({ expr: '(active or login' })}`,
        'INVALID_EXPRESSION',
        'expr "(active or login": the parenthesis at position 1 is not closed',
      ],
      [
        'dangling operator',
        `/api/counts?${q({ expr: 'active and' })}`,
        'INVALID_EXPRESSION',
        'ends where a name was expected',
      ],
      [
        'operator as a name',
        `/api/counts?${q({ expr: 'and or active' })}`,
        'INVALID_EXPRESSION',
        '"and" at position 1 is an operator',
      ],
      [
        'bad JSON tree',
        `/api/counts?${q({ expr: '{"and":["active"]}' })}`,
        'INVALID_EXPRESSION',
        'at least two',
      ],
      [
        'unknown field',
        `/api/counts?${q({ expr: 'active', colour: 'red' })}`,
        'INVALID_PARAMETER',
        'unknown parameter "colour"',
      ],
      ['missing expr', '/api/counts', 'INVALID_PARAMETER', 'missing parameter "expr"'],
      [
        'window not a number',
        `/api/funnel?${q({ step: 'signup', window: 'seven' })}`,
        'INVALID_PARAMETER',
        '"window" must be integer',
      ],
      [
        'unknown order',
        `/api/funnel?${q({ step: 'signup', order: 'sideways' })}`,
        'INVALID_PARAMETER',
        'sequential, strict, any',
      ],
      [
        'unknown cohort kind',
        `/api/retention?${q({ start: 'signup', returning: 'active', unit: 'month', from: '-2', periods: '2', kind: 'exact', cohort: 'sometimes' })}`,
        'INVALID_PARAMETER',
        'recurring, first-time',
      ],
      ['unknown activity bucket', `/api/activity?${q({ buckets: 'web,tv' })}`, 'INVALID_ARGUMENT', 'tv'],
      [
        'bad aggregate',
        `/api/activity?${q({ aggregate: 'total' })}`,
        'INVALID_PARAMETER',
        'aggregate "total"',
      ],
    ];
    it.each(cases)('%s', async (_label, url, code, fragment) => {
      const response = await get(app, url);
      expect(response.status).toBe(400);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      const body = response.json();
      expect(Object.keys(body)).toEqual(['error']);
      expect(Object.keys(body.error).sort()).toEqual(['code', 'message']);
      expect(body.error.code).toBe(code);
      expect(body.error.message).toContain(fragment);
      expect(response.body).not.toMatch(/\bat \S+ \(|\.ts:\d+|node_modules/);
    });
  });

  it('has no write route: POST, PUT and DELETE are 405 on the API, unknown paths 404', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH'] as const) {
      const response = await app.inject({
        method,
        url: '/api/counts?expr=active',
        payload: { expr: 'active' },
      });
      expect(response.statusCode).toBe(405);
      expect(response.headers.allow).toBe('GET, HEAD');
      expect(response.json().error.code).toBe('METHOD_NOT_ALLOWED');
    }
    const missing = await get(app, '/api/track');
    expect(missing.status).toBe(404);
    expect(missing.json().error.code).toBe('NOT_FOUND');
  });

  it('serves the page and its assets from the package, with a same-origin content policy', async () => {
    const page = await get(app, '/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toContain("connect-src 'self'");
    expect(page.body).toContain('/assets/app.js');
    for (const [name, type] of [
      ['app.js', 'text/javascript'],
      ['style.css', 'text/css'],
      ['uPlot.esm.js', 'text/javascript'],
      ['uPlot.min.css', 'text/css'],
    ]) {
      const asset = await get(app, `/assets/${name}`);
      expect(asset.status, name).toBe(200);
      expect(asset.headers['content-type']).toContain(type);
      expect(asset.body.length).toBeGreaterThan(100);
    }
    expect((await get(app, '/assets/uPlot.esm.js')).body).toContain('export');
    expect((await get(app, '/assets/..%2Fpackage.json')).status).toBe(404);
  });

  it('refuses a Host header other than loopback (DNS rebinding)', async () => {
    const response = await get(app, '/api/names', { host: 'attacker.example:8321' });
    expect(response.status).toBe(403);
    expect(response.json().error.code).toBe('FORBIDDEN_HOST');
    expect((await get(app, '/api/names', { host: '127.0.0.1:8321' })).status).toBe(200);
  });

  describe('--token', () => {
    let guarded: FastifyInstance;
    beforeAll(() => {
      guarded = serverOn(lib.backend, { token: 's3cret-token' });
    });
    afterAll(() => guarded.close());

    it('every /api route is 401 without the bearer token or with a wrong one, 200 with it', async () => {
      for (const url of [
        '/api/names',
        '/api/counts?expr=active',
        '/api/funnel?step=signup',
        '/api/activity',
      ]) {
        const without = await get(guarded, url);
        expect(without.status, url).toBe(401);
        expect(without.headers['www-authenticate']).toBe('Bearer');
        expect(without.json().error).toEqual({
          code: 'UNAUTHORIZED',
          message: 'missing Authorization: Bearer <token>',
        });
        const wrong = await get(guarded, url, { authorization: 'Bearer s3cret-tokem' });
        expect(wrong.status).toBe(401);
        expect(wrong.json().error.message).toBe('wrong token');
        expect((await get(guarded, url, { authorization: 'Basic s3cret-token' })).status).toBe(401);
        expect((await get(guarded, url, { authorization: 'Bearer s3cret-token' })).status, url).toBe(200);
      }
    });

    it('is required however the path is spelt, and on paths that do not exist', async () => {
      for (const url of [
        '/%61pi/names',
        '/api/names/',
        '/api//counts?expr=active',
        '/api/nothing',
        '/elsewhere',
      ]) {
        const response = await get(guarded, url);
        expect(response.status, url).toBe(401);
        expect(response.body).not.toContain('events');
      }
      expect((await get(guarded, '/%61pi/names', { authorization: 'Bearer s3cret-token' })).status).toBe(200);
    });

    it('the page itself holds no data and loads without the token (it asks for one)', async () => {
      expect((await get(guarded, '/')).status).toBe(200);
      expect((await get(guarded, '/assets/app.js')).status).toBe(200);
    });
  });

  describe('rate limit', () => {
    it('refuses the query past perMinute with 429 and Retry-After; the catalogue is not limited', async () => {
      const limited = serverOn(lib.backend, { limits: { perMinute: 2 }, limiterClock: () => 90_000 });
      try {
        expect((await get(limited, '/api/counts?expr=active')).status).toBe(200);
        expect((await get(limited, '/api/lifecycle?expr=active')).status).toBe(200);
        const refused = await get(limited, '/api/counts?expr=active');
        expect(refused.status).toBe(429);
        expect(refused.headers['retry-after']).toBe('30');
        expect(refused.json().error.code).toBe('RATE_LIMITED');
        expect((await get(limited, '/api/names')).status).toBe(200);
      } finally {
        await limited.close();
      }
    });

    it('a malformed request takes no slot and a failed one gives its slot back', async () => {
      const limited = serverOn(lib.backend, { limits: { concurrent: 1, perMinute: 2 } });
      try {
        expect((await get(limited, '/api/counts?expr=active&unit=year')).status).toBe(400);
        // Admitted, then refused by the library: the slot is released.
        expect((await get(limited, '/api/counts?expr=active&from=5&to=1')).status).toBe(400);
        expect((await get(limited, '/api/counts?expr=active')).status).toBe(200);
        expect((await get(limited, '/api/counts?expr=active')).status).toBe(429);
      } finally {
        await limited.close();
      }
    });
  });
});

describe('serve API when the backend fails', () => {
  it('is a 503 with the backend error code, naming host:port, never the URL password', async () => {
    const backend = RedisBackend.fromUrl('redis://:hunter2-password@127.0.0.1:1');
    const app = serverOn(backend);
    try {
      for (const url of ['/api/counts?expr=active', '/api/names']) {
        const response = await get(app, url);
        expect(response.status).toBe(503);
        expect(response.json()).toEqual({
          error: {
            code: 'CONNECTION_ERROR',
            message: 'Redis at 127.0.0.1:1 could not be reached: connection refused',
          },
        });
        expect(response.body).not.toContain('hunter2');
      }
    } finally {
      await app.close();
      await backend.close();
    }
  });
});

describe('serve API on an unexpected error', () => {
  it('is a 500 without the details, which go to onInternalError', async () => {
    const seen: Array<[string, string]> = [];
    const analytics = analyticsOn(new MemoryBackend());
    const broken = Object.create(analytics, {
      names: {
        value: () => {
          throw new TypeError('secret internals at /srv/app.ts:12');
        },
      },
    }) as Analytics;
    const app = buildServer({
      analytics: broken,
      zone: 'UTC',
      onInternalError: (error, request) => seen.push([(error as Error).message, request]),
    });
    try {
      const response = await get(app, '/api/names?prefix=a');
      expect(response.status).toBe(500);
      expect(response.json()).toEqual({
        error: {
          code: 'INTERNAL',
          message: 'internal error: the server printed the details on its standard error',
        },
      });
      expect(seen).toEqual([['secret internals at /srv/app.ts:12', 'GET /api/names?prefix=a']]);
    } finally {
      await app.close();
    }
  });
});

describe('the expression grammar', () => {
  const normal = (text: string) => expressionText(parseExpression(text));

  it('binds NOT, then AND, then XOR, then OR; keywords in any case', () => {
    expect(parseExpression('a OR b and NOT c xor d')).toEqual({
      kind: 'or',
      args: [
        { kind: 'event', name: 'a' },
        {
          kind: 'xor',
          args: [
            {
              kind: 'and',
              args: [
                { kind: 'event', name: 'b' },
                { kind: 'not', arg: { kind: 'event', name: 'c' } },
              ],
            },
            { kind: 'event', name: 'd' },
          ],
        },
      ],
    });
    expect(normal('a OR b and NOT c xor d')).toBe('a OR b AND NOT c XOR d');
    expect(normal('(a or b) and not (c or d)')).toBe('(a OR b) AND NOT (c OR d)');
  });

  it('reads quoted names (spaces, parentheses, operator spellings) and quoted segments', () => {
    expect(parseExpression('"and" and "song (live)" and segment:"plan: pro"')).toEqual({
      kind: 'and',
      args: [
        { kind: 'event', name: 'and' },
        { kind: 'event', name: 'song (live)' },
        { kind: 'segment', name: 'plan: pro' },
      ],
    });
    expect(normal('"and" and "song (live)" and segment:"plan: pro"')).toBe(
      '"and" AND "song (live)" AND segment:"plan: pro"',
    );
    expect(normal('"segment:x" or playlist:created')).toBe('"segment:x" OR playlist:created');
  });

  it('echoes text that parses back to the same tree', () => {
    for (const text of [
      'not (a and b)',
      'a xor (b or c)',
      '((a))',
      'not not a',
      '{"xor":["a",{"not":{"segment":"p"}}]}',
    ]) {
      const tree = parseExpression(text);
      expect(parseExpression(expressionText(tree)), text).toEqual(tree);
    }
  });

  it('refuses malformed input with the position, and bounds the size', () => {
    expect(() => parseExpression('')).toThrow('is empty');
    expect(() => parseExpression('a b')).toThrow('unexpected "b" at position 3');
    expect(() => parseExpression('a and )')).toThrow('unexpected ")" at position 7');
    expect(() => parseExpression('"open')).toThrow('unclosed quote at position 1');
    expect(() => parseExpression('segment:')).toThrow('an empty segment name at position 1');
    expect(() => parseExpression(Array.from({ length: 33 }, (_, k) => `e${k}`).join(' or '))).toThrow(
      'more than 32 operands',
    );
    expect(() => parseExpression(`${'('.repeat(20)}a${')'.repeat(20)}`)).toThrow(
      'nested deeper than 16 levels',
    );
    expect(() => parseExpression('x'.repeat(2001))).toThrow('longer than 2000 characters');
    expect(() => parseExpression('{"event":"a","or":[]}')).toThrow('exactly one key');
    expect(() => parseExpression('{"nand":["a","b"]}')).toThrow('unknown key "nand"');
    expect(() => parseExpression('[1]')).toThrow('expected a name or an object');
  });
});

describe('QueryLimiter', () => {
  it('admits `concurrent` queries at once and the next after a release', () => {
    const limiter = new QueryLimiter({ concurrent: 2, perMinute: 100 }, () => 0);
    const first = limiter.admit();
    const second = limiter.admit();
    expect([first.ok, second.ok]).toEqual([true, true]);
    expect(limiter.admit()).toEqual({ ok: false, reason: 'concurrent', retryAfterSeconds: 1 });
    if (first.ok) {
      first.release();
      first.release();
    }
    expect(limiter.admit().ok).toBe(true);
    expect(limiter.admit().ok).toBe(false);
  });

  it('counts starts per clock minute and starts afresh in the next', () => {
    let now = 60_000 * 7 + 45_000;
    const limiter = new QueryLimiter({ concurrent: 10, perMinute: 1 }, () => now);
    const first = limiter.admit();
    expect(first.ok).toBe(true);
    expect(limiter.admit()).toEqual({ ok: false, reason: 'rate', retryAfterSeconds: 15 });
    now = 60_000 * 8;
    expect(limiter.admit().ok).toBe(true);
  });

  it('refuses limits that are not whole numbers from 1', () => {
    expect(() => new QueryLimiter({ concurrent: 0 })).toThrow(
      'limits.concurrent must be a whole number >= 1, not 0',
    );
    expect(() => new QueryLimiter({ perMinute: 1.5 })).toThrow('limits.perMinute');
  });
});

/** A small, fixed workload: enough for every route to have non-zero numbers. */
async function seedSmall(analytics: Analytics): Promise<void> {
  const day = (n: number, hour = 10) => Date.UTC(2026, 10, n, hour);
  const records: Array<{ name: string; id: number; at: number }> = [];
  for (let id = 0; id < 40; id++) {
    const joined = 2 + (id % 14);
    records.push({ name: 'signup', id, at: day(joined) });
    for (let d = joined; d <= 23; d += 1 + (id % 4)) records.push({ name: 'active', id, at: day(d) });
    if (id % 3 === 0) records.push({ name: 'purchase', id, at: day(Math.min(23, joined + (id % 5))) });
  }
  await analytics.eventMany(records);
  await analytics.markMany([0, 5, 10, 15, 20, 25].map((id) => ({ name: 'plan:pro', id })));
  await analytics.activity.trackMany(
    records
      .filter((r) => r.name === 'active')
      .map((r) => ({ id: r.id, bucket: r.id % 2 === 0 ? 'web' : 'ios', date: r.at })),
  );
}

const ROUTES = [
  '/api/names',
  `/api/counts?${q({ expr: 'active and not purchase or segment:plan:pro', from: '-14' })}`,
  `/api/counts?${q({ expr: 'active xor signup', unit: 'hour', from: '2026-11-20', to: '2026-11-21' })}`,
  `/api/funnel?${q({ step: ['signup', 'active', 'purchase'], from: '-21', window: '3' })}`,
  `/api/retention?${q({ start: 'signup', returning: 'active', periods: '3', unit: 'week' })}`,
  `/api/lifecycle?${q({ expr: 'active', unit: 'week' })}`,
  `/api/activity?${q({ period: 'weekly', from: '-4', aggregate: 'both=web,ios' })}`,
];

describe.skipIf(!hasRedis())('serve API on a real redis-server', () => {
  const prefix = uniquePrefix('serve');
  let redis: RedisBackend;
  let onRedis: FastifyInstance;
  let onMemory: FastifyInstance;
  let analytics: Analytics;

  beforeAll(async () => {
    const { host, port } = redisTargets().standalone!;
    redis = RedisBackend.fromUrl(`redis://${host}:${port}`, { prefix });
    analytics = analyticsOn(redis);
    await seedSmall(analytics);
    const memory = new MemoryBackend();
    await seedSmall(analyticsOn(memory));
    onRedis = buildServer({ analytics, zone: 'UTC', now: () => DEMO_NOW });
    onMemory = serverOn(memory);
  });
  afterAll(async () => {
    await onRedis?.close();
    await onMemory?.close();
    await redis?.close();
    const client = redisClient();
    const keys = await client.keys(`${prefix}:*`);
    if (keys.length > 0) await client.del(...keys);
    await client.quit();
  });

  it.each(ROUTES)('%s answers 200 and the same on redis as on memory', async (url) => {
    const [a, b] = await Promise.all([get(onRedis, url), get(onMemory, url)]);
    expect(a.status, a.body).toBe(200);
    expect(a.json()).toEqual({ ...b.json(), ...(url === '/api/names' ? { source: 'redis' } : {}) });
  });

  it('/api/counts and /api/funnel equal the library on redis', async () => {
    const counts = (await get(onRedis, ROUTES[1]!)).json();
    const expected = await analytics
      .events('active')
      .andNot(analytics.events('purchase'))
      .or(analytics.segment('plan:pro'))
      .counts(dayrange(-14, 0, at));
    expect(counts.buckets.map((b: { count: number }) => b.count)).toEqual(expected.map((b) => b.count));
    expect(expected.some((b) => b.count > 6)).toBe(true);
    const funnelBody = (await get(onRedis, ROUTES[3]!)).json();
    const expectedFunnel = await analytics.funnel({
      steps: ['signup', 'active', 'purchase'].map((n) => analytics.events(n)),
      range: dayrange(-21, 0, at),
      window: 3,
    });
    expect(funnelBody.steps).toEqual(expectedFunnel.steps);
    expect(expectedFunnel.steps[2]!.count).toBeGreaterThan(0);
  });

  it('/api/names on redis lists what was seeded', async () => {
    const body = (await get(onRedis, '/api/names')).json();
    expect(body).toMatchObject({
      events: ['active', 'purchase', 'signup'],
      segments: ['plan:pro'],
      counters: [],
      buckets: ['ios', 'web'],
    });
  });

  it('a bad parameter is the same 400 on redis', async () => {
    const response = await get(
      onRedis,
      `/api/lifecycle?${q({ expr: 'active', unit: 'week', from: '3', to: '1' })}`,
    );
    expect(response.status).toBe(400);
    expect(response.json().error.code).toBe('INVALID_ARGUMENT');
  });
});
