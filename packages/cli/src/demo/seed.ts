/**
 * The demo's data: a deterministic synthetic month of a music app, recorded exactly as
 * `porpoise demo` records it, and the demo's collapse of the activity tracker. `--demo` on
 * the other commands seeds a memory backend with both, so it holds what `porpoise demo
 * --redis URL --keep` leaves in Redis.
 */
import { Analytics, type Backend, type Period } from '@porpoise/analytics';
import { prng, simulate } from './synthetic.js';

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
  const signups: Array<[id: number, day: number]> = [];
  for (const day of simulate({ users, days: DEMO_DAYS, songs: DEMO_SONGS, start: DEMO_START })) {
    for (const id of day.signups) signups.push([id, day.day]);
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
  const funnel = funnelEvents(signups);
  await analytics.eventMany(funnel);
  return recorded + funnel.length;
}

/** The demo's signup funnel, in order: each step after the one before, within days. */
export const DEMO_FUNNEL = ['signup', 'first-play', 'playlist:created', 'subscribed'] as const;

/**
 * After signing up, a user plays a first song (80%, mostly the same day), may make a
 * playlist (45% of them, within days), and may subscribe (35% of those, later still). Its own
 * random stream, so the month's other events (and every other section) are unchanged.
 */
function funnelEvents(signups: ReadonlyArray<readonly [number, number]>) {
  const random = prng(2026);
  const delay = (p: number) => {
    let days = 0;
    while (days < 20 && random() > p) days++;
    return days;
  };
  const out: Array<{ name: string; id: number; at: number }> = [];
  const at = (day: number) => DEMO_START + day * 86_400_000 + 3_600_000 + Math.floor(random() * 72_000_000);
  for (const [id, joined] of signups) {
    const steps: Array<[string, number, number]> = [
      ['first-play', 0.8, 0.6],
      ['playlist:created', 0.45, 0.35],
      ['subscribed', 0.35, 0.2],
    ];
    let day = joined;
    for (const [name, share, speed] of steps) {
      if (random() >= share) break;
      day += delay(speed);
      if (day >= DEMO_DAYS) break;
      out.push({ name, id, at: at(day) });
    }
  }
  return out;
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
