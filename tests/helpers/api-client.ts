/** A JSON client for /api/v1 on a running server, with the given credentials (a bearer token or a session cookie's headers). */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { AccountService } from '../../src/accounts/account-service.ts';
import { loadConfig } from '../../src/config.ts';
import { loadDemoWorkspace } from '../../src/demo.ts';
import { startService, type Service } from '../../src/service.ts';
import { AccountStore } from '../../src/store/account-store.ts';
import { makeDataDir } from './workspace.ts';

export type ApiCall = <T>(method: string, path: string, body?: unknown) => Promise<{ status: number; data: T }>;

/** `base` and `auth` are read at each call, so a test may set them in its beforeAll. */
export function apiClient(target: () => { base: string; auth: Record<string, string> }): ApiCall {
  return async <T>(method: string, path: string, body?: unknown) => {
    const { base, auth } = target();
    const response = await fetch(`${base}/api/v1${path}`, { method, headers: { ...auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? null : JSON.stringify(body) });
    return { status: response.status, data: (await response.json()) as T };
  };
}

export interface ApiTestService {
  readonly service: Service;
  readonly base: string;
  /** An editor token's Authorization header. */
  readonly auth: Record<string, string>;
  close(): Promise<void>;
}

/**
 * The real service in production mode on a random port, with the demo workspace, sending through `smtpUrl`, and an
 * editor token for the API. `before` runs before the service starts and `after` once it has (to set and restore the
 * process environment it reads at start).
 */
export async function startApiTestService(smtpUrl: string, options: { tokenName?: string; before?: () => void; after?: () => void } = {}): Promise<ApiTestService> {
  const dir = makeDataDir();
  const config = loadConfig(
    {
      DATA_DIR: join(dir, 'data'),
      PUBLIC_URL: 'https://news.example.com',
      SECRET: 'an-api-test-service-secret-that-is-long-enough-0123',
      SMTP_URL: smtpUrl,
      NODE_ENV: 'production',
      FEED_POLL_MINUTES: '0',
      SCHEDULER_TICK: '*/1 * * * * *',
    },
    dir,
  );
  options.before?.();
  let service: Service;
  try {
    service = await startService({ ...config, port: 0, host: '127.0.0.1' }, { loadDemo: false, log: () => undefined });
  } finally {
    options.after?.();
  }
  await loadDemoWorkspace(service.app);
  const accounts = new AccountService(new AccountStore(service.app.stores.db), { publicUrl: 'https://news.example.com' });
  const auth = { authorization: `Bearer ${(await accounts.createToken(options.tokenName ?? 'test', 'editor')).secret}` };
  return {
    service,
    base: service.httpUrl,
    auth,
    async close() {
      await service.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
