/** articleToMarkdown reads back as the same article: titles and summaries with YAML's special characters, a lead image, tags. */
import { describe, expect, test } from 'vitest';
import { parseArticleFile } from '../src/content/article-file.ts';
import { articleToMarkdown } from '../src/content/article-markdown.ts';
import type { ArticleInput } from '../src/core/domain.ts';

const base: ArticleInput = {
  slug: 'ferries',
  title: 'Ferries: "electric" at last # really? {{firstName}}',
  summary: "- it's a dash, then: a colon & more",
  body: '# Heading\n\nText with `code` and ---\n\n---\n\nAfter a rule.',
  canonicalUrl: 'https://example.com/a?b=1#c',
  author: 'Ada: Lovelace',
  publishedAt: '2026-11-24T09:30:00.000Z',
  leadImage: { url: 'https://example.com/i.png', alt: 'A ferry: quiet' },
  tags: ['news', 'yes', 'null'],
};

describe('articleToMarkdown', () => {
  test('round trip through the article file reader', () => {
    const back = parseArticleFile(articleToMarkdown(base), 'edit.md');
    expect(back.title).toBe(base.title);
    expect(back.slug).toBe(base.slug);
    expect(back.summary).toBe(base.summary);
    expect(back.body.trim()).toBe(base.body.trim());
    expect(back.canonicalUrl).toBe(base.canonicalUrl);
    expect(back.author).toBe(base.author);
    expect(new Date(back.publishedAt).toISOString()).toBe(base.publishedAt);
    expect(back.leadImage).toEqual(base.leadImage);
    expect(back.tags).toEqual(base.tags);
  });

  test('no image, no tags, no summary: those keys are left out', () => {
    const text = articleToMarkdown({ ...base, leadImage: null, tags: [], summary: '' });
    expect(text).not.toMatch(/lead_image|tags|summary/);
  });
});
