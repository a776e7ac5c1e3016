/**
 * A deterministic synthetic month of a music app: users sign up over the weeks, come back
 * with their own habits (quieter on weekends), churn, log in and play songs whose
 * popularity is heavily skewed.
 */

/** mulberry32: a tiny seeded PRNG, so every run prints the same numbers. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface DayOfActivity {
  day: number;
  signups: number[];
  active: Array<{ id: number; at: number }>;
  logins: Array<{ id: number; at: number }>;
  plays: Array<{ id: number; song: string; at: number }>;
}

export interface World {
  users: number;
  days: number;
  songs: number;
  /** Epoch ms of the first day's midnight (UTC). */
  start: number;
}

const DAY = 86_400_000;

/** Yields one day at a time, so a month of events never sits in memory at once. */
export function* simulate(world: World, seed = 42): Generator<DayOfActivity> {
  const random = prng(seed);
  const { users, days, songs, start } = world;
  // A third of the users predate the window; the rest sign up during it.
  const signupDay = new Int16Array(users);
  const habit = new Float32Array(users);
  const churnDay = new Int16Array(users);
  for (let id = 0; id < users; id++) {
    signupDay[id] = random() < 0.35 ? -1 : Math.floor(random() * days);
    habit[id] = 0.08 + 0.85 * random() ** 2;
    // Weekly churn: a user stays with probability 0.85 each week after signing up.
    let churn = Math.max(0, signupDay[id]!);
    while (churn < days && random() < 0.85) churn += 7;
    churnDay[id] = churn;
  }
  for (let day = 0; day < days; day++) {
    const midnight = start + day * DAY;
    const weekday = new Date(midnight).getUTCDay();
    const rhythm = weekday === 0 || weekday === 6 ? 0.6 : 1;
    const today: DayOfActivity = { day, signups: [], active: [], logins: [], plays: [] };
    for (let id = 0; id < users; id++) {
      const joined = signupDay[id]!;
      if (joined === day) today.signups.push(id);
      if (joined > day || day >= churnDay[id]!) continue;
      if (joined !== day && random() > habit[id]! * rhythm) continue;
      const at = midnight + Math.floor(random() * DAY);
      today.active.push({ id, at });
      if (random() < 0.7) today.logins.push({ id, at });
      const plays = Math.floor(random() * 4);
      for (let p = 0; p < plays; p++) {
        // Zipf-like: a few hits, a long tail.
        const song = Math.floor(songs * random() ** 3);
        today.plays.push({ id, song: `song-${String(song).padStart(3, '0')}`, at: at + p * 180_000 });
      }
    }
    yield today;
  }
}
