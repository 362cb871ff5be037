/** An article as the Markdown file with front matter that reads back as the same article (the web app's editor, round trip with parseArticleFile). */
import matter from 'gray-matter';
import type { ArticleInput } from '../core/domain.ts';

export function articleToMarkdown(article: ArticleInput): string {
  const fields: Record<string, unknown> = { title: article.title, slug: article.slug };
  if (article.summary) fields['summary'] = article.summary;
  if (article.canonicalUrl) fields['canonical_url'] = article.canonicalUrl;
  if (article.author) fields['author'] = article.author;
  if (article.publishedAt) fields['published'] = article.publishedAt;
  if (article.leadImage) fields['lead_image'] = { url: article.leadImage.url, alt: article.leadImage.alt };
  if (article.tags.length > 0) fields['tags'] = [...article.tags];
  const body = article.body.endsWith('\n') ? article.body : `${article.body}\n`;
  return matter.stringify(body, fields);
}
