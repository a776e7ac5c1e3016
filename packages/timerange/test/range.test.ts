import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import {
  BucketKeyer,
  bucketOf,
  dayrange,
  hourrange,
  InvalidArgumentError,
  minuterange,
  monthrange,
  range,
  weekrange,
  yearrange,
} from '../src/index.js';

const keys = (r: Iterable<{ key: string }>) => [...r].map((b) => b.key);
const now = new Date('2026-11-24T12:34:56Z');

describe('the original library cases', () => {
  it('dayrange(2013-01-01, 2013-01-05) holds 20130101..20130104', () => {
    const r = dayrange(new Date(Date.UTC(2013, 0, 1)), new Date(Date.UTC(2013, 0, 5)));
    expect(keys(r)).toEqual(['20130101', '20130102', '20130103', '20130104']);
    expect(r.size).toBe(4);
  });

  it('hourrange(2013-01-01T00, 2013-01-01T04) holds 2013010100..2013010103', () => {
    const r = hourrange(new Date(Date.UTC(2013, 0, 1, 0)), new Date(Date.UTC(2013, 0, 1, 4)));
    expect(keys(r)).toEqual(['2013010100', '2013010101', '2013010102', '2013010103']);
  });

  it('hourrange(-4) has 4 buckets', () => {
    expect(hourrange(-4).size).toBe(4);
    expect([...hourrange(-4)]).toHaveLength(4);
  });

  it('dayrange of the first seven days of 2010 has 7 buckets', () => {
    const r = dayrange(new Date('2010-01-01T00:00Z'), new Date('2010-01-08T00:00Z'));
    expect(keys(r)).toEqual([
      '20100101',
      '20100102',
      '20100103',
      '20100104',
      '20100105',
      '20100106',
      '20100107',
    ]);
  });
});

describe('numeric offsets are whole buckets from the start of the current bucket', () => {
  it('hourrange(-24) is the 24 hours before the current hour', () => {
    const r = hourrange(-24, undefined, { now });
    expect(r.size).toBe(24);
    expect(r.start.toISO()).toBe('2026-11-23T12:00:00.000Z');
    expect(r.end.toISO()).toBe('2026-11-24T12:00:00.000Z');
  });

  it('dayrange(-4) is the four days before today', () => {
    expect(keys(dayrange(-4, undefined, { now }))).toEqual(['20261120', '20261121', '20261122', '20261123']);
  });

  it('dayrange(-6, 1) is the last seven days including today', () => {
    const r = dayrange(-6, 1, { now });
    expect(r.size).toBe(7);
    expect(keys(r).at(-1)).toBe('20261124');
  });

  it('start defaults to -1 and end to 0', () => {
    expect(keys(dayrange(undefined, undefined, { now }))).toEqual(['20261123']);
  });

  it('weekrange(-1) is the last whole week and weekrange(-2, -1) the one before it', () => {
    expect(keys(weekrange(-1, 0, { now }))).toEqual(['2026W47']);
    expect(keys(weekrange(-2, -1, { now }))).toEqual(['2026W46']);
  });

  it('accepts a luxon DateTime and epoch ms as now', () => {
    expect(keys(monthrange(-2, 0, { now: DateTime.fromISO('2026-03-15T00:00Z') }))).toEqual([
      '202601',
      '202602',
    ]);
    expect(keys(yearrange(-1, 1, { now: now.getTime() }))).toEqual(['2025', '2026']);
  });

  it('accepts a function returning a Date as now, like the recorders do', () => {
    expect(keys(dayrange(-1, 0, { now: () => now }))).toEqual(['20261123']);
  });

  it('refuses a now function that does not return a Date', () => {
    expect(() => dayrange(-1, 0, { now: (() => 'soon') as never })).toThrow(/Invalid argument "now"/);
  });

  it('mixes a numeric start with an absolute end', () => {
    expect(keys(dayrange(-2, '2026-11-24T06:00:00Z', { now }))).toEqual(['20261122', '20261123', '20261124']);
  });

  it('an empty range has size 0', () => {
    expect(dayrange(0, 0, { now }).size).toBe(0);
    expect([...dayrange(0, 0, { now })]).toEqual([]);
  });
});

