/**
 * Reads a message that came back to the bounce address: a delivery status notification (RFC 3464, what Postfix,
 * Microsoft and Gmail send), Exim's classic plain-text bounce, or a feedback-loop complaint (ARF, RFC 5965).
 * Anything else (an auto-reply, a person writing back, a "delivered" notice) is `other`: it is left alone.
 *
 * mailparser reads the outer message (headers, the returned message's headers); the report parts themselves
 * (message/delivery-status, message/feedback-report) are header blocks that mailparser folds into the text, so they
 * are taken from the MIME tree here.
 */
import { simpleParser, type AddressObject } from 'mailparser';

export interface BouncedRecipient {
  readonly email: string;
  /** Enhanced status code, e.g. 5.1.1 (4.x.x: temporary). */
  readonly status: string;
  readonly hard: boolean;
  readonly diagnostic: string;
}

export type InboundReport =
  | { readonly kind: 'bounce'; readonly format: 'rfc3464' | 'plain-text'; readonly recipients: readonly BouncedRecipient[]; readonly addresses: readonly string[]; readonly originalMessageId: string | null; readonly reportId: string }
  | { readonly kind: 'complaint'; readonly feedbackType: string; readonly email: string | null; readonly addresses: readonly string[]; readonly originalMessageId: string | null; readonly reportId: string }
  | { readonly kind: 'other'; readonly why: string };

interface MimePart {
  readonly headers: Map<string, string>;
  readonly body: string;
  readonly children: readonly MimePart[];
}

function parseHeaderBlock(block: string): Map<string, string> {
  const headers = new Map<string, string>();
  const unfolded = block.replace(/\r?\n[ \t]+/g, ' ');
  for (const line of unfolded.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!headers.has(name)) headers.set(name, line.slice(colon + 1).trim());
  }
  return headers;
}

function splitHead(text: string): { head: string; body: string } {
  const m = /\r?\n\r?\n/.exec(text);
  if (!m) return { head: text, body: '' };
  return { head: text.slice(0, m.index), body: text.slice(m.index + m[0].length) };
}

function decodeBody(body: string, encoding: string): string {
  const e = encoding.toLowerCase();
  if (e === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (e === 'quoted-printable') {
    return body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
  }
  return body;
}

function parsePart(text: string, depth = 0): MimePart {
  const { head, body } = splitHead(text);
  const headers = parseHeaderBlock(head);
  const type = headers.get('content-type') ?? 'text/plain';
  const boundary = /boundary\s*=\s*(?:"([^"]+)"|([^;\s]+))/i.exec(type);
  if (/^multipart\//i.test(type) && boundary && depth < 10) {
    const marker = `--${boundary[1] ?? boundary[2]}`;
    const pieces = body.split(new RegExp(`^${marker.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}(?:--)?[ \\t]*\\r?$`, 'm'));
    const children = pieces.slice(1, -1).map((p) => parsePart(p.replace(/^\r?\n/, ''), depth + 1));
    return { headers, body: '', children };
  }
  return { headers, body: decodeBody(body, headers.get('content-transfer-encoding') ?? '7bit'), children: [] };
}

function* walk(part: MimePart): Generator<MimePart> {
  yield part;
  for (const child of part.children) yield* walk(child);
}

function typeOf(part: MimePart): string {
  return (part.headers.get('content-type') ?? 'text/plain').split(';')[0]!.trim().toLowerCase();
}

/** The per-message and per-recipient field groups of a delivery-status or feedback-report body. */
function fieldGroups(body: string): Map<string, string>[] {
  return body
    .split(/\r?\n[ \t]*\r?\n/)
    .map((g) => g.trim())
    .filter(Boolean)
    .map(parseHeaderBlock);
}

function addressOf(field: string | undefined): string | null {
  if (!field) return null;
  const value = field.replace(/^rfc822\s*;/i, '').trim().replace(/^<|>$/g, '').trim();
  return /^[^\s@<>]+@[^\s@<>]+$/.test(value) ? value.toLowerCase() : null;
}

function statusClass(status: string): string {
  return status.split('.')[0] ?? '';
}

function toAddresses(value: AddressObject | AddressObject[] | undefined): string[] {
  const list = value === undefined ? [] : Array.isArray(value) ? value : [value];
  return list.flatMap((a) => a.value.map((v) => v.address ?? '')).filter(Boolean);
}

function messageIdIn(text: string): string | null {
  const m = /^message-id:\s*(<[^>\s]+>)/im.exec(text);
  return m ? m[1]! : null;
}

