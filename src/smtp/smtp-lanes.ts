/**
 * SMTP connections for raw messages, one message per connection at a time, on nodemailer's SMTP client
 * (SMTPConnection: connect, login, send, reset, quit).
 *
 * nodemailer's own pool does the same, but each message waits two extra event-loop turns in it (one to be
 * assigned to a connection, one for the connection to become available again). With a campaign's sending engine
 * recording every outcome before the next claim, those turns are time every connection spends idle: sending
 * straight on the connection, and handing a freed connection at once to the next message waiting for one, gives
 * measurably more messages per second over the same connections (see README, Performance).
 *
 * What the pool does and this keeps: connections opened on demand up to `size` and reused (`maxMessages` each),
 * closed after `idleMs` without use; a message that failed on a reused connection before any of it was read
 * (the server had closed it meanwhile) is sent once more on a new connection; after a refused envelope or
 * message the session is reset (RSET) and the connection kept. Errors are nodemailer's, as the pool gives them.
 */
import { Readable } from 'node:stream';
import * as nodemailerErrors from 'nodemailer/lib/errors.js';
import SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';
import type { SMTPConnectionOptions, SMTPConnectionSendInfo } from 'nodemailer/lib/smtp-connection/index.js';

export interface SmtpLanesOptions {
  readonly connection: SMTPConnectionOptions;
  /** Credentials, when the URL has them; used when the server offers AUTH, and only over TLS unless allowPlaintextAuth. */
  readonly auth: { readonly user: string; readonly pass: string } | null;
  /** Credentials may go over a plain connection (a relay on this machine, `insecure_auth=local`). */
  readonly allowPlaintextAuth?: boolean;
  readonly size: number;
  readonly maxMessages: number;
  readonly idleMs: number;
  /** DKIM signing (nodemailer's signer), or null. */
  readonly sign: ((raw: Buffer) => Readable) | null;
}

export interface SmtpLanes {
  send(raw: Buffer, envelope: { from: string; to: string[] }): Promise<SMTPConnectionSendInfo>;
  verify(): Promise<void>;
  close(): void;
}

interface Lane {
  readonly connection: SMTPConnection;
  messages: number;
  closed: boolean;
  idleTimer: NodeJS.Timeout | null;
}

type NodemailerError = Error & { code?: string; responseCode?: number };

/** A message's content for SMTPConnection#send, and whether the connection has begun to read it. */
interface Content {
  readonly body: Readable;
  started(): boolean;
}

/** A stream (the DKIM-signed message): started once the connection has read from it. */
function streamContent(body: Readable): Content {
  return { body, started: () => body.readableDidRead !== false };
}

/**
 * The bytes without a stream: SMTPConnection#send pipes anything with a `pipe` method into its dot-stuffing
 * stream once the server has answered DATA, so this writes the whole buffer there at that moment (as it does
 * for a plain Buffer) and notes that it did.
 */
function bufferContent(raw: Buffer): Content {
  let started = false;
  const body = {
    pipe<T extends NodeJS.WritableStream>(destination: T): T {
      started = true;
      destination.end(raw);
      return destination;
    },
  };
  return { body: body as unknown as Readable, started: () => started };
}

/** The code of the error given instead of sending credentials over a connection without TLS. */
export const PLAINTEXT_REFUSED = 'EPLAINTEXT';

const poolClosed = (): Error => Object.assign(new Error('Connection pool was closed'), { code: 'ECONNECTION' });

