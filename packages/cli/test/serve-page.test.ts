/**
 * The page of `porpoise serve` in headless Chromium, on the demo month: pick events and an
 * operator, change the range, open every view; the numbers shown are the library's, the
 * view survives a reload, nothing logs an error and no request leaves the server's origin.
 */
import { join } from 'node:path';
import { Analytics } from '@porpoise/analytics';
import { type Events, funnel, lifecycle, retention } from '@porpoise/events';
import { dayrange, weekrange } from '@porpoise/timerange';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_FUNNEL, DEMO_NOW } from '../src/demo/seed.js';
import { buildServer } from '../src/serve/server.js';
import { hasChromium, launchChromium, requireChromium } from './chromium.js';
import { demoLibrary, TMP } from './support.js';

requireChromium('the serve page');

const at = { now: DEMO_NOW };

interface Opened {
  page: Page;
  requests: string[];
  problems: string[];
}

/** The view has answered (no request in flight) and shows its numbers. */
async function settled(page: Page): Promise<void> {
  await page.waitForSelector('#view[data-state="shown"]:not([aria-busy])', { state: 'attached' });
}

/** The page's scrolled width: wider than the viewport means a sideways scroll on a phone. */
const pageWidth = (page: Page): Promise<number> => page.evaluate('document.documentElement.scrollWidth');

const attributeNumbers = (page: Page, selector: string, attribute: string) =>
  page.$$eval(selector, (nodes, name) => nodes.map((n) => Number(n.getAttribute(name))), attribute);

