/**
 * `porpoise demo`: the quick start. Records the synthetic month of a music app (on memory, or
 * on Redis with --redis), then asks it what a product team asks. The text output is the
 * original quick start's, byte for byte apart from the timings.
 */
import { type Backend, dayrange, weekrange } from '@porpoise/analytics';
import { DateTime } from 'luxon';
import { bar, peakOf, sparkline } from '../format/chart.js';
import { fmt, heading, pct, table } from '../format/text.js';
import { collapseDemo, DEMO_DAYS, DEMO_FUNNEL, DEMO_PLATFORMS, demoAnalytics, recordDemo } from './seed.js';

export interface DemoOptions {
  users: number;
  zone: string;
  now: Date;
}

export interface DemoResult {
  backend: string;
  users: number;
  recorded: number;
  dailyActive: Array<{ day: string; count: number }>;
  weeklyUnique: Array<{ week: string; from: string; count: number }>;
  uniqueLast7Days: number;
  loggedInAndPlayed: Array<{ day: string; loggedIn: number; played: number; share: number }>;
  topSongsYesterday: { top: Array<{ song: string; plays: number }>; plays: number; songs: number };
  retention: Array<{ cohort: string; signups: number; rates: number[] }>;
  funnel: {
    steps: Array<{ event: string; users: number; fromPrevious: number; fromStart: number }>;
    medianDays: number | null;
  };
  activity: {
    daily: Array<{ date: string; counts: Record<string, number>; final: boolean }>;
    monthly: Array<{ date: string; counts: Record<string, number>; final: boolean }>;
  };
  timings: { ingestMs: number; collapseMs: number; queriesMs: number };
}

