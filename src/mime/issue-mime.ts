/**
 * One campaign's MIME, built once by nodemailer and filled per recipient.
 *
 * nodemailer composes a template message (the same options as `composeMessage`, sent through its own `sendMail`
 * pipeline to a buffer) whose header block and multipart structure every message of the campaign shares. Per
 * recipient, only what differs is encoded again, with nodemailer's own encoders: the To, Subject, Message-ID, Date
 * and List-Unsubscribe headers, and the personalized pieces of the text and HTML parts. The literal pieces of the
 * issue are quoted-printable encoded once; each piece starts on a new encoded line and ends with a soft line break,
 * so the decoded parts are exactly what `personalize` returns. The result is the raw message nodemailer's SMTP
 * client sends (and DKIM-signs) as it is.
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import nodemailer from 'nodemailer';
import MailMessage from 'nodemailer/lib/mailer/mail-message.js';
import * as mimeFuncs from 'nodemailer/lib/mime-funcs/index.js';
import MimeNode from 'nodemailer/lib/mime-node/index.js';
import * as qp from 'nodemailer/lib/qp/index.js';
import { MailroomError } from '../core/errors.ts';
import type { CompiledIssue, RecipientContext, TemplatePiece } from '../personalization/personalize.ts';
import { toHeaderValue } from '../personalization/personalize.ts';
import { composeMessage, type MessageFrame, type MessageRecipient } from './compose.ts';

/** Quoted-printable lines are at most 76 characters; one is kept for the soft break after each piece. */
const QP_LINE = 75;
const SOFT_BREAK = Buffer.from('=\r\n', 'latin1');
const CRLF = /\r\n|\r|\n/g;

/** The headers filled per recipient, by their lowercased name. */
const PERSONAL_HEADERS = ['to', 'subject', 'message-id', 'date', 'list-unsubscribe'] as const;
type PersonalHeader = (typeof PERSONAL_HEADERS)[number];

export interface IssueMimeRecipient extends MessageRecipient {
  readonly context: RecipientContext;
  readonly messageId: string;
  readonly date: Date;
}

export interface IssueMime {
  /** The whole message for one recipient, CRLF line ends, as the SMTP client sends it. */
  build(recipient: IssueMimeRecipient): Buffer;
}

/** An encoded piece of a part: bytes to copy, or a function that encodes the recipient's text. */
type EncodedPiece = { readonly bytes: Buffer; readonly endsLine: boolean } | ((data: ReturnType<CompiledIssue['dataFor']>) => string);

type Segment = { readonly kind: 'bytes'; readonly bytes: Buffer } | { readonly kind: 'header'; readonly name: PersonalHeader; readonly key: string } | { readonly kind: 'part'; readonly part: 'text' | 'html' };

/**
 * nodemailer's private API that Mailroom relies on (the List-Unsubscribe value as its `list` option would write it)
 * changed or went away: nodemailer is pinned to an exact version in package.json, so this means an upgrade that
 * needs Mailroom's code to follow. The campaign pauses with this message instead of failing every recipient.
 */
export class NodemailerInternalsError extends MailroomError {
  constructor(what: string, cause?: unknown) {
    super(
      'CONFIG',
      `nodemailer ${NODEMAILER_VERSION}: ${what}; Mailroom was written against nodemailer ${PINNED_NODEMAILER} (package.json pins it): install that version (npm ci) and resume the campaign`,
      [],
      cause === undefined ? undefined : { cause },
    );
    this.name = 'NodemailerInternalsError';
  }
}

const require = createRequire(import.meta.url);
const NODEMAILER_VERSION = (require('nodemailer/package.json') as { version: string }).version;
/** The version package.json pins (exactly): the one this code was written and tested against. */
const PINNED_NODEMAILER = (require('../../package.json') as { dependencies: Record<string, string> }).dependencies['nodemailer'] ?? '?';

type ListHeaders = (list: object) => { value: { value: string }[] }[];

/**
 * The List-Unsubscribe value for a URL, from nodemailer's private `MailMessage#_getListHeaders`. Looked up and
 * tried once per campaign on the sample's URL: when the method is missing or answers in another shape, this throws a
 * NodemailerInternalsError before any recipient is touched; a failure later (per message) throws the same.
 */