describe('keys', () => {
  const t = new Date('2026-11-24T09:07:00Z');
  it.each([
    ['minute', '202611240907'],
    ['hour', '2026112409'],
    ['day', '20261124'],
    ['week', '2026W48'],
    ['month', '202611'],
    ['year', '2026'],
  ] as const)('%s keys look like %s', (unit, key) => {
    expect(bucketOf(t, unit).key).toBe(key);
    expect(String(bucketOf(t, unit))).toBe(key);
  });

  it('uses the ISO week-year at the turn of the year', () => {
    expect(bucketOf(new Date('2026-12-31T12:00Z'), 'week').key).toBe('2026W53');
    expect(bucketOf(new Date('2027-01-01T12:00Z'), 'week').key).toBe('2026W53');
    expect(bucketOf(new Date('2027-01-04T12:00Z'), 'week').key).toBe('2027W01');
  });

  it('Sunday weeks start on Sunday and take the ISO week of their Monday', () => {
    const sunday = bucketOf(new Date('2026-11-22T10:00Z'), 'week', { weekStart: 7 });
    expect(sunday.start.toISODate()).toBe('2026-11-22');
    expect(sunday.end.toISODate()).toBe('2026-11-29');
    expect(sunday.key).toBe('2026W48');
    expect(bucketOf(new Date('2026-11-21T10:00Z'), 'week', { weekStart: 7 }).key).toBe('2026W47');
  });

  it('computes keys in the range zone', () => {
    expect(bucketOf(new Date('2026-11-24T20:00Z'), 'day', { zone: 'Asia/Kolkata' }).key).toBe('20261125');
    expect(bucketOf(new Date('2026-11-24T20:00Z'), 'hour', { zone: 'Asia/Kolkata' }).key).toBe('2026112501');
  });

  it('BucketKeyer gives the same keys as bucketOf', () => {
    const keyer = new BucketKeyer({ zone: 'America/New_York' });
    for (let ms = Date.UTC(2026, 9, 31); ms < Date.UTC(2026, 10, 3); ms += 7 * 60_000) {
      for (const unit of ['minute', 'hour', 'day', 'week', 'month', 'year'] as const) {
        expect(keyer.key(ms, unit)).toBe(bucketOf(ms, unit, { zone: 'America/New_York' }).key);
      }
    }
  });
});

describe('time zones and DST', () => {
  it('America/New_York 2026-11-01 has 25 distinct hour buckets', () => {
    const hours = dayrange('2026-11-01', '2026-11-02', { zone: 'America/New_York' }).split('hour');
    const k = keys(hours);
    expect(hours.size).toBe(25);
    expect(new Set(k).size).toBe(25);
    expect(k.slice(0, 4)).toEqual(['2026110100', '2026110101', '2026110101b', '2026110102']);
  });

  it('America/New_York 2026-03-08 has 23 hour buckets', () => {
    const hours = dayrange('2026-03-08', '2026-03-09', { zone: 'America/New_York' }).split('hour');
    expect(hours.size).toBe(23);
    expect(keys(hours).slice(0, 3)).toEqual(['2026030800', '2026030801', '2026030803']);
  });

  it('Europe/London has 23 and 25 hour days', () => {
    expect(dayrange('2026-03-29', '2026-03-30', { zone: 'Europe/London' }).split('hour').size).toBe(23);
    expect(dayrange('2026-10-25', '2026-10-26', { zone: 'Europe/London' }).split('hour').size).toBe(25);
  });

  it('Australia/Lord_Howe: the 30-minute shifts give a 30-minute bucket', () => {
    const back = [...dayrange('2026-04-05', '2026-04-06', { zone: 'Australia/Lord_Howe' }).split('hour')];
    expect(back).toHaveLength(25);
    expect(back[2]?.key).toBe('2026040501b');
    expect((back[2]!.endMs - back[2]!.startMs) / 60_000).toBe(30);
    const forward = [...dayrange('2026-10-04', '2026-10-05', { zone: 'Australia/Lord_Howe' }).split('hour')];
    expect(forward).toHaveLength(24);
    expect(forward[2]?.key).toBe('2026100402');
    expect((forward[2]!.endMs - forward[2]!.startMs) / 60_000).toBe(30);
  });

  it('Asia/Kolkata days start at local midnight (18:30Z)', () => {
    const day = bucketOf(new Date('2026-11-24T12:00Z'), 'day', { zone: 'Asia/Kolkata' });
    expect(day.start.toUTC().toISO()).toBe('2026-11-23T18:30:00.000Z');
    expect(day.end.toUTC().toISO()).toBe('2026-11-24T18:30:00.000Z');
  });

  it('reads ISO strings without an offset in the range zone', () => {
    const r = dayrange('2026-11-01', '2026-11-02', { zone: 'America/New_York' });
    expect(r.start.toUTC().toISO()).toBe('2026-11-01T04:00:00.000Z');
    expect(r.zone).toBe('America/New_York');
  });
});

