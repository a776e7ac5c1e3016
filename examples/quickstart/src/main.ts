/**
 * Porpoise in one file: ten days of a small music app on the in-memory backend, then the
 * questions a product team asks. The full demo (a month, 100,000 users, optionally on Redis)
 * is the CLI's: `pnpm demo` here, `npx @porpoise/cli demo` anywhere.
 */
import { Analytics, dayrange } from '@porpoise/analytics';

const NOW = new Date('2026-11-24T12:00:00Z');
// No backend given: a MemoryBackend. Pass RedisBackend.fromUrl(url) to use Redis instead.
const porpoise = new Analytics(undefined, { now: () => NOW });

// A tiny seeded PRNG, so every run prints the same numbers.
let seed = 42;
const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;

const DAY = 86_400_000;
const first = Date.UTC(2026, 10, 14); // ten days up to yesterday, the 23rd
for (let day = 0; day < 10; day++) {
  const at = first + day * DAY + 14 * 3_600_000;
  for (let id = 0; id < 300; id++) {
    const joined = id % 10; // one tenth of the users sign up each day
    if (day < joined) continue;
    if (day === joined) await porpoise.event('signup', id, at);
    else if (random() < 0.45 + 0.04 * (day - joined)) continue; // some come back, fewer over time
    await porpoise.eventMany([
      { name: 'active', id, at },
      ...(random() < 0.6 ? [{ name: 'login', id, at }] : []),
    ]);
    if (random() < 0.7) {
      await porpoise.event('song:played', id, at);
      await porpoise.count('song:played', `song-${Math.floor(8 * random() ** 2)}`, 1, at);
    }
    await porpoise.activity.track({ id, bucket: id % 3 === 0 ? 'ios' : 'web', date: at });
  }
}

const lastWeek = dayrange(-7, 0, { now: NOW }); // the 7 whole days before today
console.log('Daily active users, last 7 days');
for (const { bucket, count } of await porpoise.events('active').counts(lastWeek)) {
  console.log(`  ${bucket.start.toFormat('ccc dd LLL')}  ${'█'.repeat(Math.round(count / 5))} ${count}`);
}

const both = porpoise.events('login').and(porpoise.events('song:played'));
const [yesterday] = await both.counts(dayrange(-1, 0, { now: NOW }));
console.log(`\nLogged in and played a song yesterday: ${yesterday?.count} users`);

const songs = await porpoise.counters('song:played').sum(lastWeek);
console.log(`\nTop songs, last 7 days (${songs.total} plays):`, songs.top(3));

console.log('\nRetention: share of each day’s signups active 1, 2, 3 days later');
const cohorts = await porpoise.cohort({
  cohort: porpoise.events('signup'),
  activity: porpoise.events('active'),
  range: dayrange(-6, -3, { now: NOW }),
  periods: 3,
});
for (const row of cohorts) {
  console.log(
    `  ${row.bucket.key}  ${row.size} signups  ${row.rates.map((r) => `${Math.round(r * 100)}%`).join('  ')}`,
  );
}

// The nightly job: closed days become counts, with the exact union of both platforms as 'total'.
const platforms = { buckets: ['web', 'ios'], aggregateBuckets: { total: ['web', 'ios'] } };
await porpoise.activity.collapseDaily({ maxPeriods: 10, ...platforms });
const days = await porpoise.activity.lookupDaily({ start: '2026-11-23', buckets: ['web', 'ios', 'total'] });
console.log('\nActive users by platform (total is the union, not a sum):', days[0]?.counts);
await porpoise.close();
