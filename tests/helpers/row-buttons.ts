/**
 * Row buttons that do not name their item: in every list item and table row of the page's main content, each
 * button's accessible name (aria-label, else aria-labelledby, else its text) must include the row's item name (its
 * first <strong>, <a>, <td> or <span> outside buttons). A screen reader lists "Remove" once per row otherwise.
 */
import type { Page } from 'playwright-core';

export async function unnamedRowButtons(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const problems: string[] = [];
    const nameOf = (b: HTMLElement): string => {
      const label = b.getAttribute('aria-label');
      if (label) return label;
      const by = b.getAttribute('aria-labelledby');
      if (by) return by.split(/\s+/).map((id) => document.getElementById(id)?.textContent ?? '').join(' ');
      return b.textContent ?? '';
    };
    for (const row of Array.from(document.querySelectorAll('main li, main tr'))) {
      const buttons = Array.from(row.querySelectorAll<HTMLElement>('button')).filter((b) => b.closest('li, tr') === row);
      if (buttons.length === 0) continue;
      const item = Array.from(row.querySelectorAll('strong, a, td, span')).find((e) => !e.closest('button') && !e.querySelector('button') && (e.textContent ?? '').trim() !== '');
      const itemName = (item?.textContent ?? '').trim();
      for (const b of buttons) {
        const name = nameOf(b).replace(/\s+/g, ' ').trim();
        if (!itemName || !name.includes(itemName)) problems.push(`button "${name}" in the row of "${itemName || (row.textContent ?? '').trim().slice(0, 60)}"`);
      }
    }
    return problems;
  });
}