describe.skipIf(!hasChromium)('porpoise serve page in headless Chromium', () => {
  let browser: Browser;
  let lib: Awaited<ReturnType<typeof demoLibrary>>;
  let events: Events;
  let app: FastifyInstance;
  let guarded: FastifyInstance;
  let origin: string;
  let guardedOrigin: string;
  const opened: Opened[] = [];

  beforeAll(async () => {
    lib = await demoLibrary();
    events = lib.events;
    const analytics = new Analytics(lib.backend, {
      now: () => DEMO_NOW,
      activity: { periods: ['daily', 'weekly', 'monthly'] },
    });
    app = buildServer({ analytics, zone: 'UTC', now: () => DEMO_NOW, source: 'demo month' });
    guarded = buildServer({ analytics, zone: 'UTC', now: () => DEMO_NOW, token: 'page-token-123' });
    origin = (await app.listen({ port: 0, host: '127.0.0.1' })).replace(/\/$/, '');
    guardedOrigin = (await guarded.listen({ port: 0, host: '127.0.0.1' })).replace(/\/$/, '');
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await guarded?.close();
  });

  async function open(url: string, width = 1280, height = 900): Promise<Opened> {
    const page = await browser.newPage({ viewport: { width, height } });
    const requests: string[] = [];
    const problems: string[] = [];
    page.on('request', (request) => requests.push(request.url()));
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    await page.goto(url, { waitUntil: 'load' });
    await settled(page);
    const result = { page, requests, problems };
    opened.push(result);
    return result;
  }

  it('builds an expression, changes the range and shows the library numbers in every view', async () => {
    const { page, requests, problems } = await open(`${origin}/`);
    // The defaults: the demo's `active`, the last 14 days.
    expect(await page.inputValue('#event-a')).toBe('active');
    const daily = await events.get('active').counts(dayrange(-14, 0, at));
    expect(await attributeNumbers(page, '#result td[data-count]', 'data-count')).toEqual(
      daily.map((b) => b.count),
    );
    expect(await page.$$eval('#event-names option', (o) => o.map((n) => n.getAttribute('value')))).toEqual(
      await events.names(),
    );

    // Two events and an operator, a shorter range that includes today.
    await page.selectOption('#operator', 'and not');
    await page.fill('#event-b', 'login');
    await page.press('#event-b', 'Tab');
    await page.fill('#last', '7');
    await page.press('#last', 'Tab');
    await page.check('#current');
    await settled(page);
    expect(await page.textContent('#result h2')).toBe('active AND NOT login, per day');
    const andNot = await events
      .get('active')
      .andNot(events.get('login'))
      .counts(dayrange(-7, 1, at));
    expect(await attributeNumbers(page, '#result td[data-count]', 'data-count')).toEqual(
      andNot.map((b) => b.count),
    );
    expect(andNot.some((b) => b.count > 0)).toBe(true);
    await page.waitForSelector('#result .chart canvas');
    await page.screenshot({ path: join(TMP, 'serve-trend.png'), fullPage: true });

    // A third event: the builder parenthesises where the operator changes.
    await page.click('#add-term');
    await page.fill('#terms .term:nth-child(2) input', 'signup');
    await page.press('#terms .term:nth-child(2) input', 'Tab');
    await settled(page);
    expect(await page.textContent('#expression')).toBe('(active and not login) or signup');
    const three = await events
      .get('active')
      .andNot(events.get('login'))
      .or(events.get('signup'))
      .counts(dayrange(-7, 1, at));
    expect(await attributeNumbers(page, '#result td[data-count]', 'data-count')).toEqual(
      three.map((b) => b.count),
    );
    expect(three.map((b) => b.count)).not.toEqual(andNot.map((b) => b.count));
    expect(new URL(page.url()).searchParams.getAll('b')).toEqual(['login', 'signup']);
    await page.screenshot({ path: join(TMP, 'serve-three-events.png') });
    await page.click('#terms .remove-term');
    await settled(page);
    expect(await page.textContent('#expression')).toBe('active and not login');

    // A segment narrows the expression.
    await page.selectOption('#segment', 'plan:pro');
    await settled(page);
    expect(await page.textContent('#expression')).toBe('(active and not login) and segment:plan:pro');
    const pro = await events
      .get('active')
      .andNot(events.get('login'))
      .and(events.segment('plan:pro'))
      .counts(dayrange(-7, 1, at));
    expect(await attributeNumbers(page, '#result td[data-count]', 'data-count')).toEqual(
      pro.map((b) => b.count),
    );
    await page.selectOption('#segment', '');
    await settled(page);

    // The funnel of the demo's steps over the same range.
    await page.click('#tab-funnel');
    await settled(page);
    const expectedFunnel = await funnel(
      { steps: DEMO_FUNNEL.map((n) => events.get(n)), range: dayrange(-7, 1, at), window: 7 },
      events,
    );
    expect(await attributeNumbers(page, '.funnel li', 'data-count')).toEqual(
      expectedFunnel.steps.map((s) => s.count),
    );
    expect(expectedFunnel.steps[3]!.count).toBeGreaterThan(0);
    await page.screenshot({ path: join(TMP, 'serve-funnel.png'), fullPage: true });

    // Weekly retention: the unit and range change, the grid follows.
    await page.click('#tab-retention');
    await page.selectOption('#unit', 'week');
    await page.fill('#last', '6');
    await page.press('#last', 'Tab');
    await settled(page);
    const grid = await retention(
      {
        start: events.get('signup'),
        returning: events.get('active'),
        range: weekrange(-6, 1, at),
        periods: 6,
      },
      events,
    );
    expect(await attributeNumbers(page, '#result td[data-size]', 'data-size')).toEqual(
      grid.rows.map((r) => r.size),
    );
    expect(await attributeNumbers(page, '#result td[data-retained]', 'data-retained')).toEqual(
      grid.rows.flatMap((r) => r.cells.map((c) => c.retained)),
    );
    // Every coloured cell stays readable: WCAG contrast of its text on its background.
    const contrasts =
      (await page.evaluate(`[...document.querySelectorAll('#result td[data-rate]')].map((cell) => {
      const style = getComputedStyle(cell);
      const luminance = (css) => {
        const [r, g, b] = css.match(/[\\d.]+/g).slice(0, 3).map((v) => {
          const c = Number(v) / 255;
          return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
        });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
      };
      const [hi, lo] = [luminance(style.color), luminance(style.backgroundColor)].sort((x, y) => y - x);
      return (hi + 0.05) / (lo + 0.05);
    })`)) as number[];
    expect(contrasts.length).toBeGreaterThan(10);
    expect(Math.min(...contrasts)).toBeGreaterThanOrEqual(4.5);
    await page.screenshot({ path: join(TMP, 'serve-retention.png'), fullPage: true });

    await page.click('#tab-lifecycle');
    await settled(page);
    const life = await lifecycle(
      { query: events.get('active').andNot(events.get('login')), range: weekrange(-6, 1, at) },
      events,
    );
    for (const key of ['new', 'returning', 'resurrecting', 'dormant'] as const) {
      expect(await attributeNumbers(page, `#result td[data-${key}]`, `data-${key}`), key).toEqual(
        life.periods.map((p) => p[key]),
      );
    }
    await page.screenshot({ path: join(TMP, 'serve-lifecycle.png'), fullPage: true });

    // The demo tracks daily and monthly activity: by day, the last 6 days and today.
    await page.click('#tab-activity');
    await page.selectOption('#unit', 'day');
    await settled(page);
    const span = dayrange(-6, 1, at);
    const rows = await lib.activity.lookup({
      period: 'daily',
      start: span.start.toJSDate(),
      end: span.end.toJSDate(),
      buckets: ['android', 'ios', 'web'],
    });
    expect(await attributeNumbers(page, '#result td[data-bucket="web"]', 'data-count')).toEqual(
      rows.map((r) => r.counts.web),
    );
    expect(await attributeNumbers(page, '#result td[data-bucket="android"]', 'data-count')).toEqual(
      rows.map((r) => r.counts.android),
    );
    expect(rows[0]!.counts.web).toBeGreaterThan(0);
    await page.screenshot({ path: join(TMP, 'serve-activity.png'), fullPage: true });

    // The URL holds the view: a reload shows the same one.
    const url = new URL(page.url());
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      view: 'activity',
      a: 'active',
      op: 'and not',
      b: 'login',
      unit: 'day',
      last: '6',
      current: '1',
    });
    await page.reload({ waitUntil: 'load' });
    await settled(page);
    expect(await page.getAttribute('#tab-activity', 'aria-selected')).toBe('true');
    expect(await page.inputValue('#event-b')).toBe('login');
    expect(await attributeNumbers(page, '#result td[data-bucket="web"]', 'data-count')).toEqual(
      rows.map((r) => r.counts.web),
    );

    expect(problems).toEqual([]);
    expect(requests.filter((r) => !r.startsWith(`${origin}/`))).toEqual([]);
    expect(requests.some((r) => r.startsWith(`${origin}/api/funnel?`))).toBe(true);
  });

  it('a shared URL opens its view; an API error is shown, not thrown', async () => {
    const { page, problems } = await open(
      `${origin}/?view=retention&a=active&unit=week&last=4&start=signup&returning=login&periods=3&kind=on-or-after`,
    );
    const grid = await retention(
      {
        start: events.get('signup'),
        returning: events.get('login'),
        range: weekrange(-4, 0, at),
        periods: 3,
        kind: 'on-or-after',
      },
      events,
    );
    expect(await attributeNumbers(page, '#result td[data-retained]', 'data-retained')).toEqual(
      grid.rows.flatMap((r) => r.cells.map((c) => c.retained)),
    );
    await page.click('#tab-trend');
    await settled(page);
    await page.selectOption('#unit', 'hour');
    await page.fill('#last', '6000');
    await page.press('#last', 'Tab');
    await page.waitForSelector('#view[data-state="failed"]', { state: 'attached' });
    expect(await page.textContent('#status')).toMatch(/at most 5000: .* \(RANGE_TOO_LARGE\)$/);
    expect(await page.$$eval('#result *', (n) => n.length)).toBe(0);
    expect(problems.filter((p) => !p.includes('400'))).toEqual([]);
  });

  it('reads the token from #token= and sends it as a bearer header', async () => {
    const { page, requests, problems } = await open(`${guardedOrigin}/#token=page-token-123`);
    expect(await page.$$eval('#result td[data-count]', (n) => n.length)).toBe(14);
    expect(problems).toEqual([]);
    expect(requests.filter((r) => !r.startsWith(`${guardedOrigin}/`))).toEqual([]);
  });

  it('asks for the token when the server wants one', async () => {
    const page = await browser.newPage();
    const asked: string[] = [];
    page.on('dialog', async (dialog) => {
      asked.push(dialog.message());
      await dialog.accept('page-token-123');
    });
    await page.goto(`${guardedOrigin}/`, { waitUntil: 'load' });
    await settled(page);
    expect(asked).toEqual(['This server needs its access token:']);
    expect(await page.$$eval('#result td[data-count]', (n) => n.length)).toBe(14);
    await page.close();
  });

  it('fits a 390 px phone: no horizontal scroll of the page, charts within the width', async () => {
    const { page, problems } = await open(
      `${origin}/?view=trend&a=active&op=or&b=signup&unit=day&last=14`,
      390,
      844,
    );
    await page.waitForSelector('#result .chart canvas');
    const widths = {
      page: await pageWidth(page),
      chart:
        (await page.locator('#result .chart').boundingBox())!.x +
        (await page.locator('#result .chart').boundingBox())!.width,
    };
    expect(widths.page).toBeLessThanOrEqual(390);
    expect(widths.chart).toBeLessThanOrEqual(390);
    await page.screenshot({ path: join(TMP, 'serve-phone-trend.png'), fullPage: true });
    await page.click('#tab-funnel');
    await settled(page);
    expect(await pageWidth(page)).toBeLessThanOrEqual(390);
    await page.screenshot({ path: join(TMP, 'serve-phone-funnel.png'), fullPage: true });
    await page.click('#tab-retention');
    await settled(page);
    await page.screenshot({ path: join(TMP, 'serve-phone-retention.png'), fullPage: true });
    expect(problems).toEqual([]);
  });

  afterAll(async () => {
    for (const { page } of opened) await page.close().catch(() => {});
  });
});
