import { readFileSync } from 'node:fs';
import { parsePageText } from '/work/main/src/content/page-text.ts';
import matter from 'gray-matter';
const r = parsePageText(readFileSync(process.argv[2] ?? '/work/shared/samples/article-page.txt', 'utf8'), 'sample.txt', { now: new Date('2026-01-01T00:00:00Z') });
console.log(JSON.stringify({ ...r.article, body: undefined }, null, 1));
console.log('---BODY---\n' + r.article.body);
console.log('---DROPPED---', r.dropped);
const hand = matter(readFileSync('/work/main/data/articles/2026-11-20-microsoft-openai-tentative-deal.md', 'utf8'));
if (!process.argv[2]) console.log('BODY EQUALS HAND-MADE:', hand.content.trim() === r.article.body, 'SUMMARY EQUALS:', hand.data.summary === r.article.summary);
