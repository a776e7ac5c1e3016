/**
 * Spans and metrics as an application sees them once it registers the OpenTelemetry SDK
 * (in-memory exporters here): one span per public operation with the attributes an operator
 * needs, errors with our code, and metrics for records, latency, round trips and temporaries.
 * The logical keys an operation touches are the same on every backend: each workload runs on a
 * fresh MemoryBackend too and the two spans are compared.
 */
import { context, metrics, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  AggregationTemporality,
  type DataPoint,
  type Histogram,
  MeterProvider,
  MetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { type Backend, MemoryBackend } from '@porpoise/storage';
import { describeEachBackend } from '@porpoise/test-backends';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { Analytics, dayrange, funnel, hourrange } from '../src/index.js';

const now = () => new Date('2026-11-24T12:30:00Z');
const exporter = new InMemorySpanExporter();

class TestReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}
let reader: TestReader;
let contextManager: AsyncLocalStorageContextManager;

beforeAll(() => {
  contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
  );
});
afterAll(() => {
  trace.disable();
  metrics.disable();
  context.disable();
});
beforeEach(() => {
  exporter.reset();
  // A fresh provider per test: cumulative sums start again from zero.
  metrics.disable();
  reader = new TestReader();
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
});

const spans = (name: string): ReadableSpan[] =>
  exporter.getFinishedSpans().filter((span) => span.name === `porpoise.${name}`);
const only = (name: string): ReadableSpan => {
  const found = spans(name);
  expect(found.map((s) => s.name)).toEqual([`porpoise.${name}`]);
  return found[0]!;
};

async function points(name: string): Promise<DataPoint<unknown>[]> {
  const { resourceMetrics } = await reader.collect();
  const metric = resourceMetrics.scopeMetrics
    .filter((scope) => scope.scope.name === '@porpoise/storage')
    .flatMap((scope) => scope.metrics)
    .find((m) => m.descriptor.name === name);
  return (metric?.dataPoints ?? []) as DataPoint<unknown>[];
}

const EVENTS = Array.from({ length: 1_000 }, (_, i) => ({
  name: ['login', 'play', 'buy'][i % 3]!,
  id: i * 7,
  at: new Date(Date.UTC(2026, 10, 24, i % 4, 5)),
}));

/** The logical keys the same workload touches on a fresh memory backend. */
async function keysOnMemory(run: (porpoise: Analytics) => Promise<unknown>, span: string): Promise<unknown> {
  const saved = exporter.getFinishedSpans().length;
  const porpoise = new Analytics(new MemoryBackend(), { now });
  await run(porpoise);
  const mine = exporter
    .getFinishedSpans()
    .slice(saved)
    .filter((s) => s.name === `porpoise.${span}`);
  return mine.at(-1)!.attributes['porpoise.keys'];
}

