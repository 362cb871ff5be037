/**
 * The check admin-browser.test.ts runs on every page (tests/helpers/row-buttons.ts) finds row buttons that do not
 * name their item, in a real Chromium: "Remove" on each feed is found, "Remove The Harbor Times" is not.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { describeBrowserSuite, hasChromium, launchBrowser } from './helpers/browser.ts';
import { unnamedRowButtons } from './helpers/row-buttons.ts';

let browser: Browser;
let page: Page;

describe.skipIf(!hasChromium())(describeBrowserSuite('row buttons name their item'), () => {
  beforeAll(async () => {
    browser = await launchBrowser();
    page = await browser.newPage();
  });
  afterAll(async () => {
    await browser?.close();
  });

  test('a button that says only what it does is found; one that names its item is not', async () => {
    await page.setContent(`<main><ul>
      <li><strong>The Harbor Times</strong> <button>Poll now</button> <button aria-label="Remove The Harbor Times">Remove</button></li>
      <li><strong>Port Weekly</strong> <button aria-label="Poll now: Port Weekly">Poll now</button> <button>Remove</button></li>
    </ul><table><tbody><tr><td>nightly export</td><td><button aria-label="Revoke nightly export">Revoke</button></td></tr>
      <tr><td>backup</td><td><button>Revoke</button></td></tr></tbody></table></main>`);
    expect(await unnamedRowButtons(page)).toEqual([
      'button "Poll now" in the row of "The Harbor Times"',
      'button "Remove" in the row of "Port Weekly"',
      'button "Revoke" in the row of "backup"',
    ]);
  });
});
