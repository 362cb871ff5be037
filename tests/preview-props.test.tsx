/**
 * `npm run preview-props`: the newest real issue's props, written by the real script from a real SQLite workspace,
 * read back by the templates' PreviewProps; the shipped sample when there is none or the file is bad.
 */

import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { render } from '@react-email/render';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { latestIssueSchema } from '../emails/_preview/latest-issue.ts';
import { previewArticleProps, previewDigestProps } from '../emails/_preview/preview-props.ts';
import DigestEmail from '../emails/digest.tsx';
import { loadDemoWorkspace } from '../src/demo.ts';
import { buildIssue } from '../src/issues/build-issue.ts';
import { REPO_ROOT, openWorkspace, type Workspace } from './helpers/workspace.ts';

let ws: Workspace;
let out: string;

beforeEach(async () => {
  ws = await openWorkspace();
  out = join(mkdtempSync(join(tmpdir(), 'mailroom-props-')), 'latest-issue.json');
});

afterEach(async () => {
  await ws.close();
  rmSync(join(out, '..'), { recursive: true, force: true });
});

/** Runs `npm run preview-props`'s command from the project root, against the workspace's database. */
function runScript(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: ws.dataDir, DATABASE_URL: ws.app.config.databaseUrl, PUBLIC_URL: 'https://news.example.com', SECRET: 'a-test-secret-that-is-long-enough-0123456789' };
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'scripts/preview-props.ts'), ...args], { cwd: REPO_ROOT, env, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
    });
  });
}

describe('preview props of the newest real issue', () => {
  it('writes the newest issue\'s props, and the templates preview them', async () => {
    await loadDemoWorkspace(ws.app);
    const newsletter = await ws.app.stores.newsletters.findNewsletter('weekly');
    if (!newsletter) throw new Error('no weekly');
    await buildIssue(ws.app.stores, newsletter, { max: 2, publicUrl: 'https://news.example.com' });
    const { issue, articles } = await buildIssue(ws.app.stores, newsletter, { max: 3, publicUrl: 'https://news.example.com' });

    const run = await runScript(['--out', out]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('weekly #2');
    const parsed = latestIssueSchema.parse(JSON.parse(readFileSync(out, 'utf8')));
    expect(parsed.source).toBe('weekly #2');
    expect(parsed.issue).toEqual({ subject: issue.subject, preheader: issue.preheader, number: 2, date: issue.createdAt });
    expect(parsed.articles.map((a) => a.title)).toEqual(articles.map((a) => a.title));
    expect(parsed.brand).toMatchObject({ name: 'Mailroom Weekly', logoUrl: 'https://news.example.com/media/logo.png' });

    const digest = previewDigestProps(new Date(), out);
    expect(digest.lead.title).toBe(articles[0]?.title);
    expect(digest.others.map((a) => a.title)).toEqual(articles.slice(1).map((a) => a.title));
    expect(digest.issue.number).toBe(2);
    expect(previewArticleProps(new Date(), out).article.title).toBe(articles[0]?.title);
    const html = await render(<DigestEmail {...digest} />);
    for (const article of articles) expect(html).toContain(article.title.replaceAll('&', '&amp;'));
    expect(html).toContain('https://news.example.com/media/logo.png');

    const cleared = await runScript(['--out', out, '--clear']);
    expect(cleared.code).toBe(0);
    expect(existsSync(out)).toBe(false);
  });

  it('says there is no issue yet, writes nothing, and the preview stays the shipped sample', async () => {
    const run = await runScript(['--out', out]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('no issue in the database yet');
    expect(existsSync(out)).toBe(false);
    expect(previewDigestProps(new Date(), out).lead.title).toBe('The quiet death of the open rate');
  });

  it('falls back to the sample, with one warning naming the file and the field, when the file is not valid', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      writeFileSync(out, JSON.stringify({ source: 'x', brand: {}, issue: {}, articles: [] }));
      expect(previewDigestProps(new Date(), out).lead.title).toBe('The quiet death of the open rate');
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0]?.[0])).toMatch(/latest-issue\.json: brand\.name: .*shipped sample/);
      writeFileSync(out, '{ not json');
      expect(previewDigestProps(new Date(), out).issue.number).toBe(42);
    } finally {
      warn.mockRestore();
    }
  });
});
