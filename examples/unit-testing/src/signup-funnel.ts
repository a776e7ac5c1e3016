/**
 * Application code that uses Porpoise: a signup funnel. It records signups and visits and
 * computes the two numbers a product team watches, next-day activation and weekly
 * retention. This is the code under test in ../test/signup-funnel.test.ts.
 */
import { type Analytics, dayrange, weekrange } from '@porpoise/analytics';

export const SIGNUP = 'signup';
export const ACTIVE = 'active';
export const SIGNUPS_BY_CHANNEL = 'signups';

export interface SignupOptions {
  /** Where the user came from, e.g. 'ads' or 'referral'. Default 'direct'. */
  channel?: string;
  /** When the user signed up. Default: the clock of the `Analytics` instance. */
  at?: Date;
}

/** A new user: a signup, and active on the day they signed up. */
export async function recordSignup(
  analytics: Analytics,
  userId: number,
  { channel = 'direct', at }: SignupOptions = {},
): Promise<void> {
  // The events first: they validate the id, so a bad id rejects before the counter is touched.
  await analytics.eventMany([
    { name: SIGNUP, id: userId, at },
    { name: ACTIVE, id: userId, at },
  ]);
  await analytics.count(SIGNUPS_BY_CHANNEL, channel, 1, at);
}

/** A returning user. */
export function recordVisit(analytics: Analytics, userId: number, at?: Date): Promise<void> {
  return analytics.event(ACTIVE, userId, at);
}

export interface MetricOptions {
  /** The instant the metric is computed at. Default: the system clock. */
  now?: Date;
}

/** Signups per channel over the last `days` days including today, most first. */
export async function signupsByChannel(
  analytics: Analytics,
  { days = 7, now = new Date() }: MetricOptions & { days?: number } = {},
): Promise<Array<[channel: string, signups: number]>> {
  const snapshot = await analytics.counters(SIGNUPS_BY_CHANNEL).sum(dayrange(-(days - 1), 1, { now }));
  return snapshot.top(snapshot.values.size);
}

export interface Activation {
  signups: number;
  activated: number;
  /** activated / signups, 0 when nobody signed up. */
  rate: number;
}

/**
 * Next-day activation: of the users who signed up on a day, the share who came back the day
 * after. Over the `days` days that end the day before yesterday: yesterday's signups are left
 * out because their next day (today) is not over, so counting them would make the rate dip
 * every morning and recover by night.
 */
export async function activationRate(
  analytics: Analytics,
  { days = 7, now = new Date() }: MetricOptions & { days?: number } = {},
): Promise<Activation> {
  const cohorts = await analytics.cohort({
    cohort: analytics.events(SIGNUP),
    activity: analytics.events(ACTIVE),
    range: dayrange(-(days + 1), -1, { now }),
    periods: 1,
  });
  let signups = 0;
  let activated = 0;
  for (const day of cohorts) {
    signups += day.size;
    activated += day.retained[0] ?? 0;
  }
  return { signups, activated, rate: signups === 0 ? 0 : activated / signups };
}

export interface RetentionRow {
  /** The signup week, e.g. '2026W47'. */
  week: string;
  signups: number;
  /** retained[k - 1]: signups of that week active k weeks later; only weeks that have started. */
  retained: number[];
  rates: number[];
}

/** Weekly retention of the last `weeks` signup weeks, this week included. */
export async function weeklyRetention(
  analytics: Analytics,
  { weeks = 4, now = new Date() }: MetricOptions & { weeks?: number } = {},
): Promise<RetentionRow[]> {
  const cohorts = await analytics.cohort({
    cohort: analytics.events(SIGNUP),
    activity: analytics.events(ACTIVE),
    range: weekrange(-(weeks - 1), 1, { now }),
    periods: weeks - 1,
  });
  return cohorts.map(({ bucket, size, retained, rates }) => ({
    week: bucket.key,
    signups: size,
    retained,
    rates,
  }));
}
