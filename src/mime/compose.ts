/** MIME composition as data: the nodemailer message options for one personalized message (nodemailer writes the MIME). */
import { randomBytes } from 'node:crypto';
import type { SendMailOptions } from 'nodemailer';
import { toHeaderValue, type PersonalizedParts } from '../personalization/personalize.ts';
import type { OutgoingMessage } from '../sending/ports.ts';

/** What is the same for every message of a campaign. */
export interface MessageFrame {
  readonly fromName: string;
  readonly fromEmail: string;
  readonly replyTo: string;
  /** List-Id identifier, e.g. "weekly.news.example.com". */
  readonly listIdentifier: string;
  /** Human label of List-Id, e.g. "Mailroom Weekly". */
  readonly listLabel: string;
  /** Feedback-ID value (Gmail FBL), or '' for none. */
  readonly feedbackId: string;
}

export interface MessageRecipient {
  readonly email: string;
  readonly name: string;
}

/** The domain part of an address, for Message-IDs and List-Ids. */
export function domainOf(email: string): string {
  const at = email.lastIndexOf('@');
  return at >= 0 ? email.slice(at + 1).toLowerCase() : 'localhost';
}

/** Random bytes drawn in blocks: one call to the CSPRNG per thousand Message-IDs instead of one each. */
let randomPool = Buffer.alloc(0);
let randomOffset = 0;
function randomHex(bytes: number): string {
  if (randomOffset + bytes > randomPool.length) {
    randomPool = randomBytes(bytes * 1024);
    randomOffset = 0;
  }
  randomOffset += bytes;
  return randomPool.toString('hex', randomOffset - bytes, randomOffset);
}

/** `<campaign.subscriber.random@sender-domain>`: unique, and traceable to its send row. */
export function makeMessageId(fromEmail: string, campaignId: number, subscriberId: number): string {
  return `<${campaignId.toString(36)}.${subscriberId.toString(36)}.${randomHex(6)}@${domainOf(fromEmail)}>`;
}

export function composeMessage(
  frame: MessageFrame,
  recipient: MessageRecipient,
  parts: PersonalizedParts,
  links: { readonly unsubscribeUrl: string },
  ids: { readonly messageId: string; readonly date: Date },
): OutgoingMessage {
  const headers: Record<string, string> = { 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' };
  if (frame.feedbackId) headers['Feedback-ID'] = toHeaderValue(frame.feedbackId);
  const options: SendMailOptions = {
    from: { name: toHeaderValue(frame.fromName), address: frame.fromEmail },
    ...(frame.replyTo ? { replyTo: frame.replyTo } : {}),
    to: recipient.name ? { name: toHeaderValue(recipient.name), address: recipient.email } : recipient.email,
    subject: parts.subject,
    text: parts.text,
    html: parts.html,
    messageId: ids.messageId,
    date: ids.date,
    list: {
      id: { url: frame.listIdentifier, comment: toHeaderValue(frame.listLabel) },
      unsubscribe: links.unsubscribeUrl,
    },
    headers,
    envelope: { from: frame.fromEmail, to: [recipient.email] },
    // The HTML and text are already final; keep nodemailer from rewriting them.
    textEncoding: 'quoted-printable',
    disableFileAccess: true,
    disableUrlAccess: true,
  };
  return { envelopeTo: recipient.email, options };
}
