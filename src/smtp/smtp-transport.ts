/** The SMTP adapter: a pooled nodemailer transport behind the engine's MessageTransport, with replies sorted into temporary, permanent and unavailable. */
import nodemailer from 'nodemailer';
import type { DkimConfig } from '../config.ts';
import { redact } from '../config.ts';
import { TransportError, type MessageTransport, type OutgoingMessage, type TransportAccepted } from '../sending/ports.ts';

export interface SmtpTransportOptions {
  /** smtp://user:pass@host:587 or smtps://user:pass@host:465 */
  readonly url: string;
  readonly poolSize: number;
  readonly dkim: DkimConfig | null;
  /** Messages per second across the pool; null for no limit. */
  readonly ratePerSecond: number | null;
  /** Seconds to wait for the server to connect / answer. */
  readonly timeoutSeconds?: number;
}

/** Codes that say the server (or our access to it) is the problem, not the recipient. A connection that drops
 * mid-message (ECONNECTION, "Connection closed unexpectedly") is NOT among them: the server may already hold the
 * message, so that row is deferred and retried, never failed over or resent at once. */
const UNAVAILABLE_CODES = new Set(['EDNS', 'ETLS', 'EAUTH', 'ENOAUTH', 'EPROXY', 'ECONNREFUSED', 'EHOSTUNREACH', 'ENOTFOUND']);

interface NodemailerLikeError extends Error {
  code?: string;
  responseCode?: number;
  response?: string;
  command?: string;
}

/** Sorts a nodemailer error into what the engine should do with the recipient. */
export function classifySmtpError(error: unknown, where: string): TransportError {
  const e = error as NodemailerLikeError;
  const responseCode = typeof e.responseCode === 'number' ? e.responseCode : null;
  const response = typeof e.response === 'string' ? e.response : null;
  const text = response ?? e.message;
  if (e.code === 'EAUTH' || e.code === 'ENOAUTH') return new TransportError('unavailable', `${where}: authentication failed: ${text}`, responseCode, response);
  if (responseCode !== null && responseCode >= 500) return new TransportError('permanent', text, responseCode, response);
  if (responseCode !== null && responseCode >= 400) return new TransportError('temporary', text, responseCode, response);
  if ((e.code && UNAVAILABLE_CODES.has(e.code)) || /ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN|ECONNRESET before greeting/.test(e.message)) return new TransportError('unavailable', `${where} cannot be reached: ${e.message}`, null, null);
  // A socket that broke or timed out mid-message: worth another try later.
  return new TransportError('temporary', `${where}: ${e.message}`, responseCode, response);
}

export function createSmtpTransport(options: SmtpTransportOptions): MessageTransport {
  const where = `SMTP server ${redact(options.url)}`;
  const timeout = (options.timeoutSeconds ?? 30) * 1000;
  const transporter = nodemailer.createTransport({
    url: options.url,
    pool: true,
    maxConnections: options.poolSize,
    maxMessages: 1000,
    ...(options.ratePerSecond ? { rateLimit: options.ratePerSecond, rateDelta: 1000 } : {}),
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout * 2,
    ...(options.dkim ? { dkim: { domainName: options.dkim.domainName, keySelector: options.dkim.keySelector, privateKey: options.dkim.privateKey } } : {}),
  });
  return {
    maxConnections: options.poolSize,
    async send(message: OutgoingMessage): Promise<TransportAccepted> {
      try {
        const info = await transporter.sendMail(message.options);
        const rejected = (info.rejected ?? []).map(String);
        if (rejected.length > 0 || (info.accepted ?? []).length === 0) {
          const response = info.rejectedErrors?.[0]?.response ?? info.response;
          throw Object.assign(new Error(`recipient ${message.envelopeTo} rejected`), { responseCode: info.rejectedErrors?.[0]?.responseCode ?? 550, response });
        }
        return { response: info.response, messageId: info.messageId };
      } catch (error) {
        throw error instanceof TransportError ? error : classifySmtpError(error, where);
      }
    },
    async verify(): Promise<void> {
      try {
        await transporter.verify();
      } catch (error) {
        const classified = classifySmtpError(error, where);
        throw new TransportError('unavailable', classified.message, classified.responseCode, classified.response);
      }
    },
    async close(): Promise<void> {
      transporter.close();
    },
  };
}
