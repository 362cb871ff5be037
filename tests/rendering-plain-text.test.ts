/** htmlToPlainText: readable text parts that never alter a `{{placeholder}}`. */

import { describe, expect, it } from 'vitest';
import { PLAIN_TEXT_LINE_WIDTH, htmlToPlainText } from '../src/rendering/plain-text.ts';

const FILLER = '\u00A0\u200C\u200B\u200D\u200E\u200F\uFEFF';

function page(body: string): string {
  return `<!DOCTYPE html><html lang="en"><head><title>T</title><style>p { color: red }</style></head><body>${body}</body></html>`;
}

describe('htmlToPlainText', () => {
  it('keeps headings as written, with blank lines around them', () => {
    const text = htmlToPlainText(page('<p>Intro</p><h1>Hello {{firstName}}</h1><h2>Big News</h2><p>Body</p>'));
    expect(text).toBe('Intro\n\nHello {{firstName}}\n\nBig News\n\nBody\n');
  });

  it('renders links as "text <url>", but a bare URL only once', () => {
    const text = htmlToPlainText(
      page(
        '<p><a href="https://x.example/a">Read this</a> or <a href="https://x.example/b">https://x.example/b</a>' +
          ' or <a href="mailto:me@example.com">me@example.com</a> or <a href="#top">top</a></p>',
      ),
    );
    expect(text.replace(/\s+/g, ' ')).toBe(
      'Read this <https://x.example/a> or https://x.example/b or me@example.com or top ',
    );
  });

  it('keeps placeholders in links and text exactly', () => {
    const text = htmlToPlainText(
      page(
        '<p>Hi {{firstName}}, <a href="{{unsubscribeUrl}}">Unsubscribe</a> · <a href="{{webVersionUrl}}">View</a></p>',
      ),
    );
    expect(text).toContain('Hi {{firstName}},');
    expect(text).toContain('Unsubscribe <{{unsubscribeUrl}}>');
    expect(text).toContain('View <{{webVersionUrl}}>');
  });

  it('shows an image as its alt text in brackets, or not at all', () => {
    const text = htmlToPlainText(
      page('<p>A <img src="a.png" alt="red chart"> B <img src="b.png" alt=""> C <img src="c.png"> D</p>'),
    );
    expect(text).toBe('A [red chart] B C D\n');
  });

  it('skips the preheader block and its filler', () => {
    const preview =
      '<div style="display:none" data-skip-in-text="true">Secret preheader<div>' + FILLER.repeat(20) + '</div></div>';
    const text = htmlToPlainText(page(`${preview}<p>Visible</p>`));
    expect(text).toBe('Visible\n');
  });

  it('removes stray preview filler even outside a skipped block', () => {
    const text = htmlToPlainText(page(`<p>Visible${FILLER.repeat(3)}</p>`));
    expect(text).toBe('Visible\n');
  });

  it('keeps list bullets and numbers, and quotes', () => {
    const text = htmlToPlainText(
      page('<ul><li>one</li><li>two</li></ul><ol><li>first</li></ol><blockquote><p>quoted</p></blockquote>'),
    );
    expect(text).toBe(' * one\n * two\n\n 1. first\n\n> quoted\n');
  });

  it(`wraps at ${PLAIN_TEXT_LINE_WIDTH} columns without splitting a placeholder or a URL`, () => {
    const longUrl = `https://news.example.com/${'very-long-path-segment/'.repeat(6)}end`;
    const words = 'lorem ipsum dolor sit amet '.repeat(6);
    const text = htmlToPlainText(
      page(
        `<p>${words}{{unsubscribeUrl}} ${words}{{firstName}} ${words}<a href="${longUrl}">link</a> ${words}${longUrl} {{attributes.company}} end</p>`,
      ),
    );
    for (const line of text.split('\n')) {
      if (line.length > PLAIN_TEXT_LINE_WIDTH) expect(line).not.toContain(' ');
    }
    expect(text).toContain('{{unsubscribeUrl}}');
    expect(text).toContain('{{firstName}}');
    expect(text).toContain('{{attributes.company}}');
    expect(text).toContain(`<${longUrl}>`);
    expect(text.split('\n')).toContain(longUrl);
  });

  it('turns layout table cells into blocks and keeps Markdown tables as grids', () => {
    const text = htmlToPlainText(
      page(
        '<table role="presentation"><tbody><tr><td><p>Cell one</p></td></tr><tr><td><p>Cell two</p></td></tr></tbody></table>' +
          '<table data-text-format="dataTable"><thead><tr><th>Step</th><th>Time</th></tr></thead>' +
          '<tbody><tr><td>Render</td><td>40 ms</td></tr></tbody></table>',
      ),
    );
    expect(text).toContain('Cell one\n\nCell two');
    expect(text).toMatch(/Step\s+Time\nRender\s+40 ms/);
  });

  it('ignores head, style and script content', () => {
    const text = htmlToPlainText(page('<p>Only this</p><script>var a = 1;</script>'));
    expect(text).toBe('Only this\n');
  });
});
