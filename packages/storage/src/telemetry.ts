/**
 * OpenTelemetry spans and metrics for public operations, on `@opentelemetry/api` alone: with
 * no SDK registered every call below is the API's no-op, and the per-operation bookkeeping
 * (round trips, bytes, keys) is skipped because the span does not record.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import {
  type Attributes,
  type Counter,
  type Histogram,
  type MeterProvider,
  metrics,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import type { ReadOp, WriteOp } from './backend.js';
import { PorpoiseError } from './errors.js';
import { exprKeys } from './validate.js';

/** The instrumentation scope: spans and metrics say they come from this library. */
export const TELEMETRY_SCOPE = '@porpoise/storage';

/** What one operation made the backend do, summed over every backend call inside it. */
interface Work {
  readonly parent: Work | undefined;
  roundTrips: number;
  bytesSent: number;
  bytesReceived: number;
  keys: number;
  temporaryKeys: number;
  client: string | undefined;
}

const current = new AsyncLocalStorage<Work>();

interface Instruments {
  provider: MeterProvider;
  records: Counter;
  duration: Histogram;
  roundTrips: Counter;
  temporaryCreated: Counter;
  temporaryRemoved: Counter;
}

let instruments: Instruments | undefined;

// The metrics API has no proxy provider: a meter taken before the application registers its
// SDK stays a no-op, so the instruments follow whichever provider is global now.
function meters(): Instruments {
  const provider = metrics.getMeterProvider();
  if (instruments?.provider === provider) return instruments;
  const meter = provider.getMeter(TELEMETRY_SCOPE);
  instruments = {
    provider,
    records: meter.createCounter('porpoise.records', {
      description: 'Records written by batch and single-record writes (events, counts, tracks, marks)',
      unit: '{record}',
    }),
    duration: meter.createHistogram('porpoise.operation.duration', {
      description: 'Duration of public Porpoise operations',
      unit: 's',
    }),
    roundTrips: meter.createCounter('porpoise.redis.round_trips', {
      description: 'Pipelines sent to Redis (one per node per round)',
      unit: '{round_trip}',
    }),
    temporaryCreated: meter.createCounter('porpoise.temporary_keys.created', {
      description: 'Redis read calls that created temporary keys (each removes its own before it returns)',
      unit: '{call}',
    }),
    temporaryRemoved: meter.createCounter('porpoise.temporary_keys.removed', {
      description: 'Redis read calls that returned normally, so their temporary keys are gone',
      unit: '{call}',
    }),
  };
  return instruments;
}

const tracer = () => trace.getTracer(TELEMETRY_SCOPE);

/** What an operation learns about itself as it runs (after its input is validated). */
export interface Operation {
  /** The backend's name, when the operation learns it only from its arguments. */
  backend(name: string): void;
  /** Records in a write batch (also added to the `porpoise.records` metric on success). */
  records(count: number): void;
  /** Time buckets a query or write covers. */
  buckets(count: number): void;
  /** Anything else worth an operator's eye (names, units). */
  attributes(attributes: Attributes): void;
}

/**
 * Run one public operation inside a span named `porpoise.<operation>` (e.g.
 * `porpoise.events.counts`). An operation started inside another one counts its backend work
 * in both spans. Errors are recorded on the span with their code and rethrown unchanged.
 */
