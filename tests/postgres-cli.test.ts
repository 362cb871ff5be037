/**
 * The README flow on PostgreSQL, through the `mailroom` program (main(), run in-process) with DATABASE_URL=postgres://…: migrate, import
 * subscribers and an article, create a newsletter, build an issue, send it over real SMTP (a sink), and unsubscribe
 * through the one-click link (the HTTP server on the same database).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildHttpServer } from '../src/http/server.ts';
import { openStores } from '../src/store/open-store.ts';
import { CLI_SECRET, cliWorkspace, expectOk, mailroom, type CliWorkspace } from './helpers/mailroom.ts';
import { createTestDatabase, postgresAvailable, type TestDatabase } from './helpers/postgres.ts';
import { startSmtpSink, type SmtpSink } from './helpers/smtp-sink.ts';

describe.skipIf(!postgresAvailable)('the README flow on Postgres (CLI)', () => {
  let database: TestDatabase;
  let sink: SmtpSink;
  let ws: CliWorkspace;
  let http: FastifyInstance | null = null;
  beforeAll(async () => {
    database = await createTestDatabase();
    sink = await startSmtpSink();
    ws = cliWorkspace(sink.url);
  });
  afterAll(async () => {
    await http?.close();
    await sink?.close();
    ws?.remove();
    await database?.drop();
  });

  it('migrate, import, build, send over SMTP, unsubscribe', async () => {
    const env = { DATABASE_URL: database.url, MIGRATE_ON_START: 'false' };
    // With MIGRATE_ON_START=false nothing migrates by itself: a command on an empty database says what to run.
    const early = await mailroom(ws, ['lists', 'list'], env);
    expect(early.code).not.toBe(0);
    expect(early.stderr).toContain('run: mailroom migrate');

    const migrated = expectOk(await mailroom(ws, ['migrate'], env));
    expect(migrated.stdout).toMatch(/\(postgres\): applied \d+ migration\(s\): 0001_initial, /);
    expect(expectOk(await mailroom(ws, ['migrate'], env)).stdout).toContain('(postgres): the schema is up to date');

    ws.file('readers.csv', ['Email,First Name,Last Name,Company', 'ann@example.com,Ann,Arbor,Acme', 'ben@example.org,Ben,Bitdiddle,Widgets', 'cat@example.net,Cat,,', ''].join('\n'));
    const imported = expectOk(await mailroom(ws, ['subscribers', 'import', 'readers.csv', '--list', 'readers', '--create-list'], env));
    expect(imported.stdout.trim()).toBe('readers.csv: 3 added to list readers (3 new people, 0 already known; 0 profiles changed), 0 already on it, 0 unchanged, 0 kept out (unsubscribed, bounced, suppressed or not yet confirmed), 0 rejected');

    expectOk(
      await mailroom(ws, ['newsletter', 'create', 'letters', '--name', 'Reader Letters', '--from', 'Reader Letters <letters@news.example.com>', '--list', 'readers', '--postal-address', '1 Main Street, Springfield'], env),
    );
    const article = expectOk(await mailroom(ws, ['articles', 'import', 'data/articles/2026-11-24-accessible-email-habits.md', '--newsletter', 'letters'], env));
    expect(article.stdout).toMatch(/added/);

    const built = expectOk(await mailroom(ws, ['issue', 'build', 'letters'], env));
    expect(built.stdout).toContain('issue #1 of letters');
    const sent = expectOk(await mailroom(ws, ['send', 'letters'], env));
    expect(sent.stdout).toMatch(/3 sent, 0 failed/);
    expect(sink.messages.map((m) => m.envelopeTo).flat().sort()).toEqual(['ann@example.com', 'ben@example.org', 'cat@example.net']);

    // The one-click unsubscribe link of Ben's message, posted to the HTTP server on the same Postgres database.
    const store = await openStores(database.url, { migrate: false });
    try {
      http = await buildHttpServer({ stores: store, publicUrl: 'https://news.example.com', secret: CLI_SECRET, mediaDir: ws.dataDir, inbox: null });
      const origin = await http.listen({ port: 0, host: '127.0.0.1' });
      const ben = sink.messages.find((m) => m.envelopeTo.includes('ben@example.org'));
      const link = /<([^>]+)>/.exec(String(ben?.parsed.headerLines.find((h) => h.key === 'list-unsubscribe')?.line))?.[1] ?? '';
      expect(link).toMatch(/^https:\/\/news\.example\.com\/u\//);
      const oneClick = await fetch(link.replace('https://news.example.com', origin), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
      expect(oneClick.status).toBe(200);
    } finally {
      await http?.close();
      http = null;
      await store.close();
    }
    const lists = expectOk(await mailroom(ws, ['lists', 'list'], env));
    expect(lists.stdout).toMatch(/^\d+\s+readers\s+2\s+0\s+1\b/m);
  });
});