describe('split and includes', () => {
  it('splits a week into its 7 days', () => {
    expect(keys(weekrange(-1, 0, { now }).split('day'))).toEqual([
      '20261116',
      '20261117',
      '20261118',
      '20261119',
      '20261120',
      '20261121',
      '20261122',
    ]);
  });

  it('splits a month into days and hours', () => {
    const month = monthrange(new Date('2026-02-01T00:00Z'), new Date('2026-03-01T00:00Z'));
    expect(month.split('day').size).toBe(28);
    expect(month.split('hour').size).toBe(28 * 24);
  });

  it('refuses units that do not tile the range', () => {
    expect(() => monthrange(-1, 0, { now }).split('week')).toThrow(InvalidArgumentError);
    expect(() => dayrange(-1, 0, { now }).split('month')).toThrow(/do not tile/);
  });

  it('includes the start and excludes the end', () => {
    const r = dayrange(-1, 0, { now });
    expect(r.includes(r.start)).toBe(true);
    expect(r.includes(r.end)).toBe(false);
    expect(r.includes(new Date('2026-11-23T23:59:59.999Z'))).toBe(true);
  });

  it('counts a ten-year minute range without iterating it', () => {
    const r = minuterange(new Date('2016-01-01T00:00Z'), new Date('2026-01-01T00:00Z'), {
      zone: 'Europe/Paris',
    });
    expect(r.size).toBe(3653 * 1440);
  });
});

describe('a start after the end is refused, whichever buckets the bounds fall in', () => {
  const at = (iso: string) => new Date(iso);
  const refused = (call: () => unknown) => {
    let error: unknown;
    try {
      call();
    } catch (e) {
      error = e;
    }
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect((error as InvalidArgumentError).argument).toBe('start');
    expect((error as Error).message).toContain('starts after its end');
  };

  it('hourrange(15:30, 14:30), an hour apart', () => {
    refused(() => hourrange(at('2026-11-24T15:30Z'), at('2026-11-24T14:30Z')));
  });

  it('hourrange(14:50, 14:10), both in one hour', () => {
    refused(() => hourrange(at('2026-11-24T14:50Z'), at('2026-11-24T14:10Z')));
  });

  it('dayrange(15:30, 14:30) of one day', () => {
    refused(() => dayrange(at('2026-11-24T15:30Z'), at('2026-11-24T14:30Z')));
  });

  it('yearrange of two instants in one year', () => {
    refused(() => yearrange(at('2026-11-24T00:00Z'), at('2026-02-01T00:00Z')));
  });

  it('dayrange across days', () => {
    refused(() => dayrange(at('2026-11-26T00:00Z'), at('2026-11-24T12:00Z')));
  });

  it('inverted ISO strings', () => {
    refused(() => minuterange('2026-11-24T10:00:30Z', '2026-11-24T10:00:10Z'));
  });

  it('an absolute start after a numeric end', () => {
    refused(() => dayrange(at('2026-11-24T06:00Z'), 0, { now }));
  });

  it('a numeric start after an absolute end in the same bucket', () => {
    refused(() => dayrange(1, at('2026-11-24T06:00Z'), { now }));
  });

  it('numeric offsets in the wrong order', () => {
    refused(() => hourrange(0, -1, { now }));
  });

  it('equal bounds are not an error', () => {
    expect(hourrange(at('2026-11-24T14:30Z'), at('2026-11-24T14:30Z')).size).toBe(1);
    expect(dayrange(0, at('2026-11-24T00:00Z'), { now }).size).toBe(0);
  });
});

