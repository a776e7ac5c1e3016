/**
 * Debian's Chromium for the browser tests (report and serve page), driven by playwright-core.
 * Without it the tests skip loudly; under CI=true a green run that never opened a page would
 * prove nothing, so a failing test takes their place.
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { describe, it } from 'vitest';

export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);

/** Call once at the top of a browser test file; `what` names what goes unchecked. */
export function requireChromium(what: string): void {
  if (hasChromium) return;
  const line = '!'.repeat(78);
  console.warn(
    `\n${line}\n!! SKIPPED: ${CHROMIUM} not found: ${what} is not checked in a browser.\n!! Install it (apt-get install -y chromium) to run these tests.\n${line}\n`,
  );
  describe.runIf(process.env.CI === 'true')(`${what} in Chromium under CI`, () => {
    it('needs /usr/bin/chromium', () => {
      throw new Error(
        `${CHROMIUM} is missing and CI=true requires the browser tests of ${what} to run (apt-get install -y chromium)`,
      );
    });
  });
}

/** Headless, and nothing of its own on the network: the tests count every request. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
