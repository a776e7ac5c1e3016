/**
 * The JSON API: GET routes only, each a thin translation from validated query parameters to
 * one library call. The answers reuse the shapes of the CLI's --json output.
 */
import {
  type Analytics,
  type FunnelOrder,
  type Period,
  range,
  type TimeRange,
  type Unit,
} from '@porpoise/analytics';
import type { FastifyInstance } from 'fastify';
import { parseAggregates, parseList } from '../args/values.js';
import { funnelJson } from '../commands/funnel.js';
import { lifecycleJson } from '../commands/lifecycle.js';
import { recordedNames } from '../commands/names.js';
import { retentionJson } from '../commands/retention.js';
import { rangeJson } from '../format/labels.js';
import { ApiError } from './errors.js';
import { type Expression, ExpressionError, expressionText, parseExpression, toQuery } from './expression.js';

/** Buckets one answer may hold: a chart or grid past this is unreadable, and the work grows with it. */
export const MAX_BUCKETS = 5000;

export const API_UNITS: readonly Unit[] = ['hour', 'day', 'week', 'month'];
const PERIOD_UNIT: Record<Period, Unit> = { daily: 'day', weekly: 'week', monthly: 'month' };

export interface RouteContext {
  analytics: Analytics;
  zone: string;
  now: () => Date;
  /** One line naming where the data lives (never a password). */
  source: string;
}

const bound = {
  type: 'string',
  maxLength: 40,
  description: 'an integer offset in units from now, or an ISO 8601 date',
};
const expr = { type: 'string', minLength: 1, maxLength: 2000 };
const unit = { type: 'string', enum: API_UNITS };
const rangeProperties = { unit, from: bound, to: bound };

function querystring(properties: Record<string, unknown>, required: string[] = []) {
  return { type: 'object', additionalProperties: false, properties, required };
}

/** `from`/`to`: offsets from the current bucket ("-14") or ISO dates, as in --range. */
function boundOf(text: string | undefined, fallback: number): number | string {
  if (text === undefined) return fallback;
  if (/^[+-]?\d+$/.test(text)) {
    const offset = Number(text);
    if (!Number.isSafeInteger(offset))
      throw new ApiError(400, 'INVALID_PARAMETER', `the offset ${text} is too large`);
    return offset;
  }
  return text;
}

function rangeOf(
  context: RouteContext,
  unit: Unit,
  from: string | undefined,
  to: string | undefined,
  defaults: [number, number],
) {
  const result: TimeRange = range(unit, boundOf(from, defaults[0]), boundOf(to, defaults[1]), {
    zone: context.zone,
    now: context.now(),
  });
  if (result.size > MAX_BUCKETS) {
    throw new ApiError(
      400,
      'RANGE_TOO_LARGE',
      `the range holds ${result.size} ${unit} buckets; one answer holds at most ${MAX_BUCKETS}: use a shorter range or a coarser unit`,
    );
  }
  return result;
}

/** The query of one expression parameter; a malformed one is refused naming the parameter and its value. */
function queryOf(context: RouteContext, text: string, parameter: string) {
  let tree: Expression;
  try {
    tree = parseExpression(text);
  } catch (error) {
    if (!(error instanceof ExpressionError)) throw error;
    const shown = text.length > 80 ? `${text.slice(0, 80)}…` : text;
    throw new ExpressionError(`${parameter} ${JSON.stringify(shown)}: ${error.message}`);
  }
  return { text: expressionText(tree), query: toQuery(tree, context.analytics) };
}

interface RangeQuery {
  unit?: Unit;
  from?: string;
  to?: string;
}

