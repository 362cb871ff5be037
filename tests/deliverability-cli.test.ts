/**
 * Issue 13 from the command line, in-process: `suppress add|remove|list|import` (addresses and whole domains),
 * suppressed people never mailed whatever a later import says, `subscribers show`, `campaigns show` and
 * `campaigns stats` showing the bounces after the 250.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import * as cli from '../src/cli/commands-deliverability.ts';
import { campaignsShowCommand } from '../src/cli/commands.ts';
import { processInboundMessage } from '../src/deliverability/bounce-service.ts';
import { bounceServiceDeps } from '../src/deliverability/runtime.ts';
import { loadDemoWorkspace } from '../src/demo.ts';
import { sendNewsletter } from '../src/sending/send-newsletter.ts';
import { startSmtpSink, type SmtpSink } from './helpers/smtp-sink.ts';
import { openWorkspace, type Workspace } from './helpers/workspace.ts';
import { hardBounceDsn } from './helpers/dsn.ts';

const SECRET = 'a-test-secret-that-is-long-enough-0123456789';

describe('deliverability commands', () => {
  let sink: SmtpSink;
  let ws: Workspace;
  const saved = { ...process.env };

  async function run(fn: () => Promise<number>): Promise<string> {
    let out = '';
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out += String(chunk);
      return true;
    });
    try {
      expect(await fn()).toBe(0);
    } finally {
      spy.mockRestore();
    }
    return out;
  }

  beforeAll(async () => {
    sink = await startSmtpSink();
    ws = await openWorkspace({ SMTP_URL: sink.url, BOUNCE_DOMAIN: 'bounces.example.com' });
    await loadDemoWorkspace(ws.app);
    Object.assign(process.env, { DATA_DIR: ws.dataDir, PUBLIC_URL: 'https://news.example.com', SECRET, SMTP_URL: sink.url, BOUNCE_DOMAIN: 'bounces.example.com' });
    delete process.env.DATABASE_URL;
  });

  afterAll(async () => {
    process.env = saved;
    await sink?.close();
    await ws?.close();
  });

  test('suppressed addresses and domains are never mailed, whatever a later import says; a bad import line adds nothing', async () => {
    expect(await run(() => cli.suppressAddCommand('@Example.org', { reason: 'partner asked' }))).toContain('every address at @example.org');
    const bad = join(ws.dir, 'bad.txt');
    writeFileSync(bad, '# from the old tool\nmargaret@example.net,left the company\nnot an address at all\n');
    await expect(cli.suppressImportCommand(bad, { reason: 'manual' })).rejects.toThrow(/bad\.txt line 3: "not an address at all"/);
    const good = join(ws.dir, 'good.txt');
    writeFileSync(good, '# from the old tool\nmargaret@example.net,left the company\n');
    expect(await run(() => cli.suppressImportCommand(good, { reason: 'manual' }))).toContain('1 added');
    const list = await run(() => cli.suppressListCommand({ limit: '100' }));
    expect(list).toMatch(/@example\.org\s+partner asked/);
    expect(list).toMatch(/margaret@example\.net\s+left the company/);

    // A later import names them again as subscribed members.
    const listId = (await ws.app.stores.audience.findListByName('demo'))?.id ?? 0;
    async function* rows() {
      yield { line: 2, ok: true as const, row: { email: 'margaret@example.net', name: 'Margaret', firstName: '', lastName: '', attributes: {} } };
      yield { line: 3, ok: true as const, row: { email: 'new@example.org', name: '', firstName: '', lastName: '', attributes: {} } };
    }
    const imported = await ws.app.stores.audience.importSubscribers(listId, rows(), { source: 'later.csv' });
    // The domain-suppressed address is added as a member; it is where recipients are chosen that it is kept out.
    expect(imported).toMatchObject({ addedToList: 1, newPeople: 1, rejected: [] });
    const report = await sendNewsletter(ws.app.sendDeps(), { newsletter: 'weekly' });
    expect(report.recipients).toBe(3);
    expect(sink.countFor('margaret@example.net')).toBe(0);
    expect(sink.countFor('linus@example.org')).toBe(0);
    expect(sink.countFor('new@example.org')).toBe(0);
    expect(sink.countFor('ada@example.com')).toBe(1);

    expect(await run(() => cli.suppressRemoveCommand('margaret@example.net'))).toContain('no longer suppressed');
    await expect(cli.suppressRemoveCommand('margaret@example.net')).rejects.toThrow(/not suppressed/);
    await expect(cli.suppressAddCommand('not a domain', { reason: 'x' })).rejects.toThrow(/not an address or a domain/);
  });

  test('a bounce shows in campaigns show, subscribers show and campaigns stats', async () => {
    const ada = sink.messages.find((m) => m.envelopeTo.includes('ada@example.com'));
    if (!ada) throw new Error('ada got nothing');
    const dsn = hardBounceDsn({ returnPath: ada.envelopeFrom, recipient: 'ada@example.com', status: '5.2.1', messageId: 'dsn-1@mx.example.net', diagnostic: '550 5.2.1 mailbox disabled' });
    expect(await processInboundMessage(bounceServiceDeps(ws.app), Buffer.from(dsn), 'smtp', [ada.envelopeFrom])).toMatchObject({ outcome: 'applied' });
    const show = await run(() => campaignsShowCommand('1', {}));
    expect(show).toMatch(/bounces and complaints after the 250/);
    expect(show).toMatch(/ada@example\.com\s+hard-bounce\s+5\.2\.1\s+smtp\s+suppressed/);
    const person = await run(() => cli.subscribersShowCommand('ada@example.com'));
    expect(person).toMatch(/ada@example\.com .*: bounced/);
    expect(person).toMatch(/suppressed: ada@example\.com \(hard-bounce\)/);
    expect(person).toMatch(/1\s+weekly\s+#1\s+sent/);
    expect(person).toMatch(/hard-bounce\s+5\.2\.1/);
    const stats = JSON.parse(await run(() => cli.campaignsStatsCommand('1', { json: true }))) as Record<string, number>;
    expect(stats).toMatchObject({ campaign: 1, accepted: 3, delivered: 2, hardBounces: 1, softBounces: 0, complaints: 0 });
  });
});
