/**
 * The newest real issue, for previews: `npm run preview-props` writes its props to latest-issue.json beside this
 * file (ignored by git), and the templates' PreviewProps use it instead of the shipped sample while it exists. The
 * file is read when a preview asks for props, never when a template is imported for sending.
 */

import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { SampleIssue } from './sample.ts';

/** Where `npm run preview-props` writes, relative to the project root. */
export const LATEST_ISSUE_PATH = 'emails/_preview/latest-issue.json';

const imageSchema = z.object({ url: z.string(), alt: z.string() }).strict();

const articleSchema = z
  .object({
    title: z.string(),
    summary: z.string(),
    body: z.string(),
    url: z.string(),
    author: z.string(),
    publishedAt: z.string(),
    leadImage: imageSchema.nullable(),
    tags: z.array(z.string()),
  })
  .strict();

export const latestIssueSchema = z
  .object({
    /** What the props came from, e.g. `weekly #3`; shown nowhere in the email. */
    source: z.string(),
    brand: z
      .object({ name: z.string(), logoUrl: z.string(), postalAddress: z.string(), websiteUrl: z.string(), language: z.string() })
      .strict(),
    issue: z.object({ subject: z.string(), preheader: z.string(), number: z.number().int(), date: z.string() }).strict(),
    articles: z.array(articleSchema).min(1),
  })
  .strict();

/** What the file holds (the schema's output fits it). */
export type LatestIssue = SampleIssue & { readonly source: string };

/**
 * The file's path: beside this module when it runs from its source file (tsx, vitest), else from the working
 * directory (React Email's preview server runs a bundled copy elsewhere, started from the project root).
 */
function latestIssueFile(): string {
  try {
    const here = fileURLToPath(new URL('./latest-issue.json', import.meta.url));
    if (existsSync(here)) return here;
  } catch {
    // Not a file: URL (a bundle): fall through.
  }
  return resolve(process.cwd(), LATEST_ISSUE_PATH);
}

let warned = '';

/**
 * The exported real issue, or null when there is none (or it is unreadable: then one warning names the problem).
 * `file` defaults to emails/_preview/latest-issue.json.
 */
export function readLatestIssue(file = latestIssueFile()): LatestIssue | null {
  if (!existsSync(file)) return null;
  try {
    const parsed = latestIssueSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    if (parsed.success) return parsed.data;
    const issue = parsed.error.issues[0];
    throw new Error(`${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`);
  } catch (error) {
    const message = `${file}: ${error instanceof Error ? error.message : String(error)}; previewing the shipped sample instead (npm run preview-props writes it again)`;
    if (message !== warned) console.warn(message);
    warned = message;
    return null;
  }
}