export function registerRoutes(app: FastifyInstance, context: RouteContext): void {
  const { analytics } = context;

  app.get<{ Querystring: { prefix?: string } }>(
    '/api/names',
    { schema: { querystring: querystring({ prefix: { type: 'string', maxLength: 200 } }) } },
    async (request) => ({
      zone: context.zone,
      now: context.now().toISOString(),
      source: context.source,
      ...(await recordedNames(analytics, request.query.prefix)),
    }),
  );

  app.get<{ Querystring: RangeQuery & { expr: string } }>(
    '/api/counts',
    { schema: { querystring: querystring({ expr, ...rangeProperties }, ['expr']) }, config: { query: true } },
    async (request) => {
      const q = request.query;
      const span = rangeOf(context, q.unit ?? 'day', q.from, q.to, [-14, 0]);
      const { text, query } = queryOf(context, q.expr, 'expr');
      const counts = await query.counts(span);
      return {
        expr: text,
        range: rangeJson(span),
        buckets: counts.map(({ bucket, count }) => ({
          key: bucket.key,
          start: bucket.start.toISO()!,
          count,
        })),
      };
    },
  );

  app.get<{
    Querystring: RangeQuery & { step: string[]; window?: number; order?: FunnelOrder; exclude?: string };
  }>(
    '/api/funnel',
    {
      schema: {
        querystring: querystring(
          {
            step: { type: 'array', items: expr, minItems: 1, maxItems: 20 },
            window: { type: 'integer', minimum: 1, maximum: 1000 },
            order: { type: 'string', enum: ['sequential', 'strict', 'any'] },
            exclude: expr,
            ...rangeProperties,
          },
          ['step'],
        ),
      },
      config: { query: true },
    },
    async (request) => {
      const q = request.query;
      const span = rangeOf(context, q.unit ?? 'day', q.from, q.to, [-30, 0]);
      const steps = q.step.map((text, k) => queryOf(context, text, `step[${k}]`));
      const exclude = q.exclude === undefined ? undefined : queryOf(context, q.exclude, 'exclude');
      const result = await analytics.funnel({
        steps: steps.map((s) => s.query),
        range: span,
        window: q.window ?? 7,
        order: q.order ?? 'sequential',
        exclude: exclude?.query,
      });
      return {
        events: steps.map((s) => s.text),
        exclude: exclude?.text ?? null,
        range: rangeJson(span),
        ...funnelJson(result),
      };
    },
  );

  app.get<{
    Querystring: RangeQuery & {
      start: string;
      returning: string;
      periods?: number;
      kind?: 'exact' | 'on-or-after';
      cohort?: 'recurring' | 'first-time';
    };
  }>(
    '/api/retention',
    {
      schema: {
        querystring: querystring(
          {
            start: expr,
            returning: expr,
            periods: { type: 'integer', minimum: 1, maximum: 1000 },
            kind: { type: 'string', enum: ['exact', 'on-or-after'] },
            cohort: { type: 'string', enum: ['recurring', 'first-time'] },
            ...rangeProperties,
          },
          ['start', 'returning'],
        ),
      },
      config: { query: true },
    },
    async (request) => {
      const q = request.query;
      const periods = q.periods ?? 8;
      const span = rangeOf(context, q.unit ?? 'week', q.from, q.to, [-periods, 1]);
      const start = queryOf(context, q.start, 'start');
      const returning = queryOf(context, q.returning, 'returning');
      const kind = q.kind ?? 'exact';
      const cohort = q.cohort ?? 'recurring';
      const result = await analytics.retention({
        start: start.query,
        returning: returning.query,
        range: span,
        periods,
        kind,
        cohort,
      });
      return {
        start: start.text,
        returning: returning.text,
        periods,
        kind,
        cohort,
        range: rangeJson(span),
        ...retentionJson(result),
      };
    },
  );

  app.get<{ Querystring: RangeQuery & { expr: string } }>(
    '/api/lifecycle',
    { schema: { querystring: querystring({ expr, ...rangeProperties }, ['expr']) }, config: { query: true } },
    async (request) => {
      const q = request.query;
      const span = rangeOf(context, q.unit ?? 'week', q.from, q.to, [-4, 1]);
      const { text, query } = queryOf(context, q.expr, 'expr');
      const result = await analytics.lifecycle({ query, range: span });
      return { expr: text, range: rangeJson(span), periods: lifecycleJson(result.periods) };
    },
  );

  app.get<{
    Querystring: { period?: Period; buckets?: string; aggregate?: string[]; from?: string; to?: string };
  }>(
    '/api/activity',
    {
      schema: {
        querystring: querystring({
          period: { type: 'string', enum: ['daily', 'weekly', 'monthly'] },
          buckets: { type: 'string', minLength: 1, maxLength: 2000 },
          aggregate: { type: 'array', items: { type: 'string', maxLength: 2000 }, maxItems: 20 },
          from: bound,
          to: bound,
        }),
      },
      config: { query: true },
    },
    async (request) => {
      const q = request.query;
      const period = q.period ?? 'daily';
      const unit = PERIOD_UNIT[period];
      const span = rangeOf(context, unit, q.from, q.to, period === 'daily' ? [-30, 1] : [-12, 1]);
      const aggregates = parseAggregates(q.aggregate ?? [], 'aggregate');
      const listed = q.buckets === undefined ? await analytics.buckets() : parseList(q.buckets, 'buckets');
      const buckets = [...new Set([...listed, ...Object.keys(aggregates)])];
      const rows =
        buckets.length === 0
          ? []
          : await analytics.activity.lookup({
              period,
              start: span.start.toJSDate(),
              end: span.end.toJSDate(),
              buckets,
              aggregateBuckets: aggregates,
            });
      return { period, range: rangeJson(span), buckets, aggregates, rows };
    },
  );
}
