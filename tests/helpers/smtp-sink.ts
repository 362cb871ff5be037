/** A real SMTP server for tests: smtp-server on 127.0.0.1 with a random port, every message parsed back with mailparser (or only counted, with `countOnly`). */
import type { Socket } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';

export interface SinkMessage {
  readonly envelopeFrom: string;
  readonly envelopeTo: readonly string[];
  readonly raw: string;
  readonly parsed: ParsedMail;
}

/** One accepted message as the sink saw it: when its DATA ended (ms, sub-millisecond, on the wall clock) and for whom. */
export interface SinkArrival {
  readonly at: number;
  readonly envelopeTo: readonly string[];
}

/** How the sink answers RCPT TO for one address: undefined accepts; a string like "550 5.1.1 No such user" rejects. */
export type RecipientRule = (address: string, attempt: number) => string | undefined;

export interface SmtpSink {
  readonly port: number;
  readonly url: string;
  /** Parsed messages (empty with `countOnly`). */
  readonly messages: SinkMessage[];
  /** Every accepted message, in the order the sink accepted them, in both modes. */
  readonly arrivals: SinkArrival[];
  /** Messages per envelope recipient (from `messages`, or from `arrivals` with `countOnly`). */
  countFor(address: string): number;
  setRule(rule: RecipientRule | null): void;
  /**
   * The relay goes down: new connections are refused, and every open connection is dropped at its next
   * MAIL FROM. A transaction already past MAIL FROM finishes, so nothing is half-accepted.
   */
  goDown(): Promise<void>;
  close(): Promise<void>;
}

export interface SmtpSinkOptions {
  auth?: { user: string; pass: string };
  port?: number;
  /** Skip mailparser (for volume and timing tests): only `arrivals` are recorded. */
  countOnly?: boolean;
}

/** smtp-server options for a test server without TLS: AUTH over plain text with these credentials, or no AUTH at all. */
export function plainTextAuth(credentials: { user: string; pass: string } | undefined): Pick<SMTPServerOptions, 'disabledCommands' | 'authOptional' | 'allowInsecureAuth' | 'onAuth'> {
  return {
    disabledCommands: credentials ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    authOptional: !credentials,
    allowInsecureAuth: true,
    onAuth(auth, _session, callback) {
      if (credentials && auth.username === credentials.user && auth.password === credentials.pass) callback(null, { user: auth.username });
      else callback(Object.assign(new Error('535 5.7.8 Authentication credentials invalid'), { responseCode: 535 }));
    },
  };
}

export async function startSmtpSink(options: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const messages: SinkMessage[] = [];
  const arrivals: SinkArrival[] = [];
  const sockets = new Map<string, Socket>();
  let down = false;
  const attempts = new Map<string, number>();
  let rule: RecipientRule | null = null;
  const serverOptions: SMTPServerOptions = {
    logger: false,
    ...plainTextAuth(options.auth),
    onMailFrom(_address, session, callback) {
      if (!down) return callback();
      sockets.get(`${session.remotePort}`)?.destroy();
    },
    onRcptTo(address, _session, callback) {
      const n = (attempts.get(address.address) ?? 0) + 1;
      attempts.set(address.address, n);
      const answer = rule?.(address.address, n);
      if (!answer) return callback();
      const code = Number(answer.slice(0, 3));
      callback(Object.assign(new Error(answer.slice(4)), { responseCode: code }));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const envelopeTo = session.envelope.rcptTo.map((r) => r.address);
        if (options.countOnly) {
          arrivals.push({ at: performance.timeOrigin + performance.now(), envelopeTo });
          return callback();
        }
        const raw = Buffer.concat(chunks).toString('utf8');
        simpleParser(raw)
          .then((parsed) => {
            arrivals.push({ at: performance.timeOrigin + performance.now(), envelopeTo });
            messages.push({
              envelopeFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
              envelopeTo: session.envelope.rcptTo.map((r) => r.address),
              raw,
              parsed,
            });
            callback();
          })
          .catch((error: Error) => callback(error));
      });
    },
  };
  const server = new SMTPServer(serverOptions);
  server.server.on('connection', (socket: Socket) => {
    const key = `${socket.remotePort}`;
    sockets.set(key, socket);
    socket.once('close', () => sockets.delete(key));
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', () => resolve()));
  let closed: Promise<void> | null = null;
  const close = (): Promise<void> => (closed ??= new Promise<void>((resolve) => server.close(() => resolve())));
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    // A sink without TLS on this machine: credentials may go in plain text only because it says so (insecure_auth=local).
    url: options.auth ? `smtp://${options.auth.user}:${options.auth.pass}@127.0.0.1:${port}?insecure_auth=local` : `smtp://127.0.0.1:${port}`,
    messages,
    arrivals,
    countFor: (a) => (options.countOnly ? arrivals : messages).filter((m) => m.envelopeTo.includes(a)).length,
    setRule: (r) => {
      rule = r;
    },
    goDown: async () => {
      down = true;
      // Stop listening now; close() later waits for the connections still open.
      void close();
    },
    close,
  };
}
