/**
 * The SMTP adapter: nodemailer behind the engine's MessageTransport, with replies sorted into temporary, permanent
 * and unavailable.
 *
 * A message that is already raw bytes (every campaign message: src/mime/issue-mime.ts builds them) skips
 * `sendMail`'s composing pipeline, which has nothing to compose for it: it goes on one of the relay's SMTP lanes
 * (src/smtp/smtp-lanes.ts, nodemailer's SMTPConnection), DKIM-signed by nodemailer's signer on the way. Anything
 * else, and every message of a relay with a proxy, OAuth2 or nodemailer's own rate limit, goes through `sendMail`
 * on nodemailer's pool.
 */
import type { Readable } from 'node:stream';
import nodemailer from 'nodemailer';
import type { SMTPConnectionOptions } from 'nodemailer/lib/smtp-connection/index.js';
import type { DkimConfig } from '../config.ts';
import { redact } from './smtp-url.ts';
import { TransportError, type MessageTransport, type OutgoingMessage, type TransportAccepted } from '../sending/ports.ts';
import { createSmtpLanes, PLAINTEXT_REFUSED } from './smtp-lanes.ts';

/** Messages per connection before it is closed and a new one opened. */
const MAX_MESSAGES_PER_CONNECTION = 1000;
/** A connection unused this long is closed (under the 5 minutes RFC 5321 asks servers to wait). */
const IDLE_MS = 4 * 60_000;

export interface SmtpTransportOptions {
  /** smtp://user:pass@host:587 or smtps://user:pass@host:465 */
  readonly url: string;
  readonly poolSize: number;
  readonly dkim: DkimConfig | null;
  /** Messages per second across the pool; null for no limit. */
  readonly ratePerSecond: number | null;
  /** Seconds to wait for the server to connect / answer. */
  readonly timeoutSeconds?: number;
  /**
   * Credentials in the URL may go over a plain connection (`insecure_auth=local`, a relay on this machine). Otherwise
   * they are sent only over TLS: smtps://, or STARTTLS, which then must succeed before anything else is said.
   */
  readonly allowPlaintextAuth?: boolean;
  /** CA certificates (PEM) trusted for this server (`ca_file=`), instead of the system's; null: the system's. */
  readonly ca?: string | null;
}

/** Codes that say the server (or our access to it) is the problem, not the recipient. A connection that drops
 * mid-message (ECONNECTION, "Connection closed unexpectedly") is NOT among them: the server may already hold the
 * message, so that row is deferred and retried, never failed over or resent at once. */
const UNAVAILABLE_CODES = new Set(['EDNS', 'ETLS', 'EAUTH', 'ENOAUTH', 'EPROXY', 'ECONNREFUSED', 'EHOSTUNREACH', 'ENOTFOUND']);

/** What nodemailer reports for an accepted message (a lane's SMTPConnection, or sendMail). */
interface SentInfo {
  readonly response: string;
  readonly messageId?: string;
  readonly accepted?: readonly unknown[];
  readonly rejected?: readonly unknown[];
  readonly rejectedErrors?: readonly { response?: string; responseCode?: number }[];
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
  originalCode?: string;
  responseCode?: number;
  response?: string;
  command?: string;
}

/** Commands of the session itself (EHLO and kin): a refusal there is the server's, whatever the code. */
const SESSION_COMMANDS = new Set(['EHLO', 'HELO', 'LHLO']);

/** A greeting that is not 220 (nodemailer: EPROTOCOL on CONN), or a refused EHLO: the server refuses service. */
const refusesService = (e: NodemailerLikeError): boolean => SESSION_COMMANDS.has(e.command ?? '') || (e.command === 'CONN' && e.code === 'EPROTOCOL');

/** What the classifier needs to know about the connection to explain a TLS failure. */
export interface SmtpErrorContext {
  /** The URL carries credentials, so TLS was required for them. */
  readonly credentials?: boolean;
}

const CERTIFICATE_PROBLEM = /certificate|self[- ]signed|unable to (verify|get local issuer)|Hostname\/IP does not match|altnames|CERT_/i;

/** A TLS failure, explained with what to do about it; null for any other error. */
function describeTlsFailure(e: NodemailerLikeError, where: string, context: SmtpErrorContext): string | null {
  const why = context.credentials ? 'SMTP_URL carries a password, which Mailroom sends only over TLS' : 'TLS is required (requireTLS)';
  if (e.code === 'ETLS' && e.command === 'STARTTLS' && e.response) {
    const ways = context.credentials ? 'use smtps:// (port 465), turn STARTTLS on at the server, or, for a relay on this machine only, add insecure_auth=local to its URL' : 'use smtps:// (port 465) or turn STARTTLS on at the server';
    return `${where}: ${why}, and the server does not offer STARTTLS (${e.response.trim()}); nothing was sent. To fix: ${ways}`;
  }
  if (e.code === 'ECONNECTION' && /does not support required STARTTLS/.test(e.message)) {
    return `${where}: ${why}, and the server does not offer STARTTLS (${(e.response ?? e.message).trim()}); nothing was sent`;
  }
  if (e.code === PLAINTEXT_REFUSED) return `${where}: ${why}, and this connection is not encrypted; the password was not sent`;
  const message = e.message.replace(/^Error initiating TLS - /, '');
  if ((e.code === 'ETLS' || e.code === 'ESOCKET') && CERTIFICATE_PROBLEM.test(`${message} ${e.originalCode ?? ''}`)) {
    return `${where}: the server's TLS certificate was not accepted (${message}); nothing was sent. Trust its CA with ca_file=/path/to/ca.pem in SMTP_URL, or skip the check with tls.rejectUnauthorized=false (then anyone on the way can read what is sent, the password included)`;
  }
  if (e.code === 'ETLS') return `${where}: TLS failed: ${message}`;
  return null;
}

