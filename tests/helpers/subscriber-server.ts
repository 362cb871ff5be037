/** For the subscriber-side suites: a demo workspace, a real SMTP sink, the real HTTP server on a random port, and a clock the test moves. */
import type { FastifyInstance } from 'fastify';
import type { TrustProxySetting } from '../../src/config.ts';
import { loadDemoWorkspace } from '../../src/demo.ts';
import { buildHttpServer, signupServiceOf } from '../../src/http/server.ts';
import { SubscriberStore } from '../../src/store/subscriber-store.ts';
import type { SignupService } from '../../src/subscribers/signup.ts';
import { startSmtpSink, type SinkMessage, type SmtpSink } from './smtp-sink.ts';
import { openWorkspace, type Workspace } from './workspace.ts';

export const PUBLIC_URL = 'https://news.example.com';

export interface TestClock {
  now: Date;
  advance(ms: number): void;
  read: () => Date;
}

export function makeClock(start = '2026-03-02T09:00:00.000Z'): TestClock {
  const clock: TestClock = {
    now: new Date(start),
    advance(ms: number) {
      clock.now = new Date(clock.now.getTime() + ms);
    },
    read: () => clock.now,
  };
  return clock;
}

export interface ServerOptions {
  readonly trustProxy?: TrustProxySetting;
  readonly recordIp?: boolean;
  readonly ratePerMinute?: number;
  readonly localDevelopment?: boolean;
  /** Least answer time of an accepted sign-up (the server's default is 100 ms; 0 here, to keep tests fast). */
  readonly minResponseMs?: number;
  /** Every SMTP send waits this long first (a slow mail server). */
  readonly smtpDelayMs?: number;
}

export interface SubscriberEnv {
  readonly sink: SmtpSink;
  readonly ws: Workspace;
  readonly subscribers: SubscriberStore;
  readonly clock: TestClock;
  http: FastifyInstance;
  origin: string;
  signup: SignupService;
  readonly logs: string[];
  /** Stops the server and starts a new one on the same database (a restart). */
  restart(options?: ServerOptions): Promise<void>;
  /** A URL from an email (PUBLIC_URL) on this server. */
  local(url: string): string;
  close(): Promise<void>;
}

export async function startSubscriberEnv(options: ServerOptions = {}): Promise<SubscriberEnv> {
  const sink = await startSmtpSink();
  const ws = await openWorkspace({ SMTP_URL: sink.url });
  await loadDemoWorkspace(ws.app);
  const clock = makeClock();
  const logs: string[] = [];
  const build = async (o: ServerOptions) => {
    const http = await buildHttpServer({
      stores: ws.app.stores,
      publicUrl: ws.app.config.publicUrl,
      secret: ws.app.config.secret,
      mediaDir: `${ws.dataDir}/media`,
      inbox: null,
      openTransport: o.smtpDelayMs
        ? () => {
            const transport = ws.app.openTransport();
            const delay = o.smtpDelayMs ?? 0;
            return {
              ...transport,
              maxConnections: transport.maxConnections,
              send: async (message) => {
                await new Promise((resolve) => setTimeout(resolve, delay));
                return transport.send(message);
              },
              verify: () => transport.verify(),
              close: () => transport.close(),
            };
          }
        : ws.app.openTransport,
      clock: clock.read,
      log: (line) => logs.push(line),
      ...(o.trustProxy !== undefined ? { trustProxy: o.trustProxy } : {}),
      signup: { recordIp: o.recordIp ?? false, ratePerMinute: o.ratePerMinute ?? 5, minResponseMs: o.minResponseMs ?? 0 },
      localDevelopment: o.localDevelopment ?? false,
    });
    const origin = await http.listen({ port: 0, host: '127.0.0.1' });
    return { http, origin, signup: signupServiceOf(http) };
  };
  const first = await build(options);
  const env: SubscriberEnv = {
    sink,
    ws,
    subscribers: new SubscriberStore(ws.app.stores.db),
    clock,
    http: first.http,
    origin: first.origin,
    signup: first.signup,
    logs,
    async restart(next = options) {
      await env.http.close();
      const built = await build(next);
      env.http = built.http;
      env.origin = built.origin;
      env.signup = built.signup;
    },
    local: (url) => url.replace(PUBLIC_URL, env.origin),
    async close() {
      await env.http.close();
      await sink.close();
      await ws.close();
    },
  };
  return env;
}

export function formBody(fields: Record<string, string>): { method: 'POST'; headers: Record<string, string>; body: string } {
  return { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() };
}

/** The first link to PUBLIC_URL/<prefix>… in a message's HTML. */
export function linkIn(message: SinkMessage | undefined, prefix: string): string {
  const html = typeof message?.parsed.html === 'string' ? message.parsed.html : '';
  const match = new RegExp(`href="(${PUBLIC_URL.replace(/\./g, '\\.')}/${prefix}[^"]+)"`).exec(html);
  if (!match?.[1]) throw new Error(`no ${prefix} link in message ${message?.parsed.subject ?? '(none)'}`);
  return match[1].replace(/&amp;/g, '&');
}

export function messagesTo(sink: SmtpSink, email: string): SinkMessage[] {
  return sink.messages.filter((m) => m.envelopeTo.includes(email));
}

/** The <main> of a page, for comparing answers without the parts that legitimately differ (none should). */
export function mainOf(page: string): string {
  return /<main>([\s\S]*)<\/main>/.exec(page)?.[1] ?? page;
}
