/** The sign-up confirmation message: emails/confirm.tsx rendered with real values (one message, so no placeholders), as nodemailer options. */
import { randomBytes } from 'node:crypto';
import { render } from '@react-email/render';
import { createElement } from 'react';
import ConfirmEmail, { confirmEmailSubject, type ConfirmEmailProps } from '../../emails/confirm.tsx';
import type { Newsletter } from '../core/domain.ts';
import { MailroomError } from '../core/errors.ts';
import { domainOf } from '../mime/compose.ts';
import { toHeaderValue } from '../personalization/personalize.ts';
import { htmlToPlainText } from '../rendering/plain-text.ts';
import type { OutgoingMessage } from '../sending/ports.ts';

export interface RenderedConfirmation {
  readonly subject: string;
  readonly html: string;
  readonly text: string;
}

export async function renderConfirmationEmail(props: ConfirmEmailProps): Promise<RenderedConfirmation> {
  let html: string;
  try {
    html = await render(createElement(ConfirmEmail, props));
  } catch (error) {
    throw new MailroomError('TEMPLATE', `Could not render the "confirm" template: ${error instanceof Error ? error.message : String(error)}`, [], { cause: error });
  }
  return { subject: confirmEmailSubject(props), html, text: htmlToPlainText(html) };
}

/**
 * A transactional message from the newsletter's sender: no List-Unsubscribe (the person is on no list yet) and
 * `Auto-Submitted: auto-generated` (RFC 3834), so auto-responders do not answer it.
 */
export function composeConfirmationMessage(sender: Newsletter, to: string, rendered: RenderedConfirmation, date: Date): OutgoingMessage {
  return {
    envelopeTo: to,
    options: {
      from: { name: toHeaderValue(sender.fromName), address: sender.fromEmail },
      ...(sender.replyTo ? { replyTo: sender.replyTo } : {}),
      to,
      subject: toHeaderValue(rendered.subject),
      text: rendered.text,
      html: rendered.html,
      messageId: `<confirm.${randomBytes(9).toString('hex')}@${domainOf(sender.fromEmail)}>`,
      date,
      headers: { 'Auto-Submitted': 'auto-generated', 'X-Auto-Response-Suppress': 'All' },
      envelope: { from: sender.fromEmail, to: [to] },
      textEncoding: 'quoted-printable',
      disableFileAccess: true,
      disableUrlAccess: true,
    },
  };
}
