/** Issue 13: a list's welcome email (emails/welcome.tsx) when someone confirms, once, over real SMTP. */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadDemoWorkspace } from '../src/demo.ts';
import { SubscriberStore } from '../src/store/subscriber-store.ts';
import { WelcomeStore } from '../src/store/welcome-store.ts';
import { sendDueWelcomes, type WelcomeDeps } from '../src/subscribers/welcome.ts';
import { startSmtpSink, type SmtpSink } from './helpers/smtp-sink.ts';
import { openWorkspace, type Workspace } from './helpers/workspace.ts';

describe('welcome email on confirm', () => {
  let sink: SmtpSink;
  let ws: Workspace;
  let now = new Date('2026-12-04T12:00:00.000Z');
  const clock = () => now;
  let deps: WelcomeDeps;
  let welcomes: WelcomeStore;
  let listId = 0;

  async function signUpAndConfirm(email: string, firstName: string): Promise<void> {
    const subscribers = new SubscriberStore(ws.app.stores.db);
    const outcome = await subscribers.requestSignup({ listId, email, name: firstName, firstName, lastName: '', source: 'signup:form', ip: null, now });
    if (outcome.kind !== 'confirm') throw new Error(`sign-up: ${outcome.kind}`);
    now = new Date(now.getTime() + 60_000);
    expect(await subscribers.confirmMembership(outcome.subscriberId, listId, null, now)).toBe('confirmed');
  }

  beforeAll(async () => {
    sink = await startSmtpSink();
    ws = await openWorkspace({ SMTP_URL: sink.url }, { clock });
    await loadDemoWorkspace(ws.app);
    listId = (await ws.app.stores.audience.findListByName('demo'))?.id ?? 0;
    welcomes = new WelcomeStore(ws.app.stores.db, clock);
    deps = { stores: ws.app.stores, welcomes, settings: { publicUrl: 'https://news.example.com', secret: ws.app.config.secret }, openTransport: ws.app.openTransport, clock };
  });

  afterAll(async () => {
    await sink?.close();
    await ws?.close();
  });

  test('off by default; once on, each person who confirms from then on gets one welcome, the message shown as written', async () => {
    await signUpAndConfirm('before@example.com', 'Bea');
    expect(await sendDueWelcomes(deps)).toEqual({ sent: 0, failed: 0 });

    now = new Date(now.getTime() + 60_000);
    await welcomes.set(listId, true, { subject: 'Glad you are here', message: 'First paragraph with {{name}} kept as text.\n\nSecond <b>paragraph</b>.' });
    await signUpAndConfirm('nia@example.com', 'Nia');
    expect(await sendDueWelcomes(deps)).toEqual({ sent: 1, failed: 0 });
    expect(await sendDueWelcomes(deps)).toEqual({ sent: 0, failed: 0 });
    expect(sink.countFor('before@example.com')).toBe(0);
    const [message] = sink.messages.filter((m) => m.envelopeTo.includes('nia@example.com'));
    expect(message?.parsed.subject).toBe('Glad you are here');
    expect(message?.parsed.text).toContain('First paragraph with {{name}} kept as text.');
    expect(message?.parsed.html).toContain('Second &lt;b&gt;paragraph&lt;/b&gt;.');
    expect(message?.parsed.html).toContain('Welcome, Nia!');
    expect(message?.raw).toMatch(/^List-Unsubscribe: <https:\/\/news\.example\.com\/u\//m);
    expect(await welcomes.sent(listId)).toEqual([expect.objectContaining({ email: 'nia@example.com', status: 'sent' })]);

    await welcomes.set(listId, false);
    await signUpAndConfirm('after@example.com', 'Al');
    expect(await sendDueWelcomes(deps)).toEqual({ sent: 0, failed: 0 });
  });
});
