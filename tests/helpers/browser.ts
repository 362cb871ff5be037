/** Headless Chromium for browser tests: launch it, or skip the suite when it is not installed. */

import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Shown as the suite name when Chromium is missing, so a skipped suite says why. */
export const CHROMIUM_MISSING_MESSAGE = `Chromium not found at ${CHROMIUM_PATH}: browser tests skipped (install it with \`apt-get install -y chromium\`)`;

export function hasChromium(): boolean {
  return existsSync(CHROMIUM_PATH);
}

/** Name a browser suite so that, when it is skipped, the report says it is because Chromium is missing. */
export function describeBrowserSuite(name: string): string {
  return hasChromium() ? name : `${name} (${CHROMIUM_MISSING_MESSAGE})`;
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--no-sandbox',
      '--headless',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
