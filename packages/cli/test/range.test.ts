import { dayrange, hourrange, range, weekrange } from '@porpoise/timerange';
import { describe, expect, it } from 'vitest';
import { parseRange, parseRangeSpec } from '../src/args/range.js';
import { UsageError } from '../src/errors.js';

const now = new Date('2026-11-24T12:30:00Z');
const keys = (r: Iterable<{ key: string }>) => [...r].map((b) => b.key);

describe('--range <unit>:<start>[..<end>]', () => {
  it('day:-14 is dayrange(-14): the 14 whole days before today', () => {
    expect(keys(parseRange('day:-14', { now }))).toEqual(keys(dayrange(-14, 0, { now })));
    expect(parseRange('day:-14', { now }).size).toBe(14);
  });

  it('takes an end offset: day:-6..1 is the last 7 days including today', () => {
    expect(keys(parseRange('day:-6..1', { now }))).toEqual(keys(dayrange(-6, 1, { now })));
    expect(keys(parseRange('week:-2..-1', { now }))).toEqual(['2026W46']);
    expect(keys(parseRange('hour:-3..+0', { now }))).toEqual(['2026112409', '2026112410', '2026112411']);
  });

  it('takes ISO dates, read in the zone, end exclusive', () => {
    expect(keys(parseRange('day:2026-11-01..2026-11-08', { now }))).toEqual(
      keys(dayrange('2026-11-01', '2026-11-08', { now })),
    );
    const ny = parseRange('hour:2026-11-01..2026-11-02', { now, zone: 'America/New_York' });
    expect(ny.size).toBe(25);
    expect(keys(parseRange('day:2026-11-20..0', { now }))).toEqual([
      '20261120',
      '20261121',
      '20261122',
      '20261123',
    ]);
  });

  it('reads every unit', () => {
    for (const unit of ['minute', 'hour', 'day', 'week', 'month', 'year'] as const) {
      expect(keys(parseRange(`${unit}:-2`, { now }))).toEqual(keys(range(unit, -2, 0, { now })));
    }
  });

  it('treats a bare integer as an offset, never a year', () => {
    expect(parseRangeSpec('year:2026')).toEqual({ unit: 'year', start: 2026, end: 0 });
    expect(parseRangeSpec('year:2025-01..2026-01')).toEqual({
      unit: 'year',
      start: '2025-01',
      end: '2026-01',
    });
  });

  it('keeps the unit of the range', () => {
    expect(parseRange('week:-3', { now }).unit).toBe('week');
    expect(keys(parseRange('week:-3', { now }))).toEqual(keys(weekrange(-3, 0, { now })));
    expect(keys(parseRange('hour:-1', { now }))).toEqual(keys(hourrange(-1, 0, { now })));
  });

  it.each([
    ['day', /expected <unit>:<start>\[\.\.<end>\]/],
    ['-14', /expected <unit>:<start>/],
    ['days:-14', /unknown unit "days"/],
    ['Day:-14', /unknown unit "Day"/],
    ['day:', /the start is empty/],
    ['day:..0', /the start is empty/],
    ['day:-14..', /the end is empty/],
    ['day:abc', /the start "abc" is neither an integer offset nor an ISO 8601 date/],
    ['day:1.5', /the start "1.5" is neither/],
    ['day:NaN', /the start "NaN" is neither/],
    ['day:-1..2026-13-40', /the end "2026-13-40" is neither/],
    ['day:99999999999999999999', /offset 99999999999999999999 is too large/],
    ['day:-1..-5', /starts after its end/],
    ['day:2026-11-08..2026-11-01', /starts after its end/],
  ])('refuses %j with a message naming --range', (spec, message) => {
    let error: unknown;
    try {
      parseRange(spec, { now });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(/^--range "/);
    expect((error as Error).message).toMatch(message);
  });
});
