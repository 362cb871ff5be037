/** The pure email checks (src/checks/email-checks.ts) on fixtures with known problems. */

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkEmailHtml, describeClient } from '../src/checks/email-checks.ts';
import { HTML_LIMIT_BYTES, HTML_WARN_BYTES } from '../src/checks/gmail-clipping.ts';

const problems = readFileSync(new URL('./fixtures/emails/problems.html', import.meta.url), 'utf8');

/** A valid email document of about `bytes` UTF-8 bytes (multi-byte text, so characters and bytes differ). */
function emailOfBytes(bytes: number): string {
  const head = '<!DOCTYPE html><html lang="en"><head><title>Big</title></head><body><p>';
  const tail = '</p></body></html>';
  const filler = 'é'.repeat(Math.floor((bytes - head.length - tail.length) / 2));
  return `${head}${filler}${tail}`;
}

describe('checkEmailHtml', () => {
  it('lists images without an alt attribute, and keeps alt="" images as decorative, not missing', () => {
    const report = checkEmailHtml(problems);
    expect(report.images).toHaveLength(4);
    expect(report.imagesWithoutAlt).toEqual([{ src: 'https://news.example.com/logo.png', alt: null }]);
    expect(report.images).toContainEqual({ src: 'https://news.example.com/divider.png', alt: '' });
  });

  it('names every link as a screen reader would: text, alt text of images inside, aria-label', () => {
    const report = checkEmailHtml(problems);
    expect(report.links).toEqual([
      { href: 'https://news.example.com/a', name: '' },
      { href: 'https://news.example.com/one', name: 'Read more' },
      { href: 'https://news.example.com/two', name: 'Read more' },
      { href: 'https://news.example.com/three', name: 'Read “Three”' },
      { href: 'https://news.example.com/one', name: 'read more' },
      { href: 'https://news.example.com/four', name: 'Four charts' },
      { href: 'mailto:editor@example.com', name: 'Write to the editor' },
    ]);
    expect(report.unnamedLinks).toEqual([{ href: 'https://news.example.com/a', name: '' }]);
  });

  it('reports one name shared by links to different places, whatever the case and spacing', () => {
    const report = checkEmailHtml(problems);
    expect(report.ambiguousLinkNames).toEqual([{ name: 'Read more', hrefs: ['https://news.example.com/one', 'https://news.example.com/two'] }]);
  });

  it('groups caniemail findings per feature with every client and family concerned', () => {
    const report = checkEmailHtml(problems);
    expect(report.unsupportedError).toBeNull();
    const byFeature = new Map(report.unsupported.map((finding) => [finding.feature, finding]));
    expect(byFeature.get('target attribute')).toEqual({
      feature: 'target attribute',
      clients: ['gmail.android', 'gmail.desktop-webmail', 'gmail.ios', 'gmail.mobile-webmail', 'yahoo.android', 'yahoo.desktop-webmail', 'yahoo.ios'],
      families: ['gmail', 'yahoo'],
    });
    expect(byFeature.get('border-radius')).toEqual({ feature: 'border-radius', clients: ['outlook.windows', 'outlook.windows-mail'], families: ['outlook'] });
    expect(byFeature.get('@media')?.families).toEqual(['gmail', 'outlook']);
    // Only the clients asked for.
    const gmailOnly = checkEmailHtml(problems, { clients: ['gmail.*'] });
    expect(gmailOnly.unsupported.flatMap((finding) => finding.families)).not.toContain('outlook');
    expect(gmailOnly.unsupported.map((finding) => finding.feature)).toContain('target attribute');
    expect(gmailOnly.unsupported.map((finding) => finding.feature)).not.toContain('border-radius');
    expect(describeClient('outlook.windows')).toBe('Outlook on Windows');
  });

  it('measures the HTML in UTF-8 bytes against Gmail\'s clipping', () => {
    const small = checkEmailHtml(problems);
    expect(small.html).toEqual({ bytes: Buffer.byteLength(problems), limitBytes: 102 * 1024, warnBytes: 90 * 1024, verdict: 'ok' });
    const near = checkEmailHtml(emailOfBytes(HTML_WARN_BYTES + 1000));
    expect(near.html.verdict).toBe('near');
    const clipped = checkEmailHtml(emailOfBytes(HTML_LIMIT_BYTES + 1000));
    expect(clipped.html.verdict).toBe('clipped');
    expect(clipped.html.bytes).toBeGreaterThan(HTML_LIMIT_BYTES);
    // 60,000 characters of "é" are 120,000 bytes: counted as bytes, clipped.
    const wide = checkEmailHtml(`<p>${'é'.repeat(60_000)}</p>`);
    expect(wide.html.verdict).toBe('clipped');
  });

  it('finds nothing to report in a clean email', () => {
    const report = checkEmailHtml('<!DOCTYPE html><html lang="en"><head><title>Clean</title></head><body><p><a href="https://example.com/x">The report</a></p></body></html>');
    expect(report.imagesWithoutAlt).toEqual([]);
    expect(report.unnamedLinks).toEqual([]);
    expect(report.ambiguousLinkNames).toEqual([]);
    expect(report.links).toEqual([{ href: 'https://example.com/x', name: 'The report' }]);
  });
});
