import type { Backend } from '@porpoise/storage';
import { describeEachBackend } from '@porpoise/test-backends';
import { beforeEach, expect, it } from 'vitest';
import {
  Analytics,
  Events,
  funnel,
  InvalidArgumentError,
  lifecycle,
  retention,
  stickiness,
} from '../src/index.js';

const NOW = new Date('2026-11-24T12:30:00Z');
const at = (day: number) => new Date(Date.UTC(2026, 10, day, 9));

describeEachBackend((make) => {
  let backend: Backend;
  let porpoise: Analytics;
  beforeEach(async () => {
    backend = make();
    porpoise = new Analytics(backend, { now: () => NOW });
    await porpoise.eventMany([
      { name: 'signup', id: 1, at: at(16) },
      { name: 'play', id: 1, at: at(17) },
      { name: 'signup', id: 2, at: at(17) },
      { name: 'play', id: 2, at: at(23) },
      { name: 'play', id: 1, at: at(23) },
    ]);
    return () => porpoise.close();
  });

  it('answers funnel, retention, lifecycle and stickiness as @porpoise/events does', async () => {
    const { events } = porpoise;
    const range = porpoise.dayrange(-8, 1);
    const options = { steps: [events('signup'), events('play')], range, window: 7 };
    expect(await porpoise.funnel(options)).toEqual(await funnel(options, porpoise.eventStore));
    const grid = { start: events('signup'), returning: events('play'), range, periods: 8 };
    expect(await porpoise.retention(grid)).toEqual(await retention(grid, porpoise.eventStore));
    // user 2's play on the 23rd is the 7th day from the 17th: inside the window
    expect((await porpoise.funnel(options)).steps.map((s) => s.count)).toEqual([2, 2]);
    const weekly = { query: events('play'), range: porpoise.weekrange(-2, 1) };
    expect(await porpoise.lifecycle(weekly)).toEqual(await lifecycle(weekly, porpoise.eventStore));
    expect(await porpoise.stickiness(weekly)).toEqual(await stickiness(weekly, porpoise.eventStore));
  });

  it('rejects queries of another Events', async () => {
    const other = new Events(backend, { prefix: 'other' });
    await expect(
      porpoise.funnel({ steps: [other.get('a')], range: porpoise.dayrange(-2), window: 2 }),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});