export function resolveListUnsubscribe(sampleUrl: string, messageClass: { prototype: object } = MailMessage): (url: string) => string {
  const method = (messageClass.prototype as { _getListHeaders?: unknown })._getListHeaders;
  if (typeof method !== 'function') throw new NodemailerInternalsError('its private MailMessage#_getListHeaders, used for the List-Unsubscribe header, is missing');
  const instance = new (messageClass as unknown as typeof MailMessage)({} as ConstructorParameters<typeof MailMessage>[0], {});
  const valueFor = (url: string): string => {
    let value: unknown;
    try {
      value = (method as ListHeaders).call(instance, { unsubscribe: url })[0]?.value[0]?.value;
    } catch (error) {
      throw new NodemailerInternalsError(`its private MailMessage#_getListHeaders failed (${(error as Error).message})`, error);
    }
    if (typeof value !== 'string' || !value.includes(url)) {
      throw new NodemailerInternalsError(`its private MailMessage#_getListHeaders answered ${JSON.stringify(value)?.slice(0, 80) ?? 'nothing'} for the unsubscribe URL, not "<URL>"`);
    }
    return value;
  };
  valueFor(sampleUrl);
  return valueFor;
}

/** Quoted-printable for one piece, starting at the beginning of an encoded line; CRLF line ends. */
function encodePiece(text: string): string {
  return qp.wrap(qp.encode(text), QP_LINE).replace(CRLF, '\r\n');
}

function encodePieces(pieces: readonly TemplatePiece[]): EncodedPiece[] {
  return pieces.map((piece) => {
    if (typeof piece !== 'string') return piece;
    const encoded = encodePiece(piece);
    return { bytes: Buffer.from(encoded, 'latin1'), endsLine: encoded.endsWith('\n') };
  });
}

/** Splits a header block into whole (possibly folded) header fields. */
function splitHeaders(block: string): string[] {
  const fields: string[] = [];
  for (const line of block.split('\r\n')) {
    if (/^[ \t]/.test(line) && fields.length > 0) fields[fields.length - 1] += `\r\n${line}`;
    else fields.push(line);
  }
  return fields;
}

function sendToBuffer(options: ReturnType<typeof composeMessage>['options']): Promise<Buffer> {
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });
  return transport.sendMail(options).then((info) => info.message as Buffer);
}

/**
 * Prepares a campaign's MIME from a sample recipient. Returns null when nodemailer's template does not have the
 * expected shape (a header missing or repeated, a part not quoted-printable): the caller then composes each message
 * in full instead. Throws NodemailerInternalsError when nodemailer's private List-Unsubscribe method is broken.
 */
