/**
 * The SMTP adapter: a pooled nodemailer transport behind the engine's MessageTransport, with replies sorted into
 * temporary, permanent and unavailable.
 *
 * A message that is already raw bytes (every campaign message: src/mime/issue-mime.ts builds them) goes straight to
 * nodemailer's SMTP pool through its transport interface (`send(mail, callback)` with the envelope, the Message-ID
 * and a stream of the bytes), DKIM-signed by nodemailer's signer on the way. The pool keeps doing everything it
 * does for `sendMail` (connections, re-sending a message not a byte of which was written, RSET after a refused
 * envelope, idle timeouts, proxies); only `sendMail`'s composing pipeline, which has nothing to compose for raw
 * bytes, is skipped, halving the CPU per message. Anything else goes through `sendMail` as before.
 */
import { Readable } from 'node:stream';
import nodemailer from 'nodemailer';
import type { SMTPConnectionOptions } from 'nodemailer/lib/smtp-connection/index.js';
import type { DkimConfig } from '../config.ts';
import { redact } from '../config.ts';
import { TransportError, type MessageTransport, type OutgoingMessage, type TransportAccepted } from '../sending/ports.ts';
import { installFastDotStuffing } from './dot-stuffing.ts';
import { createSmtpLanes } from './smtp-lanes.ts';

/** Messages per connection before it is closed and a new one opened. */
const MAX_MESSAGES_PER_CONNECTION = 1000;
/** A connection unused this long is closed (under the 5 minutes RFC 5321 asks servers to wait). */
const IDLE_MS = 4 * 60_000;

// nodemailer's SMTP client dot-stuffs every message byte by byte in JavaScript; this does the same natively.
installFastDotStuffing();

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

/** What nodemailer's SMTP pool reports for an accepted message. */
interface PoolInfo {
  readonly response: string;
  readonly messageId?: string;
  readonly accepted?: readonly unknown[];
  readonly rejected?: readonly unknown[];
  readonly rejectedErrors?: readonly { response?: string; responseCode?: number }[];
}

/** One raw message in the shape nodemailer's transports take (`mail.data`, `mail.message`): nothing left to compose. */
function rawMail(raw: Buffer, envelope: { from: string; to: string[] }, messageId: string, sign: ((raw: Buffer) => Readable) | null) {
  return {
    data: {},
    message: {
      getEnvelope: () => envelope,
      messageId: () => messageId,
      getHeader: (name: string) => (name.toLowerCase() === 'message-id' ? messageId : undefined),
      // A fresh stream per attempt: the pool sends a message again over another connection when none of it was read.
      createReadStream: (): Readable =>
        sign
          ? sign(raw)
          : new Readable({
              read() {
                this.push(raw);
                this.push(null);
              },
            }),
    },
  };
}

/** The envelope, when it is exactly one sender and a list of recipient addresses (what the message builder writes). */
function plainEnvelope(envelope: unknown): { from: string; to: string[] } | null {
  if (typeof envelope !== 'object' || envelope === null) return null;
  const { from, to } = envelope as { from?: unknown; to?: unknown };
  if (typeof from !== 'string' || !Array.isArray(to) || to.length === 0 || !to.every((a) => typeof a === 'string')) return null;
  return { from, to: to as string[] };
}

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
    maxMessages: MAX_MESSAGES_PER_CONNECTION,
    idleTimeout: IDLE_MS,
    ...(options.ratePerSecond ? { rateLimit: options.ratePerSecond, rateDelta: 1000 } : {}),
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout * 2,
    ...(options.dkim ? { dkim: { domainName: options.dkim.domainName, keySelector: options.dkim.keySelector, privateKey: options.dkim.privateKey } } : {}),
  });
  const dkim = (transporter as unknown as { dkim: { sign(input: Buffer): Readable } | false }).dkim;
  const sign = dkim ? (raw: Buffer) => dkim.sign(raw) : null;
  const pool = transporter.transporter;
  // nodemailer's resolved connection options (URL, well-known service, timeouts), as its pool hands them to each connection.
  const connectionOptions = (pool as unknown as { options: SMTPConnectionOptions & { proxy?: unknown; auth?: { type?: string; user?: string; pass?: string } } }).options;
  const auth = connectionOptions.auth;
  // Plain connections (no proxy, no OAuth2) get lanes of their own; anything else keeps nodemailer's pool.
  const lanes =
    !connectionOptions.proxy && (!auth || ((auth.type ?? 'LOGIN').toUpperCase() === 'LOGIN' && typeof auth.user === 'string' && typeof auth.pass === 'string'))
      ? createSmtpLanes({
          connection: connectionOptions,
          auth: auth?.user !== undefined && auth.pass !== undefined ? { user: auth.user, pass: auth.pass } : null,
          size: options.poolSize,
          maxMessages: MAX_MESSAGES_PER_CONNECTION,
          idleMs: IDLE_MS,
          sign,
        })
      : null;
  /** Sends raw bytes on a lane, or through the pool as `sendMail` would once it had composed them. */
  const sendRaw = (raw: Buffer, envelope: { from: string; to: string[] }, messageId: string): Promise<PoolInfo> => {
    if (lanes) return lanes.send(raw, envelope) as Promise<PoolInfo>;
    // Mailer hands its proxy socket factory (if any) to the pool on the first sendMail or verify; do the same.
    const mailer = transporter as unknown as { getSocket?: unknown };
    if (typeof mailer.getSocket === 'function') {
      (pool as unknown as { getSocket: unknown }).getSocket = mailer.getSocket;
      mailer.getSocket = false;
    }
    return new Promise((resolve, reject) => {
      const mail = rawMail(raw, envelope, messageId, sign) as unknown as Parameters<typeof pool.send>[0];
      pool.send(mail, (error, info) => (error ? reject(error) : resolve(info as unknown as PoolInfo)));
    });
  };
  return {
    maxConnections: options.poolSize,
    async send(message: OutgoingMessage): Promise<TransportAccepted> {
      try {
        const { raw, messageId } = message.options;
        const envelope = plainEnvelope(message.options.envelope);
        const info: PoolInfo =
          Buffer.isBuffer(raw) && envelope && typeof messageId === 'string' ? await sendRaw(raw, envelope, messageId) : ((await transporter.sendMail(message.options)) as unknown as PoolInfo);
        const rejected = (info.rejected ?? []).map(String);
        if (rejected.length > 0 || (info.accepted ?? []).length === 0) {
          const response = info.rejectedErrors?.[0]?.response ?? info.response;
          throw Object.assign(new Error(`recipient ${message.envelopeTo} rejected`), { responseCode: info.rejectedErrors?.[0]?.responseCode ?? 550, response });
        }
        return { response: info.response, messageId: typeof messageId === 'string' ? messageId : (info.messageId ?? '') };
      } catch (error) {
        throw error instanceof TransportError ? error : classifySmtpError(error, where);
      }
    },
    async verify(): Promise<void> {
      try {
        await (lanes ? lanes.verify() : transporter.verify());
      } catch (error) {
        const classified = classifySmtpError(error, where);
        throw new TransportError('unavailable', classified.message, classified.responseCode, classified.response);
      }
    },
    async close(): Promise<void> {
      lanes?.close();
      transporter.close();
    },
  };
}
