/** Builds one campaign's messages: personalization (Handlebars, compiled once) and the MIME, per recipient. */
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import { composeMessage, makeMessageId, type MessageFrame } from '../mime/compose.ts';
import { buildRecipientContext, type CompiledIssue } from '../personalization/personalize.ts';
import type { DueRecipient, OutgoingMessage } from './ports.ts';

export interface MessageBuilderRun {
  readonly campaignId: number;
  readonly compiled: CompiledIssue;
  readonly frame: MessageFrame;
  readonly links: { unsubscribeUrl(subscriberId: number): string; preferencesUrl(subscriberId: number): string; readonly webVersionUrl: string };
}

export interface MessageBuilder {
  build(recipient: DueRecipient, date: Date, fallbackName?: string): OutgoingMessage;
  /** The message as it goes on the wire (for benchmarks and tools). */
  toBuffer(message: OutgoingMessage): Promise<Buffer>;
}

export function createMessageBuilder(run: MessageBuilderRun): MessageBuilder {
  return {
    build(recipient, date, fallbackName = 'there') {
      const subscriberId = recipient.subscriberId;
      const context = buildRecipientContext(
        recipient,
        { unsubscribeUrl: run.links.unsubscribeUrl(subscriberId), preferencesUrl: run.links.preferencesUrl(subscriberId), webVersionUrl: run.links.webVersionUrl },
        fallbackName,
      );
      const parts = run.compiled.personalize(context);
      return composeMessage(run.frame, { email: recipient.email, name: recipient.name }, parts, context, { messageId: makeMessageId(run.frame.fromEmail, run.campaignId, subscriberId), date });
    },
    toBuffer(message) {
      return new Promise((resolve, reject) => new MailComposer(message.options).compile().build((error, data) => (error ? reject(error) : resolve(data))));
    },
  };
}
