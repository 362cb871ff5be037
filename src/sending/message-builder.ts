/**
 * Builds one campaign's messages: personalization (Handlebars, compiled once) and the MIME. The MIME structure is
 * built once per campaign by nodemailer (src/mime/issue-mime.ts) and only the personalized parts per recipient; the
 * message goes to the SMTP client as raw bytes. When that cannot be prepared, every message is composed in full.
 */
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import { composeMessage, makeMessageId, type MessageFrame } from '../mime/compose.ts';
import { NodemailerInternalsError, prepareIssueMime, type IssueMime } from '../mime/issue-mime.ts';
import { buildRecipientContext, type CompiledIssue, type RecipientContext } from '../personalization/personalize.ts';
import type { DueRecipient, OutgoingMessage } from './ports.ts';

export interface MessageBuilderRun {
  readonly campaignId: number;
  readonly compiled: CompiledIssue;
  readonly frame: MessageFrame;
  readonly links: {
    unsubscribeUrl(subscriberId: number): string;
    preferencesUrl(subscriberId: number): string;
    readonly webVersionUrl: string;
    /** The per-recipient envelope sender (VERP, src/deliverability/verp.ts); absent: the From address. */
    readonly returnPath?: ((campaignId: number, subscriberId: number) => string) | undefined;
    /** The recipient's signed tracking token (filled where the tracked issue asks for it: per-subscriber tracking). */
    readonly trackingToken?: ((campaignId: number, subscriberId: number) => string) | undefined;
  };
}

export interface MessageBuilder {
  /** True when messages are filled into a MIME structure built once (false: composed in full each time). */
  readonly prebuilt: boolean;
  /** Personalizes and composes one message. Throws when a template cannot be filled. */
  build(recipient: DueRecipient, date: Date): OutgoingMessage;
  /** The message as it goes on the wire (for benchmarks and tools). */
  toBuffer(message: OutgoingMessage): Promise<Buffer>;
}

/** The envelope and the raw bytes, for the SMTP client; `messageId` is ours (nodemailer reports a made-up one for raw messages). */
function rawMessage(envelopeFrom: string, email: string, raw: Buffer, messageId: string): OutgoingMessage {
  return { envelopeTo: email, options: { raw, messageId, envelope: { from: envelopeFrom, to: [email] }, disableFileAccess: true, disableUrlAccess: true } };
}

export async function prepareMessageBuilder(run: MessageBuilderRun, fallbackName = 'there'): Promise<MessageBuilder> {
  const tracksPeople = run.compiled.usesTrackingToken === true;
  const contextOf = (recipient: { subscriberId: number; email: string; name: string; firstName: string; lastName: string; attributes: DueRecipient['attributes'] }): RecipientContext => {
    const context = buildRecipientContext(
      recipient,
      { unsubscribeUrl: run.links.unsubscribeUrl(recipient.subscriberId), preferencesUrl: run.links.preferencesUrl(recipient.subscriberId), webVersionUrl: run.links.webVersionUrl },
      fallbackName,
    );
    return tracksPeople && run.links.trackingToken ? { ...context, trackingToken: run.links.trackingToken(run.campaignId, recipient.subscriberId) } : context;
  };
  const sample = { subscriberId: 2 ** 31, email: 'sample@example.com', name: 'Sample Reader', firstName: '', lastName: '', attributes: {} };
  let mime: IssueMime | null = null;
  try {
    mime = await prepareIssueMime(run.frame, run.compiled, { email: sample.email, name: sample.name, context: contextOf(sample), messageId: makeMessageId(run.frame.fromEmail, run.campaignId, sample.subscriberId), date: new Date() });
  } catch (error) {
    // nodemailer's private API changed: composing in full would hide it; the engine pauses the campaign instead.
    if (error instanceof NodemailerInternalsError) throw error;
    mime = null;
  }
  const prebuilt = mime;
  return {
    prebuilt: prebuilt !== null,
    build(recipient, date) {
      const context = contextOf(recipient);
      const messageId = makeMessageId(run.frame.fromEmail, run.campaignId, recipient.subscriberId);
      const envelopeFrom = run.links.returnPath?.(run.campaignId, recipient.subscriberId) ?? run.frame.fromEmail;
      if (prebuilt) return rawMessage(envelopeFrom, recipient.email, prebuilt.build({ email: recipient.email, name: recipient.name, context, messageId, date }), messageId);
      const parts = run.compiled.personalize(context);
      const message = composeMessage(run.frame, { email: recipient.email, name: recipient.name }, parts, context, { messageId, date });
      return { ...message, options: { ...message.options, envelope: { from: envelopeFrom, to: [recipient.email] } } };
    },
    toBuffer(message) {
      if (Buffer.isBuffer(message.options.raw)) return Promise.resolve(message.options.raw);
      return new Promise((resolve, reject) => new MailComposer(message.options).compile().build((error, data) => (error ? reject(error) : resolve(data))));
    },
  };
}
