/**
 * The demo's data: a deterministic synthetic month of a music app, recorded exactly as
 * `porpoise demo` records it, and the demo's collapse of the activity tracker. `--demo` on
 * the other commands seeds a memory backend with both, so it holds what `porpoise demo
 * --redis URL --keep` leaves in Redis.
 */
import { Analytics, type Backend, type Period } from '@porpoise/analytics';
import { simulate } from './synthetic.js';

export const DEMO_NOW = new Date('2026-11-24T12:00:00Z');
export const DEMO_DAYS = 35;
/** Midnight UTC 35 days before the 24th of November. */
export const DEMO_START = Date.UTC(2026, 9, 20);
export const DEMO_USERS = 100_000;
export const DEMO_SONGS = 500;
/** The periods the demo tracks activity in. */
export const DEMO_PERIODS: Period[] = ['daily', 'monthly'];
export const DEMO_PLATFORMS = {
  buckets: ['web', 'ios', 'android'],
  aggregateBuckets: { total: ['web', 'ios', 'android'] },
};

// Most people use one app; some also use the web.
const platformOf = (id: number) => (id % 10 < 5 ? 'web' : id % 10 < 8 ? 'ios' : 'android');

/** The parts of the demo on `backend`, with its clock and periods. */
export function demoAnalytics(backend: Backend, options: { zone?: string; now?: Date } = {}): Analytics {
  const pinned = options.now ?? DEMO_NOW;
  return new Analytics(backend, {
    zone: options.zone,
    now: () => pinned,
    activity: { periods: DEMO_PERIODS },
  });
}

/**
 * Records the synthetic month; returns how many events and counts were written.
 * `onDay(done, total)` follows the days, for a progress bar.
 */
export async function recordDemo(
  analytics: Analytics,
  users: number,
  onDay?: (done: number, total: number) => void,
): Promise<number> {
  let recorded = 0;
  for (const day of simulate({ users, days: DEMO_DAYS, songs: DEMO_SONGS, start: DEMO_START })) {
    const at = DEMO_START + day.day * 86_400_000 + 3_600_000;
    await analytics.eventMany([
      ...day.signups.map((id) => ({ name: 'signup', id, at })),
      ...day.active.map(({ id, at }) => ({ name: 'active', id, at })),
      ...day.logins.map(({ id, at }) => ({ name: 'login', id, at })),
      ...day.plays.map(({ id, at }) => ({ name: 'song:played', id, at })),
    ]);
    await analytics.countMany(day.plays.map(({ song, at }) => ({ key: 'song:played', id: song, at })));
    await analytics.activity.trackMany(
      day.active.flatMap(({ id, at }) => [
        { id, bucket: platformOf(id), date: at },
        ...(id % 7 === 0 && platformOf(id) !== 'web' ? [{ id, bucket: 'web', date: at }] : []),
      ]),
    );
    recorded += day.signups.length + day.active.length + day.logins.length + 2 * day.plays.length;
    onDay?.(day.day + 1, DEMO_DAYS);
  }
  // A time-less property: every fifth user is on the pro plan (`--segment plan:pro`).
  const pro: Array<{ name: string; id: number }> = [];
  for (let id = 0; id < users; id += 5) pro.push({ name: 'plan:pro', id });
  await analytics.markMany(pro);
  return recorded;
}

/** The demo's nightly job: every closed day of the last 60, and the last 12 closed months. */
export async function collapseDemo(analytics: Analytics): Promise<void> {
  await analytics.activity.collapseDaily({ maxPeriods: 60, ...DEMO_PLATFORMS });
  await analytics.activity.collapseMonthly({ maxPeriods: 12, ...DEMO_PLATFORMS });
}

/** What `--demo` puts in a fresh backend: the month, then the demo's collapse. */
export async function seedDemo(
  backend: Backend,
  options: { users: number; zone?: string; onDay?: (done: number, total: number) => void },
): Promise<void> {
  const analytics = demoAnalytics(backend, { zone: options.zone });
  await recordDemo(analytics, options.users, options.onDay);
  await collapseDemo(analytics);
}
