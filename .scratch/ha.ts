import { readFileSync } from 'node:fs';
import { extractArticleFromHtml } from '../src/content/html-article.ts';
const t = Date.now();
const r = extractArticleFromHtml(readFileSync(process.argv[2]!, 'utf8'), process.argv[2]!, { url: process.argv[3] });
console.log(JSON.stringify({ ...r.article, body: undefined }, null, 1));
console.log('---BODY---\n' + r.article.body);
console.log('ms', Date.now() - t);
