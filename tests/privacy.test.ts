/**
 * Privacy and the CLI of the subscriber's side, through `mailroom` (in-process, and the real binary for erase and the
 * form): export everything about a person,
 * erase them down to a hashed suppression, re-import them from CSV and check that no email goes to them; the
 * embeddable form posts to the real server; sign-up and archive switches.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { sendNewsletter } from '../src/sending/send-newsletter.ts';
import { hashEmail } from '../src/store/suppression.ts';
import { runBin, runInProcess } from './helpers/mailroom.ts';
import { formBody, linkIn, messagesTo, PUBLIC_URL, startSubscriberEnv, type SubscriberEnv } from './helpers/subscriber-server.ts';

let env: SubscriberEnv;

function cliEnvironment(): Record<string, string> {
  return { NODE_ENV: '', DATA_DIR: env.ws.dataDir, PUBLIC_URL, SECRET: env.ws.app.config.secret, SMTP_URL: env.sink.url };
}

/** Runs `mailroom ARGS` in this process (commander, lazy loading and all), capturing what it prints. */
function mailroom(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return runInProcess(env.ws.dir, args, cliEnvironment());
}

/** The real binary, in its own process: the command is wired into bin/mailroom.js. */
function mailroomBinary(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return runBin(env.ws.dir, args, cliEnvironment());
}

/** Every text value in every table that contains `needle`, as "table.column". */
async function findEverywhere(needle: string): Promise<string[]> {
  const db = env.ws.app.stores.db;
  const tables = await sql<{ name: string }>`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`.execute(db);
  const found: string[] = [];
  for (const { name } of tables.rows) {
    const rows = await sql<Record<string, unknown>>`SELECT * FROM ${sql.table(name)}`.execute(db);
    for (const row of rows.rows) for (const [column, value] of Object.entries(row)) if (typeof value === 'string' && value.toLowerCase().includes(needle)) found.push(`${name}.${column}`);
  }
  return found;
}

describe('privacy: export and erase', () => {
  beforeEach(async () => {
    env = await startSubscriberEnv({ recordIp: true });
  });
  afterEach(async () => {
    await env.close();
  });

  test('export then erase one subscriber, re-import them from CSV, and no email goes to them', async () => {
    // Erin signs up, confirms, and receives one issue.
    await fetch(`${env.origin}/subscribe/demo`, formBody({ email: 'erin@example.com', name: 'Erin Example' }));
    await env.signup.idle();
    await fetch(env.local(linkIn(messagesTo(env.sink, 'erin@example.com')[0], 'confirm/')), { method: 'POST' });
    const sent = await sendNewsletter(env.ws.app.sendDeps(), { newsletter: 'weekly' });
    expect(sent.recipients).toBe(6);
    expect(messagesTo(env.sink, 'erin@example.com')).toHaveLength(2);

    const exported = await mailroom('subscribers', 'export', 'Erin@Example.com');
    expect(exported.code).toBe(0);
    const data = JSON.parse(exported.stdout) as {
      format: string;
      email: string;
      subscriber: Record<string, unknown>;
      lists: Record<string, unknown>[];
      sends: Record<string, unknown>[];
      suppression: unknown;
      confirmationEmails: string[];
      notes: string[];
    };
    expect(data.format).toBe('mailroom-subscriber-export');
    expect(data.email).toBe('erin@example.com');
    expect(data.subscriber).toMatchObject({ email: 'erin@example.com', name: 'Erin Example', firstName: 'Erin', lastName: 'Example', status: 'active', consentSource: 'signup:form', attributes: {} });
    expect(data.lists).toHaveLength(1);
    expect(data.lists[0]).toMatchObject({ listName: 'demo', status: 'subscribed', consentSource: 'signup:form', consentIp: '127.0.0.1', confirmedIp: '127.0.0.1' });
    expect(typeof data.lists[0]?.['confirmedAt']).toBe('string');
    expect(typeof data.lists[0]?.['confirmationSentAt']).toBe('string');
    expect(data.sends).toHaveLength(1);
    expect(data.sends[0]).toMatchObject({ newsletter: 'weekly', issueNumber: 1, listName: 'demo', email: 'erin@example.com', status: 'sent' });
    expect(String(data.sends[0]?.['smtpResponse'])).toMatch(/^250/);
    expect(data.suppression).toBeNull();
    expect(data.confirmationEmails).toHaveLength(1);
    expect(data.notes.join(' ')).toContain('Opens and clicks are counted only for newsletters whose operator turned it on');

    const file = join(env.ws.dir, 'erin.json');
    expect((await mailroom('subscribers', 'export', 'erin@example.com', '--out', file)).code).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ email: 'erin@example.com' });

    const erased = await mailroomBinary('subscribers', 'erase', 'erin@example.com');
    expect(erased.code).toBe(0);
    expect(erased.stdout).toContain('erin@example.com: erased: profile, 1 list membership(s), 1 send row(s), 1 confirmation counter(s) deleted');
    expect(await findEverywhere('erin@example.com')).toEqual([]);
    expect(await findEverywhere('erin example')).toEqual([]);
    const suppression = await env.ws.app.stores.db.selectFrom('suppressions').selectAll().where('email_hash', '=', hashEmail('erin@example.com')).executeTakeFirst();
    expect(suppression).toMatchObject({ email: null, reason: 'erased', detail: '' });

    const after = JSON.parse((await mailroom('subscribers', 'export', 'erin@example.com')).stdout) as { subscriber: unknown; lists: unknown[]; sends: unknown[]; suppression: { reason: string } };
    expect(after).toMatchObject({ subscriber: null, lists: [], sends: [], suppression: { reason: 'erased' } });

    // A later import (the old CSV still has Erin) keeps her out; a new person in the same file is added.
    const csv = join(env.ws.dir, 'readers.csv');
    writeFileSync(csv, 'email,name\nerin@example.com,Erin Example\nfrank@example.com,Frank\n');
    const imported = await mailroom('subscribers', 'import', csv, '--list', 'demo');
    expect(imported.code).toBe(0);
    expect(imported.stdout).toContain('1 added');
    expect(imported.stdout).toContain('1 kept out');
    expect((await mailroom('subscribers', 'add', 'erin@example.com', '--list', 'demo')).stdout).toContain('kept out');
    expect(await env.ws.app.stores.audience.findSubscriberByEmail('erin@example.com')).toBeNull();

    env.sink.messages.length = 0;
    const next = await sendNewsletter(env.ws.app.sendDeps(), { newsletter: 'weekly' });
    expect(next.recipients).toBe(6);
    expect(messagesTo(env.sink, 'frank@example.com')).toHaveLength(1);
    expect(messagesTo(env.sink, 'erin@example.com')).toHaveLength(0);
    expect(env.sink.messages).toHaveLength(6);
  });

  test('erasing a bounced address keeps its suppression reason but drops the address and the SMTP detail', async () => {
    await env.ws.app.stores.audience.suppressAddress('linus@example.org', 'hard-bounce', '550 5.1.1 <linus@example.org>: user unknown');
    const erased = await mailroom('subscribers', 'erase', 'linus@example.org');
    expect(erased.stdout).toContain('kept: the existing suppression (hard-bounce), now without the address or its detail');
    expect(await findEverywhere('linus@example.org')).toEqual([]);
    expect(await env.ws.app.stores.audience.isSuppressed('linus@example.org')).toBe(true);
    // Someone never seen before: erasure still leaves a suppression, so a later import cannot add them.
    expect((await mailroom('subscribers', 'erase', 'stranger@example.com')).stdout).toContain('erased: no profile');
    expect(await env.ws.app.stores.audience.isSuppressed('stranger@example.com')).toBe(true);
    const empty = await mailroom('subscribers', 'export', 'nobody@example.com');
    expect(empty.code).toBe(0);
    expect(empty.stderr).toContain('nothing is held about nobody@example.com');
    const invalid = await mailroom('subscribers', 'erase', 'not-an-address');
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain('"not-an-address"');
  });
});