describe('bad input is a typed error naming the argument', () => {
  const cases: Array<[string, () => unknown, string]> = [
    ['inverted range', () => dayrange(0, -2, { now }), 'start'],
    ['inverted dates', () => dayrange(new Date('2026-01-02'), new Date('2026-01-01')), 'start'],
    ['unknown zone', () => dayrange(-1, 0, { zone: 'Mars/Olympus' }), 'zone'],
    ['invalid Date', () => dayrange(new Date('nope'), 0), 'start'],
    ['invalid ISO string', () => dayrange('2026-13-45', 0), 'start'],
    ['NaN offset', () => hourrange(Number.NaN), 'start'],
    ['Infinity offset', () => hourrange(0, Number.POSITIVE_INFINITY), 'end'],
    ['fractional offset', () => hourrange(-1.5), 'start'],
    ['unknown unit', () => range('fortnight' as never), 'unit'],
    ['bad weekStart', () => weekrange(-1, 0, { weekStart: 3 as never }), 'weekStart'],
    ['invalid now', () => dayrange(-1, 0, { now: new Date('x') }), 'now'],
    ['invalid DateTime', () => bucketOf(DateTime.invalid('broken'), 'day'), 't'],
    ['non-date instant', () => bucketOf('2026-01-01' as never, 'day'), 't'],
  ];
  it.each(cases)('%s', (_name, call, argument) => {
    let error: unknown;
    try {
      call();
    } catch (e) {
      error = e;
    }
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect((error as InvalidArgumentError).code).toBe('INVALID_ARGUMENT');
    expect((error as InvalidArgumentError).argument).toBe(argument);
    expect((error as Error).message).toContain(`"${argument}"`);
  });
});

describe('bounds must stay in the years 0001-9999, where keys sort in time order', () => {
  const error = (call: () => unknown): InvalidArgumentError => {
    try {
      call();
    } catch (e) {
      if (InvalidArgumentError.isInstance(e)) return e as InvalidArgumentError;
      throw e;
    }
    throw new Error('expected an InvalidArgumentError');
  };

  it('epoch milliseconds passed as yearrange offsets are refused with a hint to pass a Date', () => {
    const e = error(() => yearrange(1388534400000, 1420070400000, { now }));
    expect(e.argument).toBe('start');
    expect(e.message).toContain('pass new Date(1388534400000)');
  });

  it('epoch milliseconds passed as hourrange offsets are refused at once', () => {
    const e = error(() => hourrange(1388534400000, 1420070400000, { now }));
    expect(e.argument).toBe('start');
    expect(e.message).toContain('an offset in hours');
  });

  it('an end offset past year 9999 is refused', () => {
    expect(error(() => yearrange(-1, 8000, { now })).argument).toBe('end');
  });

  it('a start offset before year 1 is refused', () => {
    expect(error(() => dayrange(-740_000, 0, { now })).argument).toBe('start');
  });

  it('offsets reaching the last year 9999 are accepted', () => {
    const r = yearrange(7973, 7974, { now });
    expect(keys(r)).toEqual(['9999']);
  });

  it('a Date in year 10000 is refused', () => {
    const late = new Date(0);
    late.setUTCFullYear(10000, 0, 2);
    expect(error(() => dayrange(new Date('2026-01-01T00:00Z'), late)).argument).toBe('end');
    expect(error(() => bucketOf(late, 'day')).argument).toBe('t');
  });

  it('an end at the first instant of year 10000 closes a range of year 9999', () => {
    const end = new Date(0);
    end.setUTCFullYear(10000, 0, 1);
    expect(keys(monthrange(new Date('9999-11-15T00:00Z'), end))).toEqual(['999911', '999912']);
  });

  it('a Date before year 1 is refused', () => {
    const early = new Date(0);
    early.setUTCFullYear(0, 11, 31);
    expect(error(() => dayrange(early, new Date('2026-01-01T00:00Z'))).argument).toBe('start');
    expect(error(() => bucketOf(early, 'year')).argument).toBe('t');
  });

  it('the first and last days of the calendar have four-digit keys, weeks included', () => {
    const first = new Date(0);
    first.setUTCFullYear(1, 0, 1);
    expect(bucketOf(first, 'day').key).toBe('00010101');
    expect(bucketOf(first, 'week').key).toBe('0001W01');
    expect(bucketOf(first, 'week', { weekStart: 7 }).key).toBe('0001W01');
    expect(bucketOf(new Date('9999-12-31T23:59Z'), 'week').key).toBe('9999W52');
  });

  it('year 9999 in a zone east of UTC is accepted up to its local end', () => {
    expect(bucketOf(new Date('9999-12-31T09:59Z'), 'year', { zone: 'Pacific/Kiritimati' }).key).toBe('9999');
    expect(() => bucketOf(new Date('9999-12-31T10:00Z'), 'year', { zone: 'Pacific/Kiritimati' })).toThrow(
      InvalidArgumentError,
    );
  });

  it('BucketKeyer refuses instants outside the calendar', () => {
    const keyer = new BucketKeyer();
    expect(error(() => keyer.key(1e16, 'hour')).argument).toBe('ms');
    expect(error(() => keyer.key(253402300800000, 'minute')).argument).toBe('ms');
    expect(keyer.key(253402300799999, 'day')).toBe('99991231');
  });
});
