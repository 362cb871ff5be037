/** `mailroom serve`: the HTTP server, the built-in SMTP inbox when SMTP_URL is unset, and the demo workspace on first start. */
import { join } from 'node:path';
import { createApp, type App } from './app.ts';
import type { Config } from './config.ts';
import { redact } from './config.ts';
import { buildHttpServer } from './http/server.ts';
import { startLocalInbox, type LocalInbox } from './smtp/local-inbox.ts';

export interface Service {
  readonly app: App;
  readonly httpUrl: string;
  readonly inbox: LocalInbox | null;
  close(): Promise<void>;
}

export interface ServiceOptions {
  readonly loadDemo: boolean;
  readonly log: (line: string) => void;
}

export async function startService(config: Config, options: ServiceOptions): Promise<Service> {
  const app = await createApp(config);
  const { log } = options;
  let inbox: LocalInbox | null = null;
  try {
    if (app.usesLocalInbox) {
      inbox = await startLocalInbox({ dir: join(config.dataDir, 'inbox'), host: '127.0.0.1', port: config.inboxSmtpPort });
    }
    if (options.loadDemo && (await app.store.countNewsletters()) === 0) {
      const { loadDemoWorkspace } = await import('./demo.ts');
      const summary = await loadDemoWorkspace(app, config.dataDir);
      log(`Loaded the demo workspace: newsletter "weekly", ${summary.articles} articles, ${summary.subscribers} subscribers on list "demo".`);
      for (const p of summary.problems) log(`warning: ${p}`);
    }
    const http = await buildHttpServer({ store: app.store, publicUrl: config.publicUrl, secret: config.secret, mediaDir: join(config.dataDir, 'media'), inbox });
    const address = await http.listen({ port: config.port, host: config.host });
    log(`Mailroom is running at ${address} (links in emails use PUBLIC_URL=${config.publicUrl})`);
    log(`Database: ${config.databaseUrl}`);
    if (inbox) {
      log(`Built-in SMTP inbox on smtp://127.0.0.1:${inbox.port}; messages show at ${config.publicUrl}/inbox`);
    } else {
      log(`Sending through ${redact(app.smtpUrl)}`);
    }
    log('Next, in another terminal:  npx mailroom send weekly');
    return {
      app,
      httpUrl: address,
      inbox,
      async close() {
        await http.close();
        await inbox?.close();
        await app.close();
      },
    };
  } catch (error) {
    await inbox?.close();
    await app.close();
    throw error;
  }
}