/** Sorts a nodemailer error into what the engine should do with the recipient. */
export function classifySmtpError(error: unknown, where: string, context: SmtpErrorContext = {}): TransportError {
  const e = error as NodemailerLikeError;
  const responseCode = typeof e.responseCode === 'number' ? e.responseCode : null;
  const response = typeof e.response === 'string' ? e.response : null;
  const text = response ?? e.message;
  const tls = describeTlsFailure(e, where, context);
  if (tls !== null) return new TransportError('unavailable', tls, responseCode, response);
  if (e.code === 'EAUTH' || e.code === 'ENOAUTH') return new TransportError('unavailable', `${where}: authentication failed: ${text}`, responseCode, response, 'refusing-logins');
  // 421 is the server closing the channel (RFC 5321 4.2.3), whatever command it answers; a refusing greeting or EHLO
  // is the server's, not a recipient's. Nothing was accepted either way, so the message can go to another relay.
  if (responseCode !== null && (responseCode === 421 || refusesService(e))) {
    return new TransportError('unavailable', `${where} is not available: ${(response ?? e.message).trim()}`, responseCode, response);
  }
  if (responseCode !== null && responseCode >= 500) return new TransportError('permanent', text, responseCode, response);
  if (responseCode !== null && responseCode >= 400) return new TransportError('temporary', text, responseCode, response);
  if ((e.code && UNAVAILABLE_CODES.has(e.code)) || /ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN|ECONNRESET before greeting/.test(e.message)) return new TransportError('unavailable', `${where} cannot be reached: ${e.message}`, null, null, 'unreachable');
  // A socket that broke or timed out mid-message: worth another try later.
  return new TransportError('temporary', `${where}: ${e.message}`, responseCode, response);
}

export function createSmtpTransport(options: SmtpTransportOptions): MessageTransport {
  const where = `SMTP server ${redact(options.url)}`;
  const timeout = (options.timeoutSeconds ?? 30) * 1000;
  const transporter = nodemailer.createTransport({
    ...(options.ca ? { tls: { ca: options.ca } } : {}),
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
  // nodemailer's resolved connection options (URL, well-known service, timeouts), as its pool hands them to each connection.
  const connectionOptions = (transporter.transporter as unknown as { options: SMTPConnectionOptions & { proxy?: unknown; auth?: { type?: string; user?: string; pass?: string }; opportunisticTLS?: boolean } }).options;
  const auth = connectionOptions.auth;
  // Credentials never go over a plain connection: without smtps://, STARTTLS must succeed before anything else (this
  // also overrides requireTLS=false / ignoreTLS / opportunisticTLS in the URL, which parseRelays refuses anyway).
  // Every connection, nodemailer's pool, its verify() and the lanes, is made from these options.
  const credentials = Boolean(auth && (auth.user || auth.pass || (auth.type ?? '').toUpperCase() === 'OAUTH2'));
  const plaintextAuth = options.allowPlaintextAuth === true;
  if (credentials && !connectionOptions.secure && !plaintextAuth) Object.assign(connectionOptions, { requireTLS: true, ignoreTLS: false, opportunisticTLS: false });
  const context: SmtpErrorContext = { credentials };
  // Plain connections (no proxy, no OAuth2, no nodemailer rate limit) get lanes of their own; anything else keeps nodemailer's pool.
  const lanes =
    options.ratePerSecond === null && !connectionOptions.proxy && (!auth || ((auth.type ?? 'LOGIN').toUpperCase() === 'LOGIN' && typeof auth.user === 'string' && typeof auth.pass === 'string'))
      ? createSmtpLanes({
          connection: connectionOptions,
          auth: auth?.user !== undefined && auth.pass !== undefined ? { user: auth.user, pass: auth.pass } : null,
          allowPlaintextAuth: plaintextAuth,
          size: options.poolSize,
          maxMessages: MAX_MESSAGES_PER_CONNECTION,
          idleMs: IDLE_MS,
          sign,
        })
      : null;
  return {
    maxConnections: options.poolSize,
    async send(message: OutgoingMessage): Promise<TransportAccepted> {
      try {
        const { raw, messageId } = message.options;
        const envelope = plainEnvelope(message.options.envelope);
        const info: SentInfo =
          lanes && Buffer.isBuffer(raw) && envelope ? ((await lanes.send(raw, envelope)) as SentInfo) : ((await transporter.sendMail(message.options)) as unknown as SentInfo);
        const rejected = (info.rejected ?? []).map(String);
        if (rejected.length > 0 || (info.accepted ?? []).length === 0) {
          const response = info.rejectedErrors?.[0]?.response ?? info.response;
          throw Object.assign(new Error(`recipient ${message.envelopeTo} rejected`), { responseCode: info.rejectedErrors?.[0]?.responseCode ?? 550, response });
        }
        return { response: info.response, messageId: typeof messageId === 'string' ? messageId : (info.messageId ?? '') };
      } catch (error) {
        throw error instanceof TransportError ? error : classifySmtpError(error, where, context);
      }
    },
    async verify(): Promise<void> {
      try {
        await (lanes ? lanes.verify() : transporter.verify());
      } catch (error) {
        const classified = classifySmtpError(error, where, context);
        // No SMTP reply at all (a socket that broke or timed out): the relay could not be reached.
        throw new TransportError('unavailable', classified.message, classified.responseCode, classified.response, classified.relayFault ?? (classified.responseCode === null ? 'unreachable' : 'failing'));
      }
    },
    async close(): Promise<void> {
      lanes?.close();
      transporter.close();
    },
  };
}