describe('lists form, lists signup, newsletter archive', () => {
  beforeEach(async () => {
    env = await startSubscriberEnv();
  });
  afterEach(async () => {
    await env.close();
  });

  test('lists form prints a working, script-free form; switches close sign-up and the archive', async () => {
    const printed = await mailroomBinary('lists', 'form', 'demo');
    expect(printed.code).toBe(0);
    const form = printed.stdout;
    expect(form).toContain('<form method="post" action="https://news.example.com/subscribe/demo" accept-charset="utf-8"');
    expect(form).toContain('name="email"');
    expect(form).toContain('name="name"');
    expect(form).toContain('name="leave_blank"');
    expect(form).not.toMatch(/<script/i);
    expect(printed.stderr).toContain('https://news.example.com/subscribe/demo');
    expect((await mailroom('lists', 'form', 'demo', '--no-name')).stdout).not.toContain('name="name"');

    // What the printed form submits is what the server takes.
    const fields = Object.fromEntries([...form.matchAll(/name="([a-z_]+)"/g)].map((m) => [m[1] ?? '', m[1] === 'email' ? 'embedded@example.com' : '']));
    const action = /action="([^"]+)"/.exec(form)?.[1] ?? '';
    const response = await fetch(env.local(action), formBody(fields));
    expect(response.status).toBe(200);
    await env.signup.idle();
    expect(messagesTo(env.sink, 'embedded@example.com')).toHaveLength(1);

    await env.ws.app.stores.audience.createList('staff');
    const noNewsletter = await mailroom('lists', 'form', 'staff');
    expect(noNewsletter.code).toBe(1);
    expect(noNewsletter.stderr).toContain('list "staff" has no newsletter');
    expect((await mailroom('lists', 'form', 'missing')).code).toBe(1);

    expect((await mailroom('lists', 'signup', 'demo', 'off')).stdout).toContain('sign-up is closed');
    expect((await fetch(`${env.origin}/subscribe/demo`)).status).toBe(404);
    const closed = await mailroom('lists', 'form', 'demo');
    expect(closed.code).toBe(1);
    expect(closed.stderr).toContain('mailroom lists signup demo on');
    expect((await mailroom('lists', 'signup', 'demo', 'maybe')).code).toBe(1);
    expect((await mailroom('lists', 'signup', 'demo', 'on')).code).toBe(0);
    expect((await fetch(`${env.origin}/subscribe/demo`)).status).toBe(200);

    expect((await mailroom('newsletter', 'archive', 'weekly', 'off')).code).toBe(0);
    expect((await fetch(`${env.origin}/issues/weekly`)).status).toBe(404);
    expect((await mailroom('newsletter', 'archive', 'weekly', 'on')).code).toBe(0);
    expect((await fetch(`${env.origin}/issues/weekly`)).status).toBe(200);
  });

  test('a list name with HTML in it is escaped in the printed form', async () => {
    const { renderSignupForm } = await import('../src/cli/commands-subscribers.ts');
    const form = renderSignupForm({ action: 'https://x.example/subscribe/a%22b', listName: 'a"b<c>', label: 'Tom & "Jerry" <News>', withName: true });
    expect(form).toContain('Tom &amp; &quot;Jerry&quot; &lt;News&gt;');
    expect(form).toContain('list "a&quot;b&lt;c&gt;"');
    expect(form).toContain('id="mailroom-email-a-b-c-"');
    expect(form).not.toContain('<News>');
  });
});
