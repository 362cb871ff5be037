/**
 * A running Mailroom for the web app's browser tests and screenshots: the real service (HTTP server, campaign runner)
 * on a random port with the demo workspace, a real SMTP sink, a local page server for article imports, and an owner
 * and a viewer who chose their passwords through their one-time links.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { AccountService } from '../../src/accounts/account-service.ts';
import type { Role } from '../../src/accounts/roles.ts';
import { loadConfig } from '../../src/config.ts';
import { loadDemoWorkspace } from '../../src/demo.ts';
import { startService, type Service } from '../../src/service.ts';
import { AccountStore } from '../../src/store/account-store.ts';
import { fixture, startFixtureServer, type FixtureServer } from './fixture-server.ts';
import { startSmtpSink, type SmtpSink } from './smtp-sink.ts';
import { makeDataDir } from './workspace.ts';

export const PASSWORD = 'correct-horse-battery-staple';

export interface AdminServer {
  readonly base: string;
  readonly sink: SmtpSink;
  readonly pages: FixtureServer;
  readonly service: Service;
  readonly accounts: AccountService;
  readonly owner: string;
  readonly viewer: string;
  /** A path of `pages` that serves an article page. */
  readonly articlePath: string;
  close(): Promise<void>;
}

async function addUser(accounts: AccountService, email: string, role: Role): Promise<void> {
  const { link } = await accounts.createUser(email, role);
  const token = decodeURIComponent(new URL(link).pathname.split('/').pop() ?? '');
  await accounts.useLink(token, PASSWORD);
}

export async function startAdminServer(options: { ratePerSecond?: number; /** Another relay than the sink (the sink still starts). */ smtpUrl?: string } = {}): Promise<AdminServer> {
  const sink = await startSmtpSink();
  const pages = await startFixtureServer();
  const articlePath = '/2026/ferry.html';
  pages.set(articlePath, { headers: { 'content-type': 'text/html; charset=utf-8' }, body: fixture('pages/harbor-times-ferry.html', pages.url) });
  const dir = makeDataDir();
  const previousAllow = process.env.FETCH_ALLOW_PRIVATE;
  process.env.FETCH_ALLOW_PRIVATE = '127.0.0.1';
  const config = loadConfig(
    {
      DATA_DIR: join(dir, 'data'),
      PUBLIC_URL: 'https://news.example.com',
      SECRET: 'an-admin-web-app-secret-that-is-long-enough-0123',
      SMTP_URL: options.smtpUrl ?? sink.url,
      SMTP_RATE_PER_SECOND: String(options.ratePerSecond ?? 0),
      NODE_ENV: 'production',
      FEED_POLL_MINUTES: '0',
      SCHEDULER_TICK: '*/1 * * * * *',
    },
    dir,
  );
  const service = await startService({ ...config, port: 0, host: '127.0.0.1' }, { loadDemo: false, log: () => undefined });
  if (previousAllow === undefined) delete process.env.FETCH_ALLOW_PRIVATE;
  else process.env.FETCH_ALLOW_PRIVATE = previousAllow;
  await loadDemoWorkspace(service.app);
  const accounts = new AccountService(new AccountStore(service.app.stores.db), { publicUrl: 'https://news.example.com' });
  const owner = 'owner@example.com';
  const viewer = 'viewer@example.com';
  await addUser(accounts, owner, 'owner');
  await addUser(accounts, viewer, 'viewer');
  return {
    base: service.httpUrl,
    sink,
    pages,
    service,
    accounts,
    owner,
    viewer,
    articlePath,
    async close() {
      await service.close();
      await sink.close();
      await pages.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