/** Runs the demo on `backend`; `print` receives the text lines as they are ready (omit for JSON). */
export async function runDemo(
  backend: Backend,
  options: DemoOptions,
  print?: (line: string) => void,
): Promise<DemoResult> {
  const say = print ?? (() => {});
  const { users, zone, now: NOW } = options;
  const analytics = demoAnalytics(backend, { zone, now: NOW });
  const opts = { now: NOW, zone };

  say(`Porpoise quick start on the ${backend.name} backend`);
  say(`Recording ${DEMO_DAYS} days of a music app with ${fmt(users)} users…`);
  const ingestStarted = performance.now();
  const recorded = await recordDemo(analytics, users);
  const ingestMs = performance.now() - ingestStarted;
  say(`Recorded ${fmt(recorded)} events and counts in ${(ingestMs / 1000).toFixed(2)} s.`);

  const queryStarted = performance.now();
  const active = analytics.events('active');

  say(heading('Daily active users, last 14 days'));
  const dau = await active.counts(dayrange(-14, 0, opts));
  const peak = peakOf(dau.map((d) => d.count));
  for (const { bucket, count } of dau) {
    const date = bucket.start.toFormat('ccc dd LLL');
    say(`${date}  ${bar(count, peak)}  ${fmt(count).padStart(7)}`);
  }
  say(`trend ${sparkline(dau.map((d) => d.count))}`);

  say(heading('Weekly unique users'));
  const weeks = await active.counts(weekrange(-4, 0, opts));
  const lastWeek = await active.union(dayrange(-7, 0, opts));
  say(
    table(
      ['week', 'unique users'],
      weeks.map(({ bucket, count }) => [`${bucket.key} (from ${bucket.start.toISODate()})`, fmt(count)]),
    ),
  );
  say(`unique users over the last 7 days (union of days): ${fmt(lastWeek.size)}`);

  say(heading('Logged in and played a song (same day)'));
  const both = await analytics
    .events('login')
    .and(analytics.events('song:played'))
    .counts(dayrange(-7, 0, opts));
  const logins = await analytics.events('login').counts(dayrange(-7, 0, opts));
  const loggedInAndPlayed = both.map(({ bucket, count }, i) => ({
    day: bucket.key,
    loggedIn: logins[i]!.count,
    played: count,
    share: count / Math.max(1, logins[i]!.count),
  }));
  say(
    table(
      ['day', 'logged in', 'and played', 'share'],
      loggedInAndPlayed.map((r) => [r.day, fmt(r.loggedIn), fmt(r.played), pct(r.share)]),
    ),
  );

  say(heading('Top 10 songs yesterday'));
  const yesterday = await analytics.counters('song:played').sum(dayrange(-1, 0, opts));
  const top = yesterday.top(10);
  say(
    table(
      ['song', 'plays', ''],
      top.map(([song, plays]) => [song, fmt(plays), bar(plays, top[0]?.[1] ?? 0, 20)]),
    ),
  );
  say(`${fmt(yesterday.total)} plays of ${fmt(yesterday.values.size)} songs yesterday`);

  say(heading('Weekly retention: signed up → active'));
  const rows = await analytics.cohort({
    cohort: analytics.events('signup'),
    activity: active,
    range: weekrange(-5, 0, opts),
    periods: 4,
  });
  say(
    table(
      ['cohort', 'signups', 'week 1', 'week 2', 'week 3', 'week 4'],
      rows.map((r) => [
        r.bucket.key,
        fmt(r.size),
        ...[0, 1, 2, 3].map((k) => (k < r.rates.length ? pct(r.rates[k]!) : '')),
      ]),
    ),
  );

  say(heading('Signup funnel, last 28 days (7-day window)'));
  const funnel = await analytics.funnel({
    steps: DEMO_FUNNEL.map((name) => analytics.events(name)),
    range: dayrange(-28, 0, opts),
    window: 7,
  });
  const funnelSteps = funnel.steps.map((s, k) => ({
    event: DEMO_FUNNEL[k]!,
    users: s.count,
    fromPrevious: s.fromPrevious,
    fromStart: s.fromStart,
  }));
  say(
    table(
      ['step', 'users', 'from previous', 'from signup', ''],
      funnelSteps.map((s) => [
        s.event,
        fmt(s.users),
        pct(s.fromPrevious),
        pct(s.fromStart),
        bar(s.users, funnelSteps[0]!.users, 20),
      ]),
    ),
  );
  const converted = funnel.timeToConvert.reduce((n, t) => n + t.count, 0);
  let medianDays: number | null = null;
  for (let seen = 0, d = 0; d < funnel.timeToConvert.length && converted > 0; d++) {
    seen += funnel.timeToConvert[d]!.count;
    if (seen * 2 >= converted) {
      medianDays = d;
      break;
    }
  }
  say(`${fmt(converted)} subscribed within the window; median time from signup: ${medianDays ?? '-'} days`);

  say(heading('Active users by platform (activity tracker)'));
  const collapseStarted = performance.now();
  await collapseDemo(analytics);
  const collapseMs = performance.now() - collapseStarted;
  const columns = ['web', 'ios', 'android', 'total'];
  // The week before today and the months since last month, in the demo's zone.
  const today = DateTime.fromJSDate(NOW, { zone }).startOf('day');
  const daily = await analytics.activity.lookupDaily({
    start: today.minus({ days: 7 }).toISODate()!,
    end: today.toISODate()!,
    buckets: columns,
    aggregateBuckets: DEMO_PLATFORMS.aggregateBuckets,
  });
  say(
    table(
      ['day', ...columns, 'collapsed'],
      daily.map((r) => [r.date, ...columns.map((c) => fmt(r.counts[c] ?? 0)), r.final ? 'yes' : 'live']),
    ),
  );
  const monthly = await analytics.activity.lookupMonthly({
    start: today.startOf('month').minus({ months: 1 }).toISODate()!,
    buckets: columns,
    aggregateBuckets: DEMO_PLATFORMS.aggregateBuckets,
  });
  say(
    `\n${table(
      ['month', ...columns, 'collapsed'],
      monthly.map((r) => [
        r.date.slice(0, 7),
        ...columns.map((c) => fmt(r.counts[c] ?? 0)),
        r.final ? 'yes' : 'live',
      ]),
    )}`,
  );
  say(
    `(collapsed ${DEMO_DAYS} days and 1 month in ${collapseMs.toFixed(0)} ms; "total" is the exact union, not a sum)`,
  );

  const queryMs = performance.now() - queryStarted;
  say(
    `\nIngest ${(ingestMs / 1000).toFixed(2)} s · all queries ${queryMs.toFixed(0)} ms (${backend.name} backend)`,
  );

  return {
    backend: backend.name,
    users,
    recorded,
    dailyActive: dau.map(({ bucket, count }) => ({ day: bucket.key, count })),
    weeklyUnique: weeks.map(({ bucket, count }) => ({
      week: bucket.key,
      from: bucket.start.toISODate()!,
      count,
    })),
    uniqueLast7Days: lastWeek.size,
    loggedInAndPlayed,
    topSongsYesterday: {
      top: top.map(([song, plays]) => ({ song, plays })),
      plays: yesterday.total,
      songs: yesterday.values.size,
    },
    retention: rows.map((r) => ({ cohort: r.bucket.key, signups: r.size, rates: r.rates })),
    funnel: { steps: funnelSteps, medianDays },
    activity: { daily, monthly },
    timings: { ingestMs, collapseMs, queriesMs: queryMs },
  };
}
