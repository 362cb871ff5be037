/** The Markdown walker: every Markdown feature becomes email markup, and nothing unsafe gets through. */

import { render } from '@react-email/render';
import { describe, expect, it } from 'vitest';
import {
  Markdown,
  countWords,
  decodeEntities,
  excerptMarkdown,
  resolveSafeUrl,
} from '../emails/components/markdown.tsx';

async function renderMarkdown(markdown: string, baseUrl?: string): Promise<string> {
  const html = await render(<Markdown markdown={markdown} baseUrl={baseUrl} />);
  // Drop the doctype and React's boundary comments; they are irrelevant to what a client shows.
  return html
    .replace(/^<!DOCTYPE[^>]*>/, '')
    .replace(/<!--\/?\$-->/g, '')
    .replaceAll('<!-- -->', '');
}

describe('Markdown', () => {
  it('renders headings h1–h6 with inline sizes', async () => {
    const html = await renderMarkdown('# One\n\n## Two\n\n### Three\n\n#### Four\n\n##### Five\n\n###### Six');
    for (const [tag, text, size] of [
      ['h1', 'One', 26],
      ['h2', 'Two', 22],
      ['h3', 'Three', 19],
      ['h4', 'Four', 17],
      ['h5', 'Five', 16],
      ['h6', 'Six', 15],
    ] as const) {
      expect(html).toMatch(new RegExp(`<${tag}[^>]*font-size:${size}px[^>]*>${text}</${tag}>`));
    }
  });

  it('renders paragraphs, emphasis, code and line breaks', async () => {
    const html = await renderMarkdown('Some **bold**, *em*, ~~gone~~ and `x < y`.  \nNext line.');
    expect(html).toMatch(
      /^<p[^>]*>Some <strong>bold<\/strong>, <em>em<\/em>, <del>gone<\/del> and <code[^>]*>x &lt; y<\/code>\.<br\/>Next line\.<\/p>$/,
    );
  });

  it('renders lists as real ul/ol/li, nested and numbered from their start', async () => {
    const html = await renderMarkdown('- a\n- b\n  - b1\n\n3. three\n4. four\n\n- [x] done\n- [ ] todo');
    expect(html).toMatch(/<ul[^>]*><li[^>]*>a<\/li><li[^>]*>b<ul[^>]*><li[^>]*>b1<\/li><\/ul><\/li><\/ul>/);
    expect(html).toMatch(/<ol start="3"[^>]*><li[^>]*>three<\/li><li[^>]*>four<\/li><\/ol>/);
    expect(html).toContain('>☑ done</li>');
    expect(html).toContain('>☐ todo</li>');
  });

  it('renders blockquotes with a left border, code blocks, rules and tables', async () => {
    const html = await renderMarkdown(
      '> quoted\n\n```js\nif (a < b) { run(); }\n```\n\n---\n\n| Name | Count |\n| --- | ---: |\n| a | 1 |',
    );
    expect(html).toMatch(/<blockquote[^>]*border-left:4px solid[^>]*><p[^>]*>quoted<\/p><\/blockquote>/);
    expect(html).toMatch(/<pre[^>]*white-space:pre-wrap[^>]*><code>if \(a &lt; b\) \{ run\(\); \}<\/code><\/pre>/);
    expect(html).toMatch(/<hr[^>]*>/);
    expect(html).toMatch(/<th scope="col"[^>]*>Name<\/th>/);
    expect(html).toMatch(/<td[^>]*text-align:right[^>]*>1<\/td>/);
  });

  it('renders http(s) and mailto links, and resolves relative ones against baseUrl', async () => {
    const html = await renderMarkdown(
      '[a](https://a.example/x) [m](mailto:me@example.com) [rel](../up?q=1) <https://auto.example/> [t](https://t.example "Title")',
      'https://blog.example.com/posts/one',
    );
    expect(html).toMatch(/<a href="https:\/\/a\.example\/x"[^>]*>a<\/a>/);
    expect(html).toMatch(/<a href="mailto:me@example\.com"[^>]*>m<\/a>/);
    expect(html).toMatch(/<a href="https:\/\/blog\.example\.com\/up\?q=1"[^>]*>rel<\/a>/);
    expect(html).toMatch(/<a href="https:\/\/auto\.example\/"[^>]*>https:\/\/auto\.example\/<\/a>/);
    expect(html).toMatch(/<a href="https:\/\/t\.example\/" title="Title"[^>]*>t<\/a>/);
  });

  it('renders relative links as plain text when there is no baseUrl', async () => {
    const html = await renderMarkdown('See [the docs](/docs).');
    expect(html).not.toContain('<a');
    expect(html).toContain('See the docs.');
  });

  it.each([
    'javascript:alert(1)',
    'JaVaScRiPt:alert(1)',
    ' javascript:alert(1)',
    'java&#x09;script:alert(1)',
    'vbscript:msgbox(1)',
    'data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==',
    'file:///etc/passwd',
  ])('renders a link to %s as plain text', async (href) => {
    const html = await renderMarkdown(`Click [here](<${href}>) now.`, 'https://blog.example.com/');
    expect(html).not.toContain('<a');
    expect(html).not.toMatch(/javascript:|vbscript:|data:text/i);
    expect(html).toContain('Click here now.');
  });

  it('renders images responsively, always with an alt attribute', async () => {
    const html = await renderMarkdown(
      '![A chart](https://img.example/chart.png "Q3") ![](https://img.example/no-alt.png) ![rel](img/r.png)',
      'https://blog.example.com/posts/one',
    );
    expect(html).toMatch(/<img title="Q3" alt="A chart" src="https:\/\/img\.example\/chart\.png"[^>]*>/);
    expect(html).toMatch(/<img alt="" src="https:\/\/img\.example\/no-alt\.png"/);
    expect(html).toMatch(/<img alt="rel" src="https:\/\/blog\.example\.com\/posts\/img\/r\.png"/);
    for (const img of html.match(/<img\b[^>]*>/g) ?? []) {
      expect(img).toMatch(/style="[^"]*width:100%;max-width:100%;height:auto/);
      expect(img).toContain('width="552"');
    }
  });

  it('renders an image with an unsafe or unresolvable URL as its alt text', async () => {
    const html = await renderMarkdown('![tracking pixel](data:image/gif;base64,R0lGOD) ![local](pic.png)');
    expect(html).not.toContain('<img');
    expect(html).toContain('tracking pixel local');
  });

  it('never injects raw HTML', async () => {
    const html = await renderMarkdown(
      [
        '<script>alert("block")</script>',
        '',
        '<div onclick="x()">Kept <b>text</b> &amp; more</div>',
        '',
        'Inline <img src=x onerror=alert(1)> and <script>alert("inline")</script> and <b>bold</b>, a<br>break.',
        '',
        '<iframe src="https://evil.example"></iframe>',
        '',
        '<!-- a comment -->',
      ].join('\n'),
    );
    expect(html).not.toMatch(/<(script|div|iframe|b)\b/i);
    expect(html).not.toMatch(/onerror|onclick|alert|evil\.example|a comment/);
    expect(html).toContain('Kept text &amp; more');
    expect(html).toContain('Inline  and  and bold, a<br/>break.');
  });

  it('decodes character references in text but not in code', async () => {
    const html = await renderMarkdown('Fish &amp; chips &copy; &#8212; &#x1F600; &bogus; `&amp;`');
    expect(html).toContain('Fish &amp; chips © — 😀 &amp;bogus; <code');
    expect(html).toMatch(/<code[^>]*>&amp;amp;<\/code>/);
  });

  it('escapes characters that look like markup in plain text', async () => {
    const html = await renderMarkdown('5 \\< 6 and 7 \\> 3 and "quotes"');
    expect(html).toContain('5 &lt; 6 and 7 &gt; 3 and &quot;quotes&quot;');
  });
});

