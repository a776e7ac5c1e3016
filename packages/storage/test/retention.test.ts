import { describe, expect, it } from 'vitest';
import {
  InvalidArgumentError,
  MemoryBackend,
  parseDuration,
  resolveRetention,
  resolveSeriesOptions,
  secondsToKeep,
  WriteRegistry,
} from '../src/index.js';

describe('parseDuration', () => {
  it.each([
    ['90s', 90_000],
    ['15m', 900_000],
    ['36h', 129_600_000],
    ['2d', 172_800_000],
    ['400d', 34_560_000_000],
    ['2w', 1_209_600_000],
    [3600, 3_600_000],
  ])('reads %s as %i ms', (text, ms) => {
    expect(parseDuration(text, 'retention.hour')).toBe(ms);
  });

  it.each([
    ['an unknown unit', '3y'],
    ['a month (not a fixed duration)', '1M'],
    ['no unit', '35'],
    ['zero', '0d'],
    ['a negative number', -5],
    ['zero seconds', 0],
    ['a fraction', 1.5],
    ['a fractional string', '1.5d'],
    ['spaces', ' 2d'],
    ['an empty string', ''],
    ['more than 100 years', '40000d'],
    ['not a duration at all', true],
  ])('refuses %s, naming the argument', (_label, value) => {
    let error: unknown;
    try {
      parseDuration(value, 'retention.day');
    } catch (caught) {
      error = caught;
    }
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect((error as InvalidArgumentError).argument).toBe('retention.day');
  });
});

describe('resolveRetention', () => {
  it('maps each recorded unit to milliseconds', () => {
    expect([...resolveRetention({ hour: '35d', day: '400d' }, ['hour', 'day', 'week'])]).toEqual([
      ['hour', 35 * 86_400_000],
      ['day', 400 * 86_400_000],
    ]);
  });

  it('refuses units not recorded and keys that are not units', () => {
    expect(() => resolveRetention({ minute: '2d' }, ['hour'])).toThrow(/not recorded/);
    expect(() => resolveRetention({ days: '2d' }, ['day'])).toThrow(/keys must be units/);
    expect(() => resolveRetention('35d', ['day'])).toThrow(InvalidArgumentError);
  });

  it('is part of the series options', () => {
    expect(resolveSeriesOptions({ retention: { day: '2d' } }, 'events').retention.get('day')).toBe(
      172_800_000,
    );
    expect(() => resolveSeriesOptions({ retention: { day: '-2d' } }, 'events')).toThrow(InvalidArgumentError);
  });
});

describe('secondsToKeep', () => {
  const retention = resolveRetention({ hour: '1h' }, ['hour', 'day']);
  it('counts from now to the end of the bucket plus the retention, rounded up', () => {
    expect(secondsToKeep(retention, 'hour', 10_000_000, 10_000_000)).toBe(3600);
    expect(secondsToKeep(retention, 'hour', 10_000_000, 10_000_001)).toBe(3600);
    expect(secondsToKeep(retention, 'hour', 10_000_000, 10_000_000 + 3_600_000)).toBe(0);
    expect(secondsToKeep(retention, 'day', 10_000_000, 0)).toBeNull();
  });
});

describe('WriteRegistry', () => {
  const layout = {
    names: 'p:meta:names',
    bucketsOf: (name: string) => `p:meta:buckets:${name}`,
    dataKey: (name: string, unit: string, bucket: string) => `p:e:${name}:${unit}:${bucket}`,
  };
  const written = (name: string, bucket: string, ms = 0) => ({
    key: `p:e:${name}:hour:${bucket}`,
    name,
    unit: 'hour' as const,
    bucket,
    ms,
  });

  it('plans the catalogue once per key, after the write is committed', () => {
    const registry = new WriteRegistry(layout, new Map(), () => 0);
    const first = registry.plan([written('a', '1'), written('a', '2'), written('b', '1')], 0);
    expect(first.ops).toEqual([
      { op: 'setAdd', key: 'p:meta:names', members: ['a', 'b'] },
      { op: 'setAdd', key: 'p:meta:buckets:a', members: ['hour:1', 'hour:2'] },
      { op: 'setAdd', key: 'p:meta:buckets:b', members: ['hour:1'] },
    ]);
    // Not committed (the write failed): planned again.
    expect(registry.plan([written('a', '1')], 0).ops).toHaveLength(2);
    first.commit();
    expect(registry.plan([written('a', '1'), written('b', '1')], 0).ops).toEqual([]);
    expect(registry.plan([written('a', '3')], 0).ops).toEqual([
      { op: 'setAdd', key: 'p:meta:buckets:a', members: ['hour:3'] },
    ]);
  });

  it('adds an expiry per new key and leaves out keys past their retention', () => {
    const registry = new WriteRegistry(layout, new Map([['hour', 3_600_000]]), (ms) => ms + 1000);
    const plan = registry.plan([written('a', 'old', 0), written('a', 'new', 5_000_000)], 3_601_000);
    expect(plan.expired).toEqual(new Set(['p:e:a:hour:old']));
    expect(plan.ops).toContainEqual({ op: 'expire', key: 'p:e:a:hour:new', seconds: 5_000 });
  });

  it('writes nothing to a backend by itself', async () => {
    const backend = new MemoryBackend();
    new WriteRegistry(layout, new Map(), () => 0).plan([written('a', '1')], 0);
    expect(await backend.keys()).toEqual([]);
  });
});