/** Classifies and reads one message that arrived at the bounce address. */
export async function readInboundReport(raw: Buffer | string): Promise<InboundReport> {
  const text = Buffer.isBuffer(raw) ? raw.toString('utf8') : raw;
  const parsed = await simpleParser(raw, { skipHtmlToText: true, skipTextToHtml: true, skipImageLinks: true });
  const tree = parsePart(text);
  const headerText = splitHead(text).head;
  // Where a VERP token may be: the addresses this report was sent to, and the headers of the returned message.
  const addresses = [
    ...toAddresses(parsed.to),
    ...['delivered-to', 'x-original-to', 'envelope-to'].flatMap((h) => {
      const v = parsed.headers.get(h);
      return typeof v === 'string' ? [v] : [];
    }),
  ];
  const reportId = parsed.messageId ?? '';
  const contentType = (tree.headers.get('content-type') ?? '').toLowerCase();
  const parts = [...walk(tree)];
  const returned = parts.find((p) => ['message/rfc822', 'text/rfc822-headers', 'message/rfc822-headers'].includes(typeOf(p)));
  const returnedText = returned ? returned.body : '';
  if (returnedText) addresses.push(...[...returnedText.matchAll(/^return-path:\s*<([^>]+)>/gim)].map((m) => m[1]!));

  const feedback = parts.find((p) => typeOf(p) === 'message/feedback-report');
  if (feedback && /report-type\s*=\s*"?feedback-report/.test(contentType)) {
    const fields = fieldGroups(feedback.body)[0] ?? new Map<string, string>();
    const mailFrom = fields.get('original-mail-from');
    if (mailFrom) addresses.push(mailFrom.replace(/^<|>$/g, ''));
    return {
      kind: 'complaint',
      feedbackType: (fields.get('feedback-type') ?? 'abuse').toLowerCase(),
      email: addressOf(fields.get('original-rcpt-to')) ?? (returnedText ? addressOf(/^to:\s*(?:.*<)?([^<>\s]+@[^<>\s]+)>?/im.exec(returnedText)?.[1]) : null),
      addresses,
      originalMessageId: messageIdIn(returnedText),
      reportId,
    };
  }

  const statusPart = parts.find((p) => typeOf(p) === 'message/delivery-status' || typeOf(p) === 'message/global-delivery-status');
  if (statusPart) {
    const groups = fieldGroups(statusPart.body);
    const perMessage = groups[0] ?? new Map<string, string>();
    const recipients: BouncedRecipient[] = [];
    for (const group of groups.slice(1)) {
      const email = addressOf(group.get('final-recipient')) ?? addressOf(group.get('original-recipient'));
      const action = (group.get('action') ?? '').toLowerCase();
      const status = /\d\.\d{1,3}\.\d{1,3}/.exec(group.get('status') ?? '')?.[0] ?? '';
      if (!email || !status) continue;
      // delivered, relayed and expanded are successes: not bounces.
      if (action !== 'failed' && action !== 'delayed') continue;
      const cls = statusClass(status);
      if (cls !== '4' && cls !== '5') continue;
      recipients.push({ email, status, hard: action === 'failed' && cls === '5', diagnostic: (group.get('diagnostic-code') ?? '').replace(/^smtp\s*;\s*/i, '') });
    }
    if (recipients.length === 0) return { kind: 'other', why: 'a delivery status notification without a failed or delayed recipient' };
    const originalMessageId = messageIdIn(returnedText) ?? (perMessage.get('x-original-message-id')?.match(/<[^>\s]+>/)?.[0] ?? null) ?? (typeof parsed.inReplyTo === 'string' ? parsed.inReplyTo : null);
    return { kind: 'bounce', format: 'rfc3464', recipients, addresses, originalMessageId, reportId };
  }

  // Exim's (and qmail's) classic plain-text bounce: from the mailer daemon, naming the failed addresses and an SMTP reply.
  const from = toAddresses(parsed.from).join(' ').toLowerCase();
  const subject = (parsed.subject ?? '').toLowerCase();
  const fromDaemon = /^(mailer-daemon|postmaster|mail-daemon)@/.test(from) || /(^|\n)return-path:\s*<>/i.test(headerText);
  const bounceSubject = /(mail delivery failed|undeliver|returned mail|failure notice|delivery status notification|delivery failure)/.test(subject);
  if (fromDaemon && bounceSubject) {
    const body = parsed.text ?? '';
    const failed = (parsed.headers.get('x-failed-recipients') as string | undefined)?.split(/[\s,]+/).filter(Boolean) ?? [];
    const listed = /following address\(es\) failed:\s*\n\s*\n?\s*([^\s<>]+@[^\s<>]+)/i.exec(body)?.[1];
    const emails = [...new Set([...failed, ...(listed ? [listed] : [])].map((e) => e.toLowerCase()))];
    const reply = /\b([45])\d\d[ -](?:([45]\.\d{1,3}\.\d{1,3})\s)?([^\n]*)/.exec(body.split(/------ This is a copy of the message/i)[0] ?? body);
    if (emails.length > 0 && reply) {
      const status = reply[2] ?? `${reply[1]}.0.0`;
      const temporary = /this is a temporary error|has not yet been delivered|delay/i.test(body);
      const hard = statusClass(status) === '5' && !temporary;
      const copy = body.split(/------ This is a copy of the message[^\n]*\n/i)[1] ?? '';
      return {
        kind: 'bounce',
        format: 'plain-text',
        recipients: emails.map((email) => ({ email, status, hard, diagnostic: reply[0].trim() })),
        addresses: [...addresses, ...[...copy.matchAll(/^return-path:\s*<([^>]+)>/gim)].map((m) => m[1]!)],
        originalMessageId: messageIdIn(copy),
        reportId,
      };
    }
  }
  return { kind: 'other', why: 'not a bounce or a complaint report' };
}
