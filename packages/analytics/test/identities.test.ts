import { Identities } from '@porpoise/identity';
import { MemoryBackend } from '@porpoise/storage';
import { describeEachBackend } from '@porpoise/test-backends';
import { describe, expect, it } from 'vitest';
import { Analytics, dayrange } from '../src/index.js';

const NOW = new Date('2026-11-24T12:30:00Z');

describeEachBackend((make) => {
  it('identities: true takes string ids, lists them back and links a visitor to a user', async () => {
    const analytics = new Analytics(make(), { identities: true, now: () => NOW });
    await analytics.event('view', 'anon-1');
    await analytics.identities.link('anon-1', 'ada@example.com');
    await analytics.eventMany([{ name: 'purchase', id: 'ada@example.com' }]);
    const today = dayrange(0, 1, { now: NOW });
    const both = await analytics.events('view').and(analytics.events('purchase')).union(today);
    expect(both.toArray()).toEqual(['ada@example.com']);
    expect((await analytics.events('view').counts(today)).map(({ count }) => count)).toEqual([1]);
    const rows = await analytics.cohort({
      cohort: analytics.events('view'),
      activity: analytics.events('purchase'),
      range: today,
      periods: 0,
    });
    expect(rows.map((row) => row.size)).toEqual([1]);
  });
});

describe('Analytics with identities', () => {
  it('uses the Identities it is given', async () => {
    const backend = new MemoryBackend();
    const identities = new Identities(backend, { prefix: 'people' });
    const analytics = new Analytics(backend, { identities, now: () => NOW });
    expect(analytics.identities).toBe(identities);
    await analytics.event('view', 'u-1');
    expect(await identities.peek(['u-1'])).not.toEqual([null]);
  });

  it('without identities keeps integer ids', async () => {
    const analytics = new Analytics(undefined, { now: () => NOW });
    expect(analytics.identities).toBeUndefined();
    await expect(analytics.event('view', 'u-1' as never)).rejects.toThrow(/must be an integer/);
  });

  it('rejects an identities option that is neither true nor a dictionary', () => {
    expect(() => new Analytics(undefined, { identities: 'yes' as never })).toThrow(/identities/);
  });
});