export async function prepareIssueMime(frame: MessageFrame, compiled: CompiledIssue, sample: IssueMimeRecipient): Promise<IssueMime | null> {
  // First, before nodemailer composes anything: its own `list` option goes through the same private method, so when
  // that is broken, composing each message in full would fail every recipient too (NodemailerInternalsError).
  const listUnsubscribe = resolveListUnsubscribe(sample.context.unsubscribeUrl);
  const marker = randomBytes(8).toString('hex');
  // A non-ASCII character makes nodemailer choose quoted-printable for both parts, as it does for any real issue.
  const slot = (part: string) => `MAILROOM-${part}-${marker}-\u00e9`;
  const options = composeMessage(frame, sample, { subject: compiled.subject(compiled.dataFor(sample.context)), text: slot('TEXT'), html: slot('HTML') }, sample.context, {
    messageId: sample.messageId,
    date: sample.date,
  }).options;
  const template = (await sendToBuffer(options)).toString('utf8');

  const headerEnd = template.indexOf('\r\n\r\n');
  if (headerEnd < 0) return null;
  const segments: Segment[] = [];
  const seen = new Set<PersonalHeader>();
  let literal = '';
  const flush = () => {
    if (literal !== '') segments.push({ kind: 'bytes', bytes: Buffer.from(literal, 'utf8') });
    literal = '';
  };
  for (const field of splitHeaders(template.slice(0, headerEnd))) {
    const colon = field.indexOf(':');
    const key = field.slice(0, colon);
    const name = key.toLowerCase() as PersonalHeader;
    if (colon > 0 && (PERSONAL_HEADERS as readonly string[]).includes(name)) {
      if (seen.has(name)) return null;
      seen.add(name);
      flush();
      segments.push({ kind: 'header', name, key });
      literal = '\r\n';
    } else {
      literal += `${field}\r\n`;
    }
  }
  if (seen.size !== PERSONAL_HEADERS.length) return null;
  const body = template.slice(headerEnd);
  const textSlot = body.indexOf(encodePiece(slot('TEXT')));
  const htmlSlot = body.indexOf(encodePiece(slot('HTML')));
  if (textSlot < 0 || htmlSlot < textSlot) return null;
  /** The header block of the part a slot is the content of. */
  const partHeaders = (at: number) => {
    const head = body.slice(0, at);
    if (!head.endsWith('\r\n\r\n')) return '';
    const start = head.lastIndexOf('\r\n\r\n', head.length - 5);
    return head.slice(start < 0 ? 0 : start, -4);
  };
  const isQuotedPrintable = (at: number) => /^Content-Transfer-Encoding: quoted-printable$/im.test(partHeaders(at));
  if (!isQuotedPrintable(textSlot) || !isQuotedPrintable(htmlSlot)) return null;
  literal += body.slice(0, textSlot);
  flush();
  segments.push({ kind: 'part', part: 'text' });
  literal = body.slice(textSlot + encodePiece(slot('TEXT')).length, htmlSlot);
  flush();
  segments.push({ kind: 'part', part: 'html' });
  literal = body.slice(htmlSlot + encodePiece(slot('HTML')).length);
  flush();

  const parts = { text: encodePieces(compiled.pieces.text), html: encodePieces(compiled.pieces.html) };
  // nodemailer's own header encoding: the node for addresses, encoded words, message ids and dates; the mail message for List-* headers.
  const node = new MimeNode('text/plain', { textEncoding: 'quoted-printable' } as ConstructorParameters<typeof MimeNode>[1]);
  const fold = (key: string, value: string) => Buffer.from(mimeFuncs.foldLines(`${key}: ${value}`, 76), 'utf8');
  const headerValue = (name: PersonalHeader, key: string, r: IssueMimeRecipient, subject: string): Buffer => {
    switch (name) {
      case 'to':
        return fold(key, node.encodeHeaderValue(key, r.name ? ({ name: toHeaderValue(r.name), address: r.email } as unknown as string) : r.email));
      case 'subject':
        return fold(key, node.encodeHeaderValue(key, subject));
      case 'message-id':
        return fold(key, node.encodeHeaderValue(key, r.messageId));
      case 'date':
        return fold(key, r.date.toUTCString().replace(/GMT/, '+0000'));
      case 'list-unsubscribe': {
        return Buffer.from(mimeFuncs.foldLines(`${key}: ${listUnsubscribe(r.context.unsubscribeUrl)}`), 'utf8');
      }
    }
  };

  return {
    build(r: IssueMimeRecipient): Buffer {
      const data = compiled.dataFor(r.context);
      const chunks: Buffer[] = [];
      let subject: string | null = null;
      for (const segment of segments) {
        if (segment.kind === 'bytes') chunks.push(segment.bytes);
        else if (segment.kind === 'header') {
          subject ??= compiled.subject(data);
          chunks.push(headerValue(segment.name, segment.key, r, subject));
        } else {
          let endsLine = true;
          for (const piece of parts[segment.part]) {
            let bytes: Buffer;
            let ends: boolean;
            if (typeof piece === 'function') {
              const text = piece(data);
              if (text === '') continue;
              const encoded = encodePiece(text);
              bytes = Buffer.from(encoded, 'latin1');
              ends = encoded.endsWith('\n');
            } else {
              bytes = piece.bytes;
              ends = piece.endsLine;
            }
            if (!endsLine) chunks.push(SOFT_BREAK);
            chunks.push(bytes);
            endsLine = ends;
          }
        }
      }
      return Buffer.concat(chunks);
    },
  };
}
