/** nodemailer's private `MailMessage#_getListHeaders` gone or changed: the campaign pauses with a clear error before anyone is mailed or failed. */
import MailMessage from 'nodemailer/lib/mailer/mail-message.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadDemoWorkspace } from '../src/demo.ts';
import { buildIssue } from '../src/issues/build-issue.ts';
import { NodemailerInternalsError, resolveListUnsubscribe } from '../src/mime/issue-mime.ts';
import { resumeCampaign } from '../src/sending/send-newsletter.ts';
import { startSmtpSink, type SmtpSink } from './helpers/smtp-sink.ts';
import { openWorkspace, type Workspace } from './helpers/workspace.ts';

type Proto = { _getListHeaders?: unknown };
const proto = MailMessage.prototype as unknown as Proto;
const original = proto._getListHeaders;

/** Runs `fn` with nodemailer's private method replaced (undefined: removed), as a nodemailer upgrade could leave it. */
async function withListHeaders<T>(replacement: unknown, fn: () => Promise<T>): Promise<T> {
  if (replacement === undefined) delete proto._getListHeaders;
  else proto._getListHeaders = replacement;
  try {
    return await fn();
  } finally {
    proto._getListHeaders = original;
  }
}

let sink: SmtpSink;
let ws: Workspace;
beforeAll(async () => {
  sink = await startSmtpSink();
  ws = await openWorkspace({ SMTP_URL: sink.url });
  await loadDemoWorkspace(ws.app);
});
afterAll(async () => {
  await ws.close();
  await sink.close();
});

let issueId: number | null = null;
/** A campaign of the same issue to the whole list again (resend: every member is pending). */
async function newCampaign(): Promise<number> {
  const newsletter = await ws.app.stores.newsletters.findNewsletter('weekly');
  if (!newsletter) throw new Error('no newsletter');
  issueId ??= (await buildIssue(ws.app.stores, newsletter, { publicUrl: ws.app.config.publicUrl })).issue.id;
  const { campaign } = await ws.app.stores.campaigns.createCampaign({ issueId, newsletterId: newsletter.id, listId: newsletter.listId, resend: true });
  return campaign.id;
}

describe("nodemailer's private List-Unsubscribe API", () => {
  test('today it answers "<URL>"', () => {
    expect(resolveListUnsubscribe('https://news.example.com/u/abc')('https://news.example.com/u/xyz')).toBe('<https://news.example.com/u/xyz>');
  });

  test.each([
    ['missing', undefined, /_getListHeaders, used for the List-Unsubscribe header, is missing/],
    ['answering in another shape', () => [{ key: 'list-unsubscribe', value: 'x' }], /_getListHeaders answered/],
    ['throwing', () => { throw new TypeError('list.map is not a function'); }, /_getListHeaders failed \(list\.map is not a function\)/],
  ])('%s: the campaign pauses with a clear error; nobody is mailed or failed; resume sends it', async (_why, replacement, message) => {
    const id = await newCampaign();
    const before = sink.messages.length;
    const result = await withListHeaders(replacement, () => resumeCampaign(ws.app.sendDeps(), id));
    expect(result.status).toBe('paused');
    expect(result.error).toMatch(message);
    expect(result.error).toMatch(/nodemailer 10\.\d+\.\d+: .*install that version \(npm ci\) and resume the campaign/);
    expect(await ws.app.stores.campaigns.getCampaign(id)).toMatchObject({ status: 'paused', pauseReason: 'operator' });
    const counts = await ws.app.stores.campaigns.countSends(id);
    expect(counts).toMatchObject({ sent: 0, failed: 0 });
    expect(counts.pending).toBeGreaterThan(0);
    expect(sink.messages.length).toBe(before);

    // With nodemailer as pinned again, the operator resumes and everyone gets it once.
    const again = await resumeCampaign(ws.app.sendDeps(), id);
    expect(again.status).toBe('sent');
    expect(again.counts).toMatchObject({ failed: 0, pending: 0, sent: counts.pending });
  });

  test('the error is a MailroomError naming the installed and pinned versions', () => {
    const error = new NodemailerInternalsError('something changed');
    expect(error.code).toBe('CONFIG');
    expect(error.message).toMatch(/^nodemailer \d+\.\d+\.\d+: something changed; Mailroom was written against nodemailer \d+\.\d+\.\d+ \(package\.json pins it\)/);
  });
});