describe('Markdown helpers', () => {
  it('decodeEntities handles numeric, named and unknown references', () => {
    expect(decodeEntities('&lt;b&gt; &#65;&#x42; &nbsp;&unknown; &#0;')).toBe('<b> AB \u00A0&unknown; \uFFFD');
  });

  it('resolveSafeUrl allows only the given schemes', () => {
    const links = new Set(['http:', 'https:', 'mailto:']);
    expect(resolveSafeUrl('https://x.example/a b', undefined, links)).toBe('https://x.example/a%20b');
    expect(resolveSafeUrl('/p', 'https://x.example/a/b', links)).toBe('https://x.example/p');
    expect(resolveSafeUrl('//cdn.example/i.png', 'https://x.example/', links)).toBe('https://cdn.example/i.png');
    expect(resolveSafeUrl('/p', undefined, links)).toBeNull();
    expect(resolveSafeUrl('java\nscript:alert(1)', 'https://x.example/', links)).toBeNull();
    expect(resolveSafeUrl('', 'https://x.example/', links)).toBeNull();
  });

  it('countWords ignores Markdown punctuation', () => {
    expect(countWords('# Title\n\n- one two\n- three\n\n---\n\n> four')).toBe(5);
  });

  it('excerptMarkdown keeps whole leading blocks up to the word budget, and link definitions', () => {
    const markdown = [
      'First paragraph has five words.',
      '- a list item',
      '  with two lines',
      'Third block is [cut][r].',
      '[r]: https://x.example',
    ].join('\n\n');
    const excerpt = excerptMarkdown(markdown, 12);
    expect(excerpt).toContain('First paragraph has five words.');
    expect(excerpt).toContain('- a list item');
    expect(excerpt).not.toContain('Third block');
    expect(excerpt).toContain('[r]: https://x.example');
    expect(excerptMarkdown('One enormous paragraph that is far longer than the budget allows.', 3)).toContain(
      'enormous',
    );
  });
});
