/**
 * Sends the welcome emails that are due (emails/welcome.tsx): once per person and list, from the list's newsletter's
 * sender, with List-Unsubscribe (the person is on the list now). `serve` runs this on its deliverability tick.
 */
import type { Newsletter } from '../core/domain.ts';
import { randomBytes } from 'node:crypto';
import { render } from '@react-email/render';
import { createElement } from 'react';
import WelcomeEmail, { welcomeEmailSubject, type WelcomeEmailProps } from '../../emails/welcome.tsx';
import { preferencesUrl, unsubscribeUrl, type LinkSettings } from '../core/links.ts';
import { toEmailBrand } from '../issues/assemble.ts';
import { domainOf } from '../mime/compose.ts';
import { toHeaderValue } from '../personalization/personalize.ts';
import { htmlToPlainText } from '../rendering/plain-text.ts';
import type { MessageTransport, OutgoingMessage } from '../sending/ports.ts';
import type { DueWelcome } from '../store/welcome-store.ts';

/** What welcome messages need of the stores (app.stores has it). */
export interface WelcomeMessageStores {
  readonly newsletters: {
    listNewsletters(): Promise<Newsletter[]>;
  };
}

/** What sending welcomes needs of their records: the due ones, each claimed once and finished (the deliverability runtime's WelcomeStore has it). */
export interface WelcomeQueue {
  due(limit: number): Promise<DueWelcome[]>;
  claim(listId: number, subscriberId: number): Promise<boolean>;
  finish(listId: number, subscriberId: number, error: string | null): Promise<void>;
}

export interface WelcomeDeps {
  readonly stores: WelcomeMessageStores;
  readonly welcomes: WelcomeQueue;
  readonly settings: LinkSettings;
  readonly openTransport: () => MessageTransport;
  readonly clock: () => Date;
  readonly log?: (line: string) => void;
}

export async function renderWelcome(props: WelcomeEmailProps): Promise<{ subject: string; html: string; text: string }> {
  const html = await render(createElement(WelcomeEmail, props));
  return { subject: welcomeEmailSubject(props), html, text: htmlToPlainText(html) };
}

/** Sends every due welcome; returns how many were sent and how many failed. */
export async function sendDueWelcomes(deps: WelcomeDeps, limit = 50): Promise<{ sent: number; failed: number }> {
  const due = await deps.welcomes.due(limit);
  if (due.length === 0) return { sent: 0, failed: 0 };
  const newsletters = await deps.stores.newsletters.listNewsletters();
  let transport: MessageTransport | null = null;
  let sent = 0;
  let failed = 0;
  try {
    for (const person of due) {
      const sender = newsletters.filter((n) => n.listId === person.listId).sort((a, b) => a.id - b.id)[0];
      if (!sender) continue;
      if (!(await deps.welcomes.claim(person.listId, person.subscriberId))) continue;
      try {
        const unsubscribe = unsubscribeUrl(deps.settings, person.subscriberId, person.listId);
        const now = deps.clock();
        const rendered = await renderWelcome({
          brand: toEmailBrand(sender, deps.settings.publicUrl),
          email: person.email,
          firstName: person.firstName,
          listLabel: sender.name,
          subject: person.subject,
          message: person.message,
          archiveUrl: `${deps.settings.publicUrl}/issues/${sender.slug}`,
          unsubscribeUrl: unsubscribe,
          preferencesUrl: preferencesUrl(deps.settings, person.subscriberId, person.listId),
          sentAt: now.toISOString(),
        });
        const message: OutgoingMessage = {
          envelopeTo: person.email,
          options: {
            from: { name: toHeaderValue(sender.fromName), address: sender.fromEmail },
            ...(sender.replyTo ? { replyTo: sender.replyTo } : {}),
            to: person.email,
            subject: toHeaderValue(rendered.subject),
            text: rendered.text,
            html: rendered.html,
            messageId: `<welcome.${randomBytes(9).toString('hex')}@${domainOf(sender.fromEmail)}>`,
            date: now,
            list: { unsubscribe },
            headers: { 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click', 'Auto-Submitted': 'auto-generated' },
            envelope: { from: sender.fromEmail, to: [person.email] },
            textEncoding: 'quoted-printable',
            disableFileAccess: true,
            disableUrlAccess: true,
          },
        };
        transport ??= deps.openTransport();
        await transport.send(message);
        await deps.welcomes.finish(person.listId, person.subscriberId, null);
        sent += 1;
      } catch (error) {
        failed += 1;
        await deps.welcomes.finish(person.listId, person.subscriberId, (error as Error).message.slice(0, 500));
        deps.log?.(`welcome email to ${person.email}: ${(error as Error).message}`);
      }
    }
  } finally {
    await transport?.close();
  }
  return { sent, failed };
}
