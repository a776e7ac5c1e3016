/**
 * The Porpoise quick start: a synthetic month of a music app recorded on the in-memory
 * backend (or a real Redis with --redis redis://host:port), then the questions a product
 * team asks of it.
 *
 *   pnpm demo                              # memory backend, no setup
 *   pnpm demo -- --redis redis://127.0.0.1:6379
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { ActivityTracker } from '@porpoise/activity';
import { Counters } from '@porpoise/counters';
import { cohort, Events } from '@porpoise/events';
import { type Backend, MemoryBackend, RedisBackend } from '@porpoise/storage';
import { dayrange, weekrange } from '@porpoise/timerange';
import { bar, fmt, heading, pct, sparkline, table } from './report.js';
import { simulate } from './synthetic.js';

// `pnpm demo -- --redis …` passes a literal '--' through; parseArgs would stop there.
const argv = process.argv.slice(2);
const { values: args } = parseArgs({
  args: argv[0] === '--' ? argv.slice(1) : argv,
  options: {
    redis: { type: 'string' },
    users: { type: 'string', default: '100000' },
  },
});

const NOW = new Date('2026-11-24T12:00:00Z');
const DAYS = 35;
const START = Date.UTC(2026, 9, 20); // 35 days before the 24th of November
const users = Number(args.users);

async function main(): Promise<void> {
  const backend: Backend = args.redis
    ? RedisBackend.fromUrl(args.redis, { prefix: `porpoise-demo-${randomBytes(3).toString('hex')}` })
    : new MemoryBackend();
  const now = () => NOW;
  const events = new Events(backend, { now });
  const counters = new Counters(backend, { now });
  const activity = new ActivityTracker(backend, { periods: ['daily', 'monthly'], now });
  // Most people use one app; some also use the web.
  const platformOf = (id: number) => (id % 10 < 5 ? 'web' : id % 10 < 8 ? 'ios' : 'android');
  const opts = { now: NOW };

  console.log(`Porpoise quick start on the ${backend.name} backend`);
  console.log(`Recording ${DAYS} days of a music app with ${fmt(users)} users…`);
  const ingestStarted = performance.now();
  let recorded = 0;
  for (const day of simulate({ users, days: DAYS, songs: 500, start: START })) {
    const at = START + day.day * 86_400_000 + 3_600_000;
    await events.eventMany([
      ...day.signups.map((id) => ({ name: 'signup', id, at })),
      ...day.active.map(({ id, at }) => ({ name: 'active', id, at })),
      ...day.logins.map(({ id, at }) => ({ name: 'login', id, at })),
      ...day.plays.map(({ id, at }) => ({ name: 'song:played', id, at })),
    ]);
    await counters.countMany(day.plays.map(({ song, at }) => ({ key: 'song:played', id: song, at })));
    await activity.trackMany(
      day.active.flatMap(({ id, at }) => [
        { id, bucket: platformOf(id), date: at },
        ...(id % 7 === 0 && platformOf(id) !== 'web' ? [{ id, bucket: 'web', date: at }] : []),
      ]),
    );
    recorded += day.signups.length + day.active.length + day.logins.length + 2 * day.plays.length;
  }
  const ingestMs = performance.now() - ingestStarted;
  console.log(`Recorded ${fmt(recorded)} events and counts in ${(ingestMs / 1000).toFixed(2)} s.`);

  const queryStarted = performance.now();
  const active = events.get('active');

  console.log(heading('Daily active users, last 14 days'));
  const dau = await active.counts(dayrange(-14, 0, opts));
  const peak = Math.max(...dau.map((d) => d.count));
  for (const { bucket, count } of dau) {
    const date = bucket.start.toFormat('ccc dd LLL');
    console.log(`${date}  ${bar(count, peak)}  ${fmt(count).padStart(7)}`);
  }
  console.log(`trend ${sparkline(dau.map((d) => d.count))}`);

  console.log(heading('Weekly unique users'));
  const weeks = await active.counts(weekrange(-4, 0, opts));
  const lastWeek = await active.union(dayrange(-7, 0, opts));
  console.log(
    table(
      ['week', 'unique users'],
      weeks.map(({ bucket, count }) => [`${bucket.key} (from ${bucket.start.toISODate()})`, fmt(count)]),
    ),
  );
  console.log(`unique users over the last 7 days (union of days): ${fmt(lastWeek.size)}`);

  console.log(heading('Logged in and played a song (same day)'));
  const both = await events
    .get('login')
    .and(events.get('song:played'))
    .counts(dayrange(-7, 0, opts));
  const logins = await events.get('login').counts(dayrange(-7, 0, opts));
  console.log(
    table(
      ['day', 'logged in', 'and played', 'share'],
      both.map(({ bucket, count }, i) => [
        bucket.key,
        fmt(logins[i]!.count),
        fmt(count),
        pct(count / Math.max(1, logins[i]!.count)),
      ]),
    ),
  );

  console.log(heading('Top 10 songs yesterday'));
  const yesterday = await counters.get('song:played').sum(dayrange(-1, 0, opts));
  const top = yesterday.top(10);
  console.log(
    table(
      ['song', 'plays', ''],
      top.map(([song, plays]) => [song, fmt(plays), bar(plays, top[0]?.[1] ?? 0, 20)]),
    ),
  );
  console.log(`${fmt(yesterday.total)} plays of ${fmt(yesterday.values.size)} songs yesterday`);

  console.log(heading('Weekly retention: signed up → active'));
  const rows = await cohort({
    cohort: events.get('signup'),
    activity: active,
    range: weekrange(-5, 0, opts),
    periods: 4,
  });
  console.log(
    table(
      ['cohort', 'signups', 'week 1', 'week 2', 'week 3', 'week 4'],
      rows.map((r) => [
        r.bucket.key,
        fmt(r.size),
        ...[0, 1, 2, 3].map((k) => (k < r.rates.length ? pct(r.rates[k]!) : '')),
      ]),
    ),
  );

  console.log(heading('Active users by platform (activity tracker)'));
  const platforms = {
    buckets: ['web', 'ios', 'android'],
    aggregateBuckets: { total: ['web', 'ios', 'android'] },
  };
  const collapseStarted = performance.now();
  await activity.collapseDaily({ maxPeriods: 60, ...platforms });
  await activity.collapseMonthly({ maxPeriods: 12, ...platforms });
  const collapseMs = performance.now() - collapseStarted;
  const columns = ['web', 'ios', 'android', 'total'];
  const daily = await activity.lookupDaily({
    start: '2026-11-17',
    end: '2026-11-24',
    buckets: columns,
    aggregateBuckets: platforms.aggregateBuckets,
  });
  console.log(
    table(
      ['day', ...columns, 'collapsed'],
      daily.map((r) => [r.date, ...columns.map((c) => fmt(r.counts[c] ?? 0)), r.final ? 'yes' : 'live']),
    ),
  );
  const monthly = await activity.lookupMonthly({
    start: '2026-10-01',
    buckets: columns,
    aggregateBuckets: platforms.aggregateBuckets,
  });
  console.log(
    `\n${table(
      ['month', ...columns, 'collapsed'],
      monthly.map((r) => [
        r.date.slice(0, 7),
        ...columns.map((c) => fmt(r.counts[c] ?? 0)),
        r.final ? 'yes' : 'live',
      ]),
    )}`,
  );
  console.log(
    `(collapsed ${DAYS} days and 1 month in ${collapseMs.toFixed(0)} ms; "total" is the exact union, not a sum)`,
  );

  const queryMs = performance.now() - queryStarted;
  console.log(
    `\nIngest ${(ingestMs / 1000).toFixed(2)} s · all queries ${queryMs.toFixed(0)} ms (${backend.name} backend)`,
  );

  if (backend instanceof RedisBackend) {
    await backend.write([{ op: 'delete', keys: await backend.keys() }]);
  }
  await backend.close();
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
