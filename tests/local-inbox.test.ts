/** The local inbox: real messages over SMTP (nodemailer) land in the directory and read back through the reader. */

import { appendFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTransport } from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInboxMessageId, isInboxMessageId, openInboxReader, startLocalInbox } from '../src/smtp/local-inbox.ts';
import type { LocalInbox } from '../src/smtp/local-inbox.ts';

const UNICODE_SUBJECT = 'Édition n°42 — 📰 Grüße aus Zürich';

async function makeTempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'mailroom-inbox-'));
}

function connect(inbox: LocalInbox, extra: { pool?: boolean; auth?: { user: string; pass: string } } = {}) {
  if (extra.pool === true) {
    return createTransport({ pool: true, maxConnections: 5, maxMessages: Infinity, host: inbox.host, port: inbox.port, secure: false, ignoreTLS: true });
  }
  return createTransport({ host: inbox.host, port: inbox.port, secure: false, ignoreTLS: true, ...(extra.auth ? { auth: extra.auth } : {}) });
}

async function countFiles(dir: string, suffix: string): Promise<number> {
  return (await readdir(dir)).filter((name) => name.endsWith(suffix)).length;
}

describe('local inbox', () => {
  let dir: string;
  let inbox: LocalInbox;

  beforeAll(async () => {
    dir = await makeTempDir();
    inbox = await startLocalInbox({ dir, port: 0 });
  });

  afterAll(async () => {
    await inbox.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('listens on 127.0.0.1 on a random port', () => {
    expect(inbox.host).toBe('127.0.0.1');
    expect(inbox.port).toBeGreaterThan(0);
    expect(inbox.dir).toBe(dir);
  });

  it('stores messages and lists them newest first, then gets, and clears them', async () => {
    const transport = connect(inbox);
    await transport.sendMail({
      from: '"Mailroom Weekly" <news@example.com>',
      to: 'Reader One <reader1@example.com>',
      subject: 'HTML and text',
      text: 'Hello in text',
      html: '<h1>Hello</h1><p>in <b>HTML</b></p>',
    });
    await transport.sendMail({
      from: 'news@example.com',
      to: 'reader2@example.com',
      subject: 'With an attachment',
      text: 'See attached.',
      attachments: [{ filename: 'report.csv', content: 'a,b\n1,2\n', contentType: 'text/csv' }],
    });
    await transport.sendMail({
      from: 'news@example.com',
      to: 'reader3@example.com',
      subject: UNICODE_SUBJECT,
      html: '<p>Ünïcødé body ✓</p>',
    });
    transport.close();

    const list = await inbox.list();
    expect(list.map((message) => message.subject)).toEqual([UNICODE_SUBJECT, 'With an attachment', 'HTML and text']);
    const [third, second, first] = list;
    if (first === undefined || second === undefined || third === undefined) throw new Error('expected three messages');

    expect(first.from).toBe('Mailroom Weekly <news@example.com>');
    expect(first.to).toEqual(['reader1@example.com']);
    expect(first.envelope).toEqual({ from: 'news@example.com', to: ['reader1@example.com'] });
    expect(isInboxMessageId(first.id)).toBe(true);
    expect(Number.isNaN(Date.parse(first.receivedAt))).toBe(false);
    expect(first.size).toBe((await readFile(join(dir, `${first.id}.eml`))).length);
    expect(second.size).toBeGreaterThan(first.size / 2);

    const htmlAndText = await inbox.get(first.id);
    expect(htmlAndText?.html).toContain('<h1>Hello</h1>');
    expect(htmlAndText?.text?.trim()).toBe('Hello in text');
    expect(htmlAndText?.raw).toMatch(/^[\s\S]*Subject: HTML and text\r\n/);
    expect(htmlAndText?.headers.find((header) => header.key === 'subject')?.line).toBe('Subject: HTML and text');
    expect(htmlAndText?.envelope.to).toEqual(['reader1@example.com']);

    const withAttachment = await inbox.get(second.id);
    expect(withAttachment?.html).toBeNull();
    expect(withAttachment?.text?.trim()).toBe('See attached.');
    expect(withAttachment?.raw).toContain('filename=report.csv');

    const unicode = await inbox.get(third.id);
    expect(unicode?.subject).toBe(UNICODE_SUBJECT);
    expect(unicode?.html).toContain('Ünïcødé body ✓');
    expect(unicode?.text).toBeNull();
    // The raw source has the encoded word, not the decoded subject.
    expect(unicode?.raw).toContain('Subject: =?UTF-8?');

    await inbox.clear();
    expect(await inbox.list()).toEqual([]);
    expect(await inbox.get(first.id)).toBeNull();
    expect(await countFiles(dir, '.eml')).toBe(0);

    // Still works after a clear.
    const again = connect(inbox);
    await again.sendMail({ from: 'news@example.com', to: 'reader@example.com', subject: 'After clear', text: 'x' });
    again.close();
    expect((await inbox.list()).map((message) => message.subject)).toEqual(['After clear']);
    await inbox.clear();
  });

  it('records every envelope recipient, Bcc included, and accepts any AUTH', async () => {
    const transport = connect(inbox, { auth: { user: 'someone', pass: 'anything' } });
    await transport.sendMail({
      from: 'news@example.com',
      to: 'visible@example.com',
      cc: 'copied@example.com',
      bcc: 'hidden@example.com',
      subject: 'Envelope',
      text: 'x',
    });
    transport.close();
    const [summary] = await inbox.list();
    expect(summary?.to).toEqual(['visible@example.com']);
    expect(summary?.envelope.from).toBe('news@example.com');
    expect(summary?.envelope.to.slice().sort()).toEqual(['copied@example.com', 'hidden@example.com', 'visible@example.com']);
    const message = await inbox.get(summary?.id ?? '');
    expect(message?.raw).not.toContain('hidden@example.com');
    await inbox.clear();
  });

  it('falls back to the envelope when the To header is missing', async () => {
    const transport = connect(inbox);
    await transport.sendMail({
      envelope: { from: 'bounce@example.com', to: ['only-envelope@example.com'] },
      raw: 'From: news@example.com\r\nSubject: No To header\r\n\r\nBody\r\n',
    });
    transport.close();
    const [summary] = await inbox.list();
    expect(summary?.subject).toBe('No To header');
    expect(summary?.to).toEqual(['only-envelope@example.com']);
    expect(summary?.envelope.from).toBe('bounce@example.com');
    await inbox.clear();
  });

  it('stores 200 messages sent concurrently over a pool of 5 connections exactly once each', async () => {
    const transport = connect(inbox, { pool: true });
    const count = 200;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: count }, (_, i) =>
        transport.sendMail({ from: 'news@example.com', to: `reader${i}@example.com`, subject: `Bulk ${i}`, text: `Message ${i}`, html: `<p>Message ${i}</p>` }),
      ),
    );
    const elapsed = performance.now() - started;
    transport.close();

    const list = await inbox.list();
    expect(list).toHaveLength(count);
    const subjects = list.map((message) => message.subject);
    expect(new Set(subjects).size).toBe(count);
    for (let i = 0; i < count; i += 1) expect(subjects).toContain(`Bulk ${i}`);
    expect(new Set(list.map((message) => message.id)).size).toBe(count);
    expect(await countFiles(dir, '.eml')).toBe(count);
    expect((await readFile(join(dir, 'index.jsonl'), 'utf8')).trim().split('\n')).toHaveLength(count);
    // Hundreds per second on loopback; generous bound so a slow CI machine still passes.
    expect(elapsed).toBeLessThan(15_000);
    await inbox.clear();
  });

  it('refuses path traversal and malformed ids', async () => {
    for (const id of ['../index', '..', '../../etc/passwd', '/etc/passwd', 'index.jsonl', 'abc/../def', 'mf0abc-0123456789ab/..', '', 'MF0ABC-0123456789AB']) {
      expect(isInboxMessageId(id)).toBe(false);
      expect(await inbox.get(id)).toBeNull();
    }
    expect(isInboxMessageId(createInboxMessageId())).toBe(true);
    expect(await inbox.get(createInboxMessageId())).toBeNull();
  });
});