export function createSmtpLanes(options: SmtpLanesOptions): SmtpLanes {
  const idle: Lane[] = [];
  const waiting: { resolve: (lane: Lane) => void; reject: (error: unknown) => void }[] = [];
  let open = 0;
  let closing = false;

  const drop = (lane: Lane): void => {
    if (lane.closed) return;
    lane.closed = true;
    open -= 1;
    if (lane.idleTimer) clearTimeout(lane.idleTimer);
    const at = idle.indexOf(lane);
    if (at >= 0) idle.splice(at, 1);
    // A slot is free: the first message waiting gets a new connection.
    const next = waiting.shift();
    if (next) connect().then(next.resolve, next.reject);
  };

  const connect = (): Promise<Lane> => {
    open += 1;
    const connection = new SMTPConnection({ ...options.connection });
    const lane: Lane = { connection, messages: 0, closed: false, idleTimer: null };
    return new Promise<Lane>((resolve, reject) => {
      let settled = false;
      const fail = (error: unknown) => {
        const first = !settled;
        // Settled before closing: close() may emit 'end' at once, which must not replace this error.
        settled = true;
        drop(lane);
        connection.close();
        if (first) reject(error);
      };
      const ready = () => {
        if (settled) return;
        settled = true;
        resolve(lane);
      };
      // While connecting, an error or a close is the connection's failure (nodemailer may report a refused
      // connection only as an 'error' event). Afterwards, errors of a connection nobody is using (the server closed
      // an idle one) only retire it; a message's own errors reach its send callback.
      connection.on('error', (error: Error) => (settled ? drop(lane) : fail(error)));
      connection.once('end', () => (settled ? drop(lane) : fail(Object.assign(new Error('Connection closed unexpectedly'), { code: 'ECONNECTION' }))));
      connection.connect((error) => {
        if (error) return fail(error);
        if (!options.auth || !connection.allowsAuth) return ready();
        // The connection options require TLS whenever there are credentials; this makes sure of it, whatever they say.
        if (!connection.secure && options.allowPlaintextAuth !== true) {
          return fail(Object.assign(new Error('refusing to send the password over a connection without TLS'), { code: PLAINTEXT_REFUSED, command: 'AUTH' }));
        }
        const { user, pass } = options.auth;
        connection.login({ type: 'LOGIN', user, credentials: { user, pass }, method: false }, (loginError) => (loginError ? fail(loginError) : ready()));
      });
    });
  };

  const acquire = (): Promise<Lane> => {
    if (closing) return Promise.reject(poolClosed());
    for (let lane = idle.pop(); lane; lane = idle.pop()) {
      if (lane.idleTimer) clearTimeout(lane.idleTimer);
      lane.idleTimer = null;
      if (!lane.closed) return Promise.resolve(lane);
    }
    if (open < options.size) return connect();
    return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
  };

  const release = (lane: Lane): void => {
    if (lane.closed) return;
    if (closing || lane.messages >= options.maxMessages) {
      lane.connection.quit();
      drop(lane);
      return;
    }
    const next = waiting.shift();
    if (next) return next.resolve(lane);
    idle.push(lane);
    lane.idleTimer = setTimeout(() => {
      lane.connection.quit();
      drop(lane);
    }, options.idleMs);
    lane.idleTimer.unref();
  };

  const retire = (lane: Lane): void => {
    lane.connection.close();
    drop(lane);
  };

  const once = (raw: Buffer, envelope: { from: string; to: string[] }, mayRetry: boolean): Promise<SMTPConnectionSendInfo> =>
    acquire().then(
      (lane) =>
        new Promise<SMTPConnectionSendInfo>((resolve, reject) => {
          const reused = lane.messages > 0;
          const content = options.sign ? streamContent(options.sign(raw)) : bufferContent(raw);
          lane.connection.send(envelope, content.body, (error, info) => {
            lane.messages += 1;
            if (!error) {
              release(lane);
              return resolve(info);
            }
            const e = error as NodemailerError;
            if (reused && mayRetry && !content.started() && nodemailerErrors.isTransientError(e)) {
              // The server closed the connection while it was idle; not a byte of this message went out.
              retire(lane);
              return resolve(once(raw, envelope, false));
            }
            if ((e.code === 'EENVELOPE' || e.code === 'EMESSAGE') && e.responseCode !== 421 && !lane.closed) {
              // The server refused this message, not the connection: start a new session on it.
              lane.connection.reset((resetError) => (resetError ? retire(lane) : release(lane)));
            } else {
              retire(lane);
            }
            reject(error);
          });
        }),
    );

  return {
    send: (raw, envelope) => once(raw, envelope, true),
    async verify() {
      const lane = await acquire();
      release(lane);
    },
    close() {
      closing = true;
      for (const w of waiting.splice(0)) w.reject(poolClosed());
      for (const lane of [...idle]) {
        lane.connection.quit();
        drop(lane);
      }
    },
  };
}
