/**
 * The real `mailroom serve`: demo content comes from the package (DATA_DIR may be an empty folder), is loaded only in
 * local development or on request (`mailroom demo`), and `/inbox` exists only while the built-in inbox runs.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { runMailroom, showRun, startServe, type RunningServe } from './helpers/mailroom.ts';
import { startSmtpSink, type SmtpSink } from './helpers/smtp-sink.ts';
import { REPO_ROOT } from './helpers/workspace.ts';

vi.setConfig({ testTimeout: 180_000 });

const SECRET = 'serve-demo-test-secret-0123456789abcdefgh';
const DEMO_LOGO = readFileSync(join(REPO_ROOT, 'data', 'media', 'logo.png'));

const dirs: string[] = [];
const running: RunningServe[] = [];
let sink: SmtpSink;

beforeAll(async () => {
  sink = await startSmtpSink();
});

afterAll(async () => {
  for (const serve of running) await serve.stop();
  await sink.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A working directory outside the repository with an empty DATA_DIR in it. */
function emptyWorkspace(): { cwd: string; dataDir: string } {
  const cwd = mkdtempSync(join(tmpdir(), 'mailroom-serve-demo-'));
  dirs.push(cwd);
  const dataDir = join(cwd, 'empty-data');
  mkdirSync(dataDir);
  return { cwd, dataDir };
}

async function serve(cwd: string, env: Record<string, string>, args: readonly string[] = []): Promise<RunningServe> {
  const started = await startServe(cwd, args, env);
  running.push(started);
  return started;
}

async function get(base: string, path: string, init?: RequestInit): Promise<{ status: number; type: string; text: string; bytes: Buffer }> {
  const response = await fetch(`${base}${path}`, { redirect: 'manual', ...init });
  const bytes = Buffer.from(await response.arrayBuffer());
  return { status: response.status, type: response.headers.get('content-type') ?? '', text: bytes.toString('utf8'), bytes };
}

function countNewsletters(dataDir: string): number {
  const db = new BetterSqlite3(join(dataDir, 'mailroom.db'), { readonly: true, fileMustExist: true });
  try {
    return Number((db.prepare('select count(*) as n from newsletters').get() as { n: number }).n);
  } finally {
    db.close();
  }
}

describe('serve with an empty DATA_DIR', () => {
  test('in local development it starts, loads the demo from the package and serves the demo images; DATA_DIR gets only what Mailroom writes', async () => {
    const { cwd, dataDir } = emptyWorkspace();
    const app = await serve(cwd, { DATA_DIR: dataDir, INBOX_SMTP_PORT: '0' });
    expect(app.output()).toContain('Loaded the demo workspace');
    expect(app.output()).not.toMatch(/warning/i);

    const logo = await get(app.url, '/media/logo.png');
    expect(logo.status).toBe(200);
    expect(logo.type).toBe('image/png');
    expect(logo.bytes.equals(DEMO_LOGO)).toBe(true);
    // Every image the demo articles reference is served.
    const articles = readdirSync(join(REPO_ROOT, 'data', 'articles')).map((name) => readFileSync(join(REPO_ROOT, 'data', 'articles', name), 'utf8'));
    const images = [...new Set(articles.flatMap((text) => [...text.matchAll(/\/media\/([\w.-]+\.png)/g)].map((m) => m[1] ?? '')))];
    expect(images.length).toBeGreaterThanOrEqual(5);
    for (const image of images) expect((await get(app.url, `/media/${image}`)).status, image).toBe(200);
    expect((await get(app.url, '/media/no-such.png')).status).toBe(404);

    const home = await get(app.url, '/');
    expect(home.text).toContain('Mailroom Weekly');
    expect(home.text).toContain('href="/inbox"');
    expect((await get(app.url, '/inbox')).status).toBe(200);

    const written = new Set(['.secret', 'inbox', 'mailroom.db', 'mailroom.db-shm', 'mailroom.db-wal', 'mailroom.db-journal']);
    expect(readdirSync(dataDir).filter((name) => !written.has(name))).toEqual([]);
    expect(existsSync(join(dataDir, 'mailroom.db'))).toBe(true);
    expect(countNewsletters(dataDir)).toBe(1);
    await app.stop();
  });

  test('outside local development no demo is loaded or listed, /inbox does not exist, and `mailroom demo` loads the demo on request', async () => {
    const { cwd, dataDir } = emptyWorkspace();
    const env = { NODE_ENV: 'production', DATA_DIR: dataDir, PUBLIC_URL: 'https://news.example.com', SECRET, SMTP_URL: sink.url };
    const first = await serve(cwd, env);
    expect(first.output()).not.toContain('Loaded the demo workspace');
    expect(first.output()).toContain('npx mailroom demo');
    expect(countNewsletters(dataDir)).toBe(0);

    const home = await get(first.url, '/');
    expect(home.status).toBe(200);
    expect(home.text).not.toContain('Mailroom Weekly');
    expect(home.text).not.toContain('/subscribe/demo');
    expect(home.text).not.toContain('href="/inbox"');
    expect((await get(first.url, '/media/logo.png')).status).toBe(404);

    // No built-in inbox: its pages and API do not exist, exactly like any unknown path.
    const unknown = await get(first.url, '/no-such-page');
    expect(unknown.status).toBe(404);
    for (const path of ['/inbox', '/inbox/', '/inbox.json', '/inbox/events', '/inbox/inbox.js', '/inbox/mf0abc-0123456789ab', '/inbox/mf0abc-0123456789ab.json', '/inbox/mf0abc-0123456789ab/raw']) {
      const response = await get(first.url, path);
      expect({ path, status: response.status }).toEqual({ path, status: 404 });
      expect(response.text, path).toBe(unknown.text);
    }
    for (const path of ['/inbox/clear', '/inbox/mf0abc-0123456789ab/delete']) {
      const response = await get(first.url, path, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: first.url }, body: '' });
      expect({ path, status: response.status }).toEqual({ path, status: 404 });
    }
    expect((await get(first.url, '/inbox')).text).not.toContain('SMTP_URL');
    await first.stop();

    const demo = await runMailroom(cwd, ['demo'], env);
    expect(demo.code, showRun(demo)).toBe(0);
    expect(demo.stdout).toContain('newsletter "weekly" created');
    expect(countNewsletters(dataDir)).toBe(1);

    const second = await serve(cwd, env);
    expect(second.output()).not.toContain('Loaded the demo workspace');
    const logo = await get(second.url, '/media/logo.png');
    expect(logo.status).toBe(200);
    expect(logo.bytes.equals(DEMO_LOGO)).toBe(true);
    expect((await get(second.url, '/')).text).toContain('Mailroom Weekly');
    await second.stop();
  });

  test('in local development with SMTP_URL set there is no inbox either: /inbox is a 404 and no page links to it', async () => {
    const { cwd, dataDir } = emptyWorkspace();
    const app = await serve(cwd, { DATA_DIR: dataDir, SMTP_URL: sink.url }, ['--no-demo']);
    expect(app.output()).not.toContain('Loaded the demo workspace');
    const inbox = await get(app.url, '/inbox');
    expect(inbox.status).toBe(404);
    expect(inbox.text).not.toContain('SMTP_URL');
    const home = await get(app.url, '/');
    expect(home.text).toContain('Recent campaigns');
    expect(home.text).not.toContain('href="/inbox"');
    expect(inbox.text).not.toContain('href="/inbox"');
    await app.stop();
  });
});
