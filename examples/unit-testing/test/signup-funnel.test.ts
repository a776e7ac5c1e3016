import { Analytics, dayrange, InvalidArgumentError, MemoryBackend } from '@porpoise/analytics';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  ACTIVE,
  activationRate,
  recordSignup,
  recordVisit,
  SIGNUP,
  signupsByChannel,
  weeklyRetention,
} from '../src/signup-funnel.js';

// Tuesday 24 November 2026, noon UTC: "now" for every test unless a test moves it.
const TODAY = '2026-11-24T12:00:00Z';

let now: Date;
let backend: MemoryBackend;
let analytics: Analytics;

/** Move the pinned clock: time passes only when a test says so. */
function setNow(iso: string): void {
  now = new Date(iso);
}

beforeEach(async () => {
  setNow(TODAY);
  // A fresh backend per test, so no test sees another's data, and one clock for everything:
  // the Analytics instance records "now" from it, the backend expires keys by it, and the
  // metrics get it as `now` to build their ranges.
  backend = new MemoryBackend({ now: () => now.getTime() });
  analytics = new Analytics(backend, { now: () => now });
  return () => analytics.close();
});

const at = (iso: string) => new Date(iso);

describe('recordSignup', () => {
  it('records a signup that is active on the same day', async () => {
    await recordSignup(analytics, 42);

    const today = dayrange(0, 1, { now });
    expect(await analytics.events(SIGNUP).counts(today)).toMatchObject([{ count: 1 }]);
    expect((await analytics.events(ACTIVE).union(today)).toArray()).toEqual([42]);
  });

  it('counts signups per channel over the last 7 days', async () => {
    await recordSignup(analytics, 1, { channel: 'ads', at: at('2026-11-18T09:00:00Z') });
    await recordSignup(analytics, 2, { channel: 'ads' });
    await recordSignup(analytics, 3);
    // Eight days ago: outside the window.
    await recordSignup(analytics, 4, { channel: 'referral', at: at('2026-11-16T09:00:00Z') });

    expect(await signupsByChannel(analytics, { now })).toEqual([
      ['ads', 2],
      ['direct', 1],
    ]);
  });

  it('rejects an invalid user id before writing anything', async () => {
    await expect(recordSignup(analytics, -1)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(recordSignup(analytics, 1.5)).rejects.toThrow(/id/);
    expect(await backend.keys()).toEqual([]);
  });
});

describe('activationRate', () => {
  it('is the share of signups who came back the next day', async () => {
    for (const id of [1, 2, 3, 4]) await recordSignup(analytics, id, { at: at('2026-11-20T10:00:00Z') });
    await recordVisit(analytics, 1, at('2026-11-21T08:00:00Z'));
    await recordVisit(analytics, 2, at('2026-11-21T23:59:59Z'));
    // Two days later is not "the next day".
    await recordVisit(analytics, 3, at('2026-11-22T12:00:00Z'));
    await recordSignup(analytics, 5, { at: at('2026-11-21T10:00:00Z') });
    await recordVisit(analytics, 5, at('2026-11-22T10:00:00Z'));

    expect(await activationRate(analytics, { now })).toEqual({ signups: 5, activated: 3, rate: 0.6 });
  });

  it('does not count a second visit on the signup day', async () => {
    await recordSignup(analytics, 7, { at: at('2026-11-20T09:00:00Z') });
    await recordVisit(analytics, 7, at('2026-11-20T18:00:00Z'));

    expect(await activationRate(analytics, { now })).toEqual({ signups: 1, activated: 0, rate: 0 });
  });

  it("leaves yesterday's signups out until their next day is over", async () => {
    await recordSignup(analytics, 9, { at: at('2026-11-23T15:00:00Z') });
    await recordVisit(analytics, 9); // today, the 24th

    expect(await activationRate(analytics, { now })).toEqual({ signups: 0, activated: 0, rate: 0 });

    setNow('2026-11-25T00:00:00Z');
    expect(await activationRate(analytics, { now })).toEqual({ signups: 1, activated: 1, rate: 1 });
  });

  it('drops signups older than the window', async () => {
    await recordSignup(analytics, 1, { at: at('2026-11-15T10:00:00Z') });
    await recordVisit(analytics, 1, at('2026-11-16T10:00:00Z'));
    await recordSignup(analytics, 2, { at: at('2026-11-16T10:00:00Z') });

    // The 7 days ending the day before yesterday are the 16th to the 22nd.
    expect(await activationRate(analytics, { now })).toEqual({ signups: 1, activated: 0, rate: 0 });
    expect(await activationRate(analytics, { now, days: 8 })).toEqual({
      signups: 2,
      activated: 1,
      rate: 0.5,
    });
  });
});

describe('weeklyRetention', () => {
  it('adds a column for each week once it has started', async () => {
    setNow('2026-11-18T12:00:00Z'); // Wednesday of ISO week 47
    for (const id of [1, 2, 3, 4]) await recordSignup(analytics, id, { at: at('2026-11-09T10:00:00Z') });
    await recordVisit(analytics, 1);
    await recordVisit(analytics, 2);
    await recordVisit(analytics, 3);
    await recordSignup(analytics, 5);

    expect(await weeklyRetention(analytics, { weeks: 2, now })).toEqual([
      { week: '2026W46', signups: 4, retained: [3], rates: [0.75] },
      { week: '2026W47', signups: 1, retained: [], rates: [] },
    ]);

    setNow('2026-11-23T09:00:00Z'); // Monday: week 48 has started
    await recordVisit(analytics, 1);
    await recordVisit(analytics, 5);

    expect(await weeklyRetention(analytics, { weeks: 3, now })).toEqual([
      { week: '2026W46', signups: 4, retained: [3, 1], rates: [0.75, 0.25] },
      { week: '2026W47', signups: 1, retained: [1], rates: [1] },
      { week: '2026W48', signups: 0, retained: [], rates: [] },
    ]);
  });
});