describeEachBackend((make: () => Backend, kind) => {
  const redis = kind !== 'memory';
  let porpoise: Analytics;
  beforeEach(() => {
    porpoise = new Analytics(make(), { now });
  });

  it('a batch ingest is one span with its records, keys, round trips and bytes, and counts its records', async () => {
    await porpoise.eventMany(EVENTS);
    const span = only('events.eventMany');
    const a = span.attributes;
    expect(a['porpoise.operation']).toBe('events.eventMany');
    expect(a['porpoise.backend']).toBe(redis ? 'redis' : 'memory');
    expect(a['porpoise.records']).toBe(1_000);
    expect(a['porpoise.keys']).toBeGreaterThan(3 * 4);
    if (redis) {
      expect(a['db.system.name']).toBe('redis');
      expect(a['porpoise.redis.client']).toBe(kind.startsWith('node-redis') ? 'node-redis' : 'ioredis');
      expect(a['porpoise.round_trips']).toBeGreaterThanOrEqual(1);
      // 1,000 offsets cannot travel in fewer bytes than one digit each.
      expect(a['porpoise.bytes_sent']).toBeGreaterThan(1_000);
      expect(a['porpoise.bytes_received']).toBeGreaterThan(0);
    } else {
      expect(a['porpoise.round_trips']).toBe(0);
      expect(a['porpoise.bytes_sent']).toBe(0);
      expect(a['db.system.name']).toBeUndefined();
    }
    const records = await points('porpoise.records');
    expect(records.map((p) => [p.attributes, p.value])).toEqual([
      [{ 'porpoise.operation': 'events.eventMany', 'porpoise.backend': redis ? 'redis' : 'memory' }, 1_000],
    ]);
    expect(a['porpoise.keys']).toBe(await keysOnMemory((p) => p.eventMany(EVENTS), 'events.eventMany'));
  });

  it('a query is one span with its buckets and round trips, and one latency observation', async () => {
    await porpoise.eventMany(EVENTS);
    exporter.reset();
    const counts = await porpoise.events('login').and(porpoise.events('play').not()).counts(hourrange(-6));
    expect(counts).toHaveLength(6);
    const a = only('events.counts').attributes;
    expect(a['porpoise.buckets']).toBe(6);
    expect(a['porpoise.keys']).toBeGreaterThan(0);
    if (redis) {
      expect(a['porpoise.round_trips']).toBeGreaterThanOrEqual(1);
      expect(a['porpoise.bytes_received']).toBeGreaterThan(0);
      // NOT and AND work in temporaries, which the read call removes before it returns.
      expect(a['porpoise.temporary_calls']).toBeGreaterThanOrEqual(1);
      const created = await points('porpoise.temporary_keys.created');
      const removed = await points('porpoise.temporary_keys.removed');
      expect(created.reduce((n, p) => n + (p.value as number), 0)).toBeGreaterThanOrEqual(1);
      expect(removed.map((p) => p.value)).toEqual(created.map((p) => p.value));
    } else {
      expect(a['porpoise.round_trips']).toBe(0);
      expect(await points('porpoise.temporary_keys.created')).toEqual([]);
    }
    const durations = (await points('porpoise.operation.duration')).filter(
      (p) => p.attributes['porpoise.operation'] === 'events.counts',
    );
    expect(durations).toHaveLength(1);
    expect((durations[0]!.value as Histogram).count).toBe(1);
    expect(durations[0]!.attributes['error.type']).toBeUndefined();
  });

  it('an error is recorded on the span with its code, and nothing else happens', async () => {
    await expect(porpoise.eventMany([{ name: 'login', id: -1 }])).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    const span = only('events.eventMany');
    expect(span.status.code).toBe(2); // SpanStatusCode.ERROR
    expect(span.attributes['porpoise.error.code']).toBe('INVALID_ARGUMENT');
    expect(span.attributes['error.type']).toBe('INVALID_ARGUMENT');
    expect(span.events.map((e) => e.name)).toEqual(['exception']);
    expect(span.attributes['porpoise.round_trips']).toBe(0);
    const durations = await points('porpoise.operation.duration');
    expect(durations.map((p) => p.attributes['error.type'])).toEqual(['INVALID_ARGUMENT']);
    expect(await points('porpoise.records')).toEqual([]);
  });

  it('single-record calls of one tick share one span, as they share one write', async () => {
    await Promise.all(Array.from({ length: 50 }, (_, i) => porpoise.event('login', i)));
    expect(only('events.event').attributes['porpoise.records']).toBe(50);
    await Promise.all(Array.from({ length: 20 }, (_, i) => porpoise.count('clicks', i)));
    expect(only('counters.count').attributes['porpoise.records']).toBe(20);
    await Promise.all(
      Array.from({ length: 30 }, (_, i) => porpoise.activity.track({ id: `u${i}`, bucket: 'web' })),
    );
    expect(only('activity.trackMany').attributes['porpoise.records']).toBe(30);
  });

  it('analyses, counters and activity have spans of their own; an inner operation is a child span', async () => {
    await porpoise.eventMany(EVENTS);
    await porpoise.countMany([{ key: 'clicks', id: 'a', by: 3 }]);
    const friday = new Date('2026-11-20T10:00:00Z');
    await porpoise.activity.trackMany([
      { id: 'u1', date: friday },
      { id: 'u2', bucket: 'ios', date: friday },
    ]);
    exporter.reset();
    const result = await funnel({
      steps: [porpoise.events('login'), porpoise.events('buy')],
      range: dayrange(-1, 1),
      window: 2,
    });
    expect(result.steps).toHaveLength(2);
    expect(only('events.funnel').attributes['porpoise.backend']).toBe(redis ? 'redis' : 'memory');
    await porpoise.counters('clicks').sum(dayrange(-1, 1));
    // One hash per day of the range.
    expect(only('counters.sum').attributes['porpoise.keys']).toBe(2);
    await porpoise.activity.collapse();
    expect(only('activity.collapse').attributes['porpoise.keys']).toBeGreaterThan(0);
    await porpoise.activity.lookupDaily({ start: friday });
    only('activity.lookup');

    // Spans started inside an application's span are its children.
    exporter.reset();
    const tracer = trace.getTracer('app');
    await tracer.startActiveSpan('request', async (parent) => {
      await porpoise.events('login').counts(dayrange(-1, 1));
      parent.end();
    });
    const request = exporter.getFinishedSpans().find((span) => span.name === 'request')!;
    expect(only('events.counts').parentSpanContext?.spanId).toBe(request.spanContext().spanId);
  });
});