export async function traced<T>(
  operation: string,
  backend: string | undefined,
  run: (op: Operation) => Promise<T>,
): Promise<T> {
  const started = performance.now();
  return tracer().startActiveSpan(
    `porpoise.${operation}`,
    { kind: SpanKind.INTERNAL, attributes: { 'porpoise.operation': operation } },
    async (span) => {
      const recording = span.isRecording();
      const work = recording ? newWork(current.getStore()) : undefined;
      let records = 0;
      const metric: Attributes = { 'porpoise.operation': operation };
      const op: Operation = {
        backend(name) {
          metric['porpoise.backend'] = name;
          if (recording) span.setAttribute('porpoise.backend', name);
        },
        records(count) {
          records = count;
          if (recording) span.setAttribute('porpoise.records', count);
        },
        buckets(count) {
          if (recording) span.setAttribute('porpoise.buckets', count);
        },
        attributes(attributes) {
          if (recording) span.setAttributes(attributes);
        },
      };
      if (backend !== undefined) op.backend(backend);
      try {
        const result = work ? await current.run(work, () => run(op)) : await run(op);
        if (records > 0) meters().records.add(records, metric);
        return result;
      } catch (error) {
        const code = PorpoiseError.isInstance(error) ? error.code : 'UNEXPECTED';
        metric['error.type'] = code;
        span.setAttribute('error.type', code);
        span.setAttribute('porpoise.error.code', code);
        if (error instanceof Error) span.recordException(error);
        span.setStatus({
          code: SpanStatusCode.ERROR,
          message: error instanceof Error ? error.message : String(error),
        });
        throw error;
      } finally {
        if (work) finish(span, work);
        meters().duration.record((performance.now() - started) / 1000, metric);
        span.end();
      }
    },
  );
}

function newWork(parent: Work | undefined): Work {
  return {
    parent,
    roundTrips: 0,
    bytesSent: 0,
    bytesReceived: 0,
    keys: 0,
    temporaryKeys: 0,
    client: undefined,
  };
}

function finish(span: Span, work: Work): void {
  span.setAttributes({
    'porpoise.keys': work.keys,
    'porpoise.round_trips': work.roundTrips,
    'porpoise.bytes_sent': work.bytesSent,
    'porpoise.bytes_received': work.bytesReceived,
  });
  if (work.temporaryKeys > 0) span.setAttribute('porpoise.temporary_calls', work.temporaryKeys);
  if (work.client !== undefined) {
    span.setAttribute('db.system.name', 'redis');
    span.setAttribute('porpoise.redis.client', work.client);
  }
}

/** The distinct logical keys a backend call reads or writes, added to the current operation. */
export function noteKeys(ops: readonly (ReadOp | WriteOp)[]): void {
  let work = current.getStore();
  if (!work) return;
  const keys = new Set<string>();
  for (const op of ops) addKeys(op, keys);
  for (; work; work = work.parent) work.keys += keys.size;
}

function addKeys(op: ReadOp | WriteOp, keys: Set<string>): void {
  if ('key' in op) keys.add(op.key);
  if ('keys' in op) for (const key of op.keys) keys.add(key);
  if ('sources' in op) for (const key of op.sources) keys.add(key);
  if ('expr' in op) for (const key of exprKeys(op.expr)) keys.add(key);
}

/**
 * One pipeline to one Redis node: its payload and reply sizes (RESP framing left out), and its
 * read calls that needed temporary keys. Such a call makes its temporaries under one base in
 * the keys' slot and deletes them before it returns, so `created` counts those calls and
 * `removed` the ones that returned normally: a gap between the two metrics counts calls that
 * failed midway and may have left temporaries behind. Counted in the metrics even when no
 * span records.
 */
export function noteRoundTrip(
  client: string,
  sent: () => number,
  received: () => number,
  temporaries: { created: number; removed: number },
): void {
  const m = meters();
  const attributes = { 'porpoise.redis.client': client };
  m.roundTrips.add(1, attributes);
  if (temporaries.created > 0) m.temporaryCreated.add(temporaries.created, attributes);
  if (temporaries.removed > 0) m.temporaryRemoved.add(temporaries.removed, attributes);
  let work = current.getStore();
  if (!work) return;
  const up = sent();
  const down = received();
  for (; work; work = work.parent) {
    work.roundTrips++;
    work.bytesSent += up;
    work.bytesReceived += down;
    work.temporaryKeys += temporaries.created;
    work.client = client;
  }
}

/** Bytes of a reply or argument list as it travels (strings in UTF-8), without framing. */
export function sizeOf(value: unknown): number {
  if (value === null || value === undefined) return 0;
  if (Buffer.isBuffer(value)) return value.length;
  if (typeof value === 'string') return Buffer.byteLength(value);
  if (typeof value === 'number') return String(value).length;
  if (Array.isArray(value)) {
    let total = 0;
    for (const item of value) total += sizeOf(item);
    return total;
  }
  if (value instanceof Error) return Buffer.byteLength(value.message);
  return 0;
}
