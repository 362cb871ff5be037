/** A throwaway Mailroom workspace for tests: a temp data folder with the demo content, a real SQLite file, an app wired to a given SMTP URL. */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp, type App } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';

export const REPO_ROOT = new URL('../..', import.meta.url).pathname;

export interface Workspace {
  readonly dir: string;
  readonly dataDir: string;
  readonly app: App;
  close(): Promise<void>;
}

export function makeDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mailroom-test-'));
  const dataDir = join(dir, 'data');
  cpSync(join(REPO_ROOT, 'data', 'articles'), join(dataDir, 'articles'), { recursive: true });
  cpSync(join(REPO_ROOT, 'data', 'media'), join(dataDir, 'media'), { recursive: true });
  cpSync(join(REPO_ROOT, 'data', 'demo-subscribers.csv'), join(dataDir, 'demo-subscribers.csv'));
  return dir;
}

export async function openWorkspace(env: Record<string, string> = {}, options: { clock?: () => Date } = {}): Promise<Workspace> {
  const dir = makeDataDir();
  const dataDir = join(dir, 'data');
  // MAILROOM_TEST_DATABASE=postgres: the workspace's database is a fresh Postgres one (dropped on close), to run a
  // SQLite test file against Postgres by hand.
  const postgres = process.env['MAILROOM_TEST_DATABASE'] === 'postgres' && env['DATABASE_URL'] === undefined ? await (await import('./postgres.ts')).createTestDatabase() : null;
  const config = loadConfig(
    { DATA_DIR: dataDir, PUBLIC_URL: 'https://news.example.com', SECRET: 'a-test-secret-that-is-long-enough-0123456789', SEND_RETRY_BASE_SECONDS: '0.05', ...(postgres ? { DATABASE_URL: postgres.url } : {}), ...env },
    dir,
  );
  const app = await createApp(config, options);
  return {
    dir,
    dataDir,
    app,
    async close() {
      await app.close();
      await postgres?.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