describe('local inbox limits and errors', () => {
  it('refuses an oversized message with 552, stores nothing, and keeps accepting', async () => {
    const dir = await makeTempDir();
    const inbox = await startLocalInbox({ dir, port: 0, maxMessageBytes: 10_000 });
    try {
      const transport = connect(inbox);
      const error: unknown = await transport
        .sendMail({ from: 'news@example.com', to: 'reader@example.com', subject: 'Too big', text: 'x'.repeat(50_000) })
        .then(
          () => null,
          (reason: unknown) => reason,
        );
      expect(error).toMatchObject({ responseCode: 552 });
      expect(String((error as Error).message)).toMatch(/exceeds fixed maximum message size 10000/);
      expect(await inbox.list()).toEqual([]);
      expect(await readdir(dir)).toEqual([]);

      await transport.sendMail({ from: 'news@example.com', to: 'reader@example.com', subject: 'Small', text: 'ok' });
      transport.close();
      expect((await inbox.list()).map((message) => message.subject)).toEqual(['Small']);
    } finally {
      await inbox.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reports a port that is already taken as a CONFIG error', async () => {
    const dir = await makeTempDir();
    const first = await startLocalInbox({ dir, port: 0 });
    try {
      await expect(startLocalInbox({ dir, port: first.port })).rejects.toMatchObject({
        code: 'CONFIG',
        message: expect.stringContaining(`127.0.0.1:${first.port}`),
      });
    } finally {
      await first.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects a nonsensical limit', async () => {
    await expect(startLocalInbox({ dir: tmpdir(), port: 0, maxMessageBytes: 0 })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });
});

describe('inbox reader on a directory', () => {
  it('tolerates a truncated last index line, and a restarted inbox repairs it', async () => {
    const dir = await makeTempDir();
    try {
      const first = await startLocalInbox({ dir, port: 0 });
      const transport = connect(first);
      await transport.sendMail({ from: 'news@example.com', to: 'reader@example.com', subject: 'Before the crash', text: 'x' });
      transport.close();
      await first.close();
      // A crash in the middle of an index write.
      await appendFile(join(dir, 'index.jsonl'), '{"id":"mf0abc-0123456789ab","receivedAt":"2025-');

      const reader = openInboxReader(dir);
      expect((await reader.list()).map((message) => message.subject)).toEqual(['Before the crash']);

      const second = await startLocalInbox({ dir, port: 0 });
      const again = connect(second);
      await again.sendMail({ from: 'news@example.com', to: 'reader@example.com', subject: 'After the restart', text: 'x' });
      again.close();
      expect((await second.list()).map((message) => message.subject)).toEqual(['After the restart', 'Before the crash']);
      // Another process's reader sees the new message too, and clear() from there empties the directory.
      expect((await reader.list()).map((message) => message.subject)).toEqual(['After the restart', 'Before the crash']);
      await reader.clear();
      expect(await second.list()).toEqual([]);
      await second.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reads an empty or missing directory as an empty inbox and skips garbage lines', async () => {
    const dir = await makeTempDir();
    try {
      expect(await openInboxReader(join(dir, 'missing')).list()).toEqual([]);
      await writeFile(join(dir, 'index.jsonl'), 'not json\n{"id":"../../etc/passwd","receivedAt":"x","from":"","to":[],"subject":"","size":1}\n');
      expect(await openInboxReader(dir).list()).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('local inbox cap, deleting one message and events', () => {
  async function send(inbox: LocalInbox, subjects: readonly string[]): Promise<void> {
    const transport = connect(inbox);
    for (const subject of subjects) await transport.sendMail({ from: 'news@example.com', to: 'reader@example.com', subject, text: `Body of ${subject}` });
    transport.close();
  }

  it('keeps at most maxMessages, dropping the oldest with their files; the index does not grow without bound', async () => {
    const dir = await makeTempDir();
    const inbox = await startLocalInbox({ dir, port: 0, maxMessages: 3 });
    try {
      await send(inbox, ['m1', 'm2', 'm3']);
      const first = (await inbox.list()).at(-1);
      expect((await inbox.list()).map((m) => m.subject)).toEqual(['m3', 'm2', 'm1']);
      await send(inbox, ['m4', 'm5']);
      expect((await inbox.list()).map((m) => m.subject)).toEqual(['m5', 'm4', 'm3']);
      expect(await countFiles(dir, '.eml')).toBe(3);
      expect(await inbox.get(first?.id ?? '')).toBeNull();
      // Another process reading the directory sees the same three.
      expect((await openInboxReader(dir).list()).map((m) => m.subject)).toEqual(['m5', 'm4', 'm3']);

      // Many more: the files stay at 3 and the index is compacted now and then (a few lines per live message).
      await send(inbox, Array.from({ length: 60 }, (_, i) => `bulk ${i}`));
      expect((await inbox.list()).map((m) => m.subject)).toEqual(['bulk 59', 'bulk 58', 'bulk 57']);
      expect(await countFiles(dir, '.eml')).toBe(3);
      const lines = (await readFile(join(dir, 'index.jsonl'), 'utf8')).trim().split('\n');
      expect(lines.length).toBeLessThanOrEqual(3 * 2 + 64);
    } finally {
      await inbox.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('applies a lower cap on start, and removes message files the index does not know (left by a crash)', async () => {
    const dir = await makeTempDir();
    try {
      const unlimited = await startLocalInbox({ dir, port: 0, maxMessages: 0 });
      await send(unlimited, ['a', 'b', 'c', 'd', 'e']);
      await unlimited.close();
      const orphan = `${createInboxMessageId()}.eml`;
      await writeFile(join(dir, orphan), 'Subject: never acknowledged\r\n\r\nx\r\n');

      const capped = await startLocalInbox({ dir, port: 0, maxMessages: 2 });
      try {
        expect((await capped.list()).map((m) => m.subject)).toEqual(['e', 'd']);
        expect((await readdir(dir)).filter((name) => name.endsWith('.eml'))).toHaveLength(2);
        expect(await readdir(dir)).not.toContain(orphan);
      } finally {
        await capped.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('deletes one message (its file too), tells subscribers, and survives a restart', async () => {
    const dir = await makeTempDir();
    const inbox = await startLocalInbox({ dir, port: 0 });
    const events: string[] = [];
    const unsubscribe = inbox.subscribe((event) => events.push(event.type === 'received' ? `received ${event.message.subject}` : event.type === 'deleted' ? `deleted ${event.ids.length}` : event.type));
    try {
      await send(inbox, ['keep 1', 'remove me', 'keep 2']);
      const target = (await inbox.list()).find((m) => m.subject === 'remove me');
      if (!target) throw new Error('missing');
      expect(await inbox.delete(target.id)).toBe(true);
      expect(await inbox.delete(target.id)).toBe(false);
      expect(await inbox.delete('../index')).toBe(false);
      expect((await inbox.list()).map((m) => m.subject)).toEqual(['keep 2', 'keep 1']);
      expect(await inbox.get(target.id)).toBeNull();
      expect(await countFiles(dir, '.eml')).toBe(2);
      await inbox.clear();
      expect(events).toEqual(['received keep 1', 'received remove me', 'received keep 2', 'deleted 1', 'cleared']);
      unsubscribe();
      await send(inbox, ['after unsubscribe', 'second']);
      expect(events).toHaveLength(5);
      const survivor = (await inbox.list()).find((m) => m.subject === 'after unsubscribe');
      expect(await inbox.delete(survivor?.id ?? '')).toBe(true);
    } finally {
      await inbox.close();
    }
    const again = await startLocalInbox({ dir, port: 0 });
    try {
      expect((await again.list()).map((m) => m.subject)).toEqual(['second']);
    } finally {
      await again.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects a nonsensical cap', async () => {
    await expect(startLocalInbox({ dir: tmpdir(), port: 0, maxMessages: -1 })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(startLocalInbox({ dir: tmpdir(), port: 0, maxMessages: 1.5 })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });
});
