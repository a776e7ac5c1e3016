/**
 * The report opened in headless Chromium: the charts show the numbers the library computes
 * on the same data, nothing is fetched, nothing logs an error, user strings stay text.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cohort, funnel, lifecycle, retention, stickiness } from '@porpoise/events';
import { dayrange, weekrange } from '@porpoise/timerange';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasChromium, launchChromium, requireChromium } from './chromium.js';
import { demoLibrary, MEMORY_DEMO, REPO_ROOT, spawnCli, TMP } from './support.js';

requireChromium('the HTML report');

interface Opened {
  page: Page;
  requests: string[];
  problems: string[];
  url: string;
}

describe.skipIf(!hasChromium)('porpoise report in headless Chromium', () => {
  let browser: Browser;
  const pages: Page[] = [];

  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    for (const page of pages) await page.close();
    await browser?.close();
  });

  async function open(file: string): Promise<Opened> {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    pages.push(page);
    const requests: string[] = [];
    const problems: string[] = [];
    page.on('request', (request) => requests.push(request.url()));
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    const url = pathToFileURL(file).href;
    await page.goto(url, { waitUntil: 'load' });
    return { page, requests, problems, url };
  }

  const numbers = (page: Page, selector: string, attribute = 'data-value') =>
    page.$$eval(selector, (nodes, name) => nodes.map((n) => Number(n.getAttribute(name))), attribute);

  describe('on the demo month', () => {
    const file = join(TMP, 'report-test.html');
    let opened: Opened;
    let lib: Awaited<ReturnType<typeof demoLibrary>>;

    beforeAll(async () => {
      const [outcome, library] = await Promise.all([
        spawnCli(['report', '--out', file, '--days', '30', '--weeks', '8', ...MEMORY_DEMO]),
        demoLibrary(),
      ]);
      expect(outcome.stderr).toBe('');
      expect(outcome.code).toBe(0);
      expect(outcome.stdout).toMatch(/^Wrote .*report-test\.html \(\d+ KB\)/);
      lib = library;
      opened = await open(file);
    });

    it('draws the daily active users the library counts, one bar per day', async () => {
      const dau = await lib.events.get('active').counts(dayrange(-30, 0, lib.at));
      expect(await numbers(opened.page, '#dau-chart rect.bar')).toEqual(dau.map((d) => d.count));
      const keys = await opened.page.$$eval('#dau-chart rect.bar', (bars) =>
        bars.map((b) => b.getAttribute('data-key')),
      );
      expect(keys).toEqual(dau.map((d) => d.bucket.key));
      const title = await opened.page.$eval('#dau-chart rect.bar:last-of-type title', (t) => t.textContent);
      expect(title).toBe(`Monday 23 November 2026: ${dau.at(-1)!.count.toLocaleString('en-US')} active`);
      expect(await opened.page.isVisible('#dau-chart')).toBe(true);
    });

    it('draws the retention grid of the library, cell by cell', async () => {
      const rows = await cohort({
        cohort: lib.events.get('signup'),
        activity: lib.events.get('active'),
        range: weekrange(-8, 0, lib.at),
        periods: 8,
      });
      const cells = await opened.page.$$eval('#retention-grid rect[data-cohort]', (nodes) =>
        nodes.map((n) => ({
          cohort: n.getAttribute('data-cohort'),
          period: Number(n.getAttribute('data-period')),
          rate: Number(n.getAttribute('data-value')),
          retained: Number(n.getAttribute('data-retained')),
        })),
      );
      expect(cells).toEqual(
        rows.flatMap((r) =>
          r.rates.map((rate, k) => ({ cohort: r.bucket.key, period: k + 1, rate, retained: r.retained[k] })),
        ),
      );
      expect(await numbers(opened.page, '#retention-grid .cohort-size')).toEqual(rows.map((r) => r.size));
      expect(cells.length).toBeGreaterThan(10);
    });

    it('marks the cells of the week still running as partial, and only those', async () => {
      const partial = await opened.page.$$eval('#retention-grid rect[data-partial="true"]', (nodes) =>
        nodes.map((n) => `${n.getAttribute('data-cohort')}+${n.getAttribute('data-period')}`),
      );
      // The demo clock is in 2026W48: each cohort meets it k weeks later. The demo month
      // starts in 2026W43, so the empty cohorts before it are left out.
      expect(partial).toEqual(['2026W43+5', '2026W44+4', '2026W45+3', '2026W46+2', '2026W47+1']);
      const label = await opened.page.$eval('#retention-grid g.cell.partial text', (t) => t.textContent);
      expect(label).toMatch(/%\*$/);
    });

    it('lists the top counters and the activity per bucket of the library', async () => {
      const sum = await lib.counters.get('song:played').sum(dayrange(-30, 0, lib.at));
      const ids = await opened.page.$$eval('#top-counters .counter', (nodes) =>
        nodes.map((n) => n.getAttribute('data-id')),
      );
      expect(ids).toEqual(sum.top(10).map(([id]) => id));
      expect(await numbers(opened.page, '#top-counters .counter')).toEqual(sum.top(10).map(([, n]) => n));
      const range = dayrange(-30, 0, lib.at);
      const rows = await lib.activity.lookupDaily({
        start: new Date(range.startMs),
        end: new Date(range.endMs),
        buckets: ['web', 'ios', 'android', 'total'],
        aggregateBuckets: { total: ['web', 'ios', 'android'] },
      });
      for (const bucket of ['web', 'ios', 'android', 'total']) {
        expect(await numbers(opened.page, `#activity-chart circle[data-bucket="${bucket}"]`)).toEqual(
          rows.map((r) => r.counts[bucket]),
        );
      }
    });

    it('draws the funnel, the retention curve, lifecycle bars and the stickiness histogram the library computes', async () => {
      const e = (name: string) => lib.events.get(name);
      const days = dayrange(-30, 0, lib.at);
      const weeks = weekrange(-8, 0, lib.at);
      const steps = ['signup', 'first-play', 'playlist:created', 'subscribed'];
      const expected = await funnel({ steps: steps.map(e), range: days, window: 7 }, lib.events);
      expect(await numbers(opened.page, '#funnel-chart g.step')).toEqual(expected.steps.map((s) => s.count));
      expect(await numbers(opened.page, '#funnel-chart g.step', 'data-from-previous')).toEqual(
        expected.steps.map((s) => s.fromPrevious),
      );
      expect(expected.steps[3]!.count).toBeGreaterThan(0);
      const grid = await retention(
        { start: e('signup'), returning: e('active'), range: weeks, periods: 8 },
        lib.events,
      );
      expect(await numbers(opened.page, '#retention-curve circle.point')).toEqual(
        grid.curve.map((p) => p.rate),
      );
      const life = await lifecycle({ query: e('active'), range: weeks }, lib.events);
      for (const status of ['new', 'returning', 'resurrecting', 'dormant'] as const) {
        expect(await numbers(opened.page, `#lifecycle-chart rect[data-status="${status}"]`)).toEqual(
          life.periods.map((p) => p[status]),
        );
      }
      const sticky = await stickiness({ query: e('active'), range: weekrange(-1, 0, lib.at) }, lib.events);
      expect(await numbers(opened.page, '#stickiness-chart rect.days')).toEqual(sticky.periods[0]!.counts);
      expect(await opened.page.isVisible('#funnel-chart')).toBe(true);
    });

    it('carries the same numbers as inline JSON', async () => {
      const data = JSON.parse(await opened.page.$eval('#report-data', (s) => s.textContent ?? ''));
      expect(data.dau.map((d: { count: number }) => d.count)).toEqual(
        await numbers(opened.page, '#dau-chart rect.bar'),
      );
      expect(await opened.page.$eval('#tile-uniques', (t) => Number(t.getAttribute('data-value')))).toBe(
        (await lib.events.get('active').union(dayrange(-30, 0, lib.at))).size,
      );
    });

    it('fetches nothing, runs nothing and logs no error; a screenshot is kept', async () => {
      expect(opened.requests).toEqual([opened.url]);
      expect(opened.problems).toEqual([]);
      expect(await opened.page.$$eval('script', (s) => s.map((x) => x.getAttribute('type')))).toEqual([
        'application/json',
      ]);
      const html = readFileSync(file, 'utf8');
      expect(html).not.toMatch(/\b(?:src|href)=|https?:\/\/|@import|url\((?!#)/);
      await opened.page.screenshot({ path: join(REPO_ROOT, 'tmp', 'report.png'), fullPage: true });
      expect(existsSync(join(REPO_ROOT, 'tmp', 'report.png'))).toBe(true);
    });
  });

  it('keeps hostile names and ids as text', async () => {
    const file = join(TMP, 'report-hostile.html');
    const names = {
      active: '<img src=x onerror=alert(1)>',
      cohort: '"><svg onload=alert(2)>',
      counter: '</script><script>alert(3)</script>',
    };
    const outcome = await spawnCli([
      'report',
      '--out',
      file,
      '--days',
      '7',
      '--weeks',
      '2',
      '--now',
      '2026-11-24',
      '--active',
      names.active,
      '--cohort',
      names.cohort,
      '--counter',
      names.counter,
      '--buckets',
      "a'b,<b>bold</b>",
      '--aggregate',
      'x&y=<b>bold</b>',
    ]);
    expect(outcome.code).toBe(0);
    const { page, requests, problems, url } = await open(file);
    expect(requests).toEqual([url]);
    expect(problems).toEqual([]);
    expect(await page.$$('img, svg[onload], b, script:not([type="application/json"])')).toEqual([]);
    expect(await page.title()).toContain(names.active);
    expect(await page.textContent('#counters h2')).toBe(`Top ${names.counter}`);
    const data = JSON.parse(await page.$eval('#report-data', (s) => s.textContent ?? ''));
    expect(data.names).toEqual(names);
    expect(data.activity.names).toEqual(["a'b", '<b>bold</b>', 'x&y']);
  });
});
