/**
 * Synthetic activity for the demo run on a memory backend: a few hundred users over the last
 * week, each with their own platforms and habits, from a seeded generator so every run
 * records the same activity.
 */
import type { ActivityTracker } from '@porpoise/activity';

const DAY = 86_400_000;

/** mulberry32: a tiny seeded generator, enough for synthetic data. */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export interface SeedSummary {
  users: number;
  activities: number;
  from: Date;
  to: Date;
}

/**
 * Records `days` days of activity before `date`, plus the hours of `date`'s own day up to
 * it, in `buckets`. Most users stick to one bucket; about one in four also uses a second.
 */
export async function seedActivity(
  tracker: ActivityTracker,
  { buckets, date, days = 7, users = 300 }: { buckets: string[]; date: Date; days?: number; users?: number },
): Promise<SeedSummary> {
  const random = generator(20261202);
  const today = Math.floor(date.getTime() / DAY) * DAY;
  const from = today - days * DAY;
  const records: Array<{ id: string; bucket: string; date: Date }> = [];
  for (let user = 1; user <= users; user++) {
    const id = `user-${String(user).padStart(4, '0')}`;
    const home = buckets[Math.floor(random() * buckets.length)]!;
    const other = buckets[Math.floor(random() * buckets.length)]!;
    const habit = 0.2 + random() * 0.6; // chance of showing up on a given day
    for (let day = from; day <= today; day += DAY) {
      if (random() >= habit) continue;
      const at = day + Math.floor(random() * DAY);
      if (at >= date.getTime()) continue;
      records.push({ id, bucket: home, date: new Date(at) });
      if (other !== home && random() < 0.25) records.push({ id, bucket: other, date: new Date(at) });
    }
  }
  await tracker.trackMany(records);
  return { users, activities: records.length, from: new Date(from), to: date };
}
