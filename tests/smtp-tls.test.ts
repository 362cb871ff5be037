/**
 * SMTP credentials and TLS, against real smtp-server instances on loopback: a server without STARTTLS never sees the
 * password (nor an AUTH command) on any path that opens SMTP (lanes, nodemailer's pool, verify, a test send through the
 * binary); a STARTTLS or smtps server with a self-signed certificate is refused with a clear error while certificates
 * are checked, and works with ca_file= or an explicit tls.rejectUnauthorized=false; insecure_auth=local is for this
 * machine only.
 */
import { rmSync } from 'node:fs';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { TransportError, type MessageTransport, type OutgoingMessage } from '../src/sending/ports.ts';
import { createRelayTransport, parseRelays } from '../src/smtp/relays.ts';
import { createSmtpTransport } from '../src/smtp/smtp-transport.ts';
import { runBin, runInProcess, type Run } from './helpers/mailroom.ts';
import { makeSelfSignedCert, type SelfSignedCert } from './helpers/tls-cert.ts';
import { makeDataDir, REPO_ROOT } from './helpers/workspace.ts';

vi.setConfig({ testTimeout: 120_000 });

const USER = 'mailroom';
const PASS = 's3cret-pass';
/** The password as it would cross the wire: plain, and in every AUTH encoding (LOGIN, PLAIN). */
const SECRETS = [PASS, Buffer.from(PASS).toString('base64'), Buffer.from(`\0${USER}\0${PASS}`).toString('base64'), Buffer.from(`${USER}\0${USER}\0${PASS}`).toString('base64')];

interface AuthServer {
  readonly port: number;
  /** Every AUTH attempt the server saw, and whether the session was encrypted then. */
  readonly auths: { user: string; secure: boolean }[];
  /** Every byte the client sent, as it crossed the socket (encrypted ones after a TLS handshake). */
  wire(): string;
  readonly accepted: string[];
  close(): Promise<void>;
}

const servers: AuthServer[] = [];
const transports: MessageTransport[] = [];
let cert: SelfSignedCert;
let dir = '';

beforeAll(() => {
  cert = makeSelfSignedCert();
  dir = makeDataDir();
});

afterAll(async () => {
  await Promise.all(transports.splice(0).map((t) => t.close().catch(() => undefined)));
  await Promise.all(servers.splice(0).map((s) => s.close()));
  cert.remove();
  rmSync(dir, { recursive: true, force: true });
});

/** A server that wants USER / PASS: plain text only (no STARTTLS), STARTTLS, or TLS from the first byte. */
async function startAuthServer(mode: 'plain' | 'starttls' | 'implicit'): Promise<AuthServer> {
  const auths: { user: string; secure: boolean }[] = [];
  const accepted: string[] = [];
  const chunks: Buffer[] = [];
  const sockets = new Set<Socket>();
  const server = new SMTPServer({
    logger: false,
    ...(mode === 'plain' ? { disabledCommands: ['STARTTLS'], allowInsecureAuth: true } : { key: cert.key, cert: cert.cert }),
    ...(mode === 'implicit' ? { secure: true } : {}),
    onAuth(auth, session, callback) {
      auths.push({ user: auth.username ?? '', secure: session.secure === true });
      if (auth.username === USER && auth.password === PASS) callback(null, { user: USER });
      else callback(Object.assign(new Error('535 5.7.8 Authentication credentials invalid'), { responseCode: 535 }));
    },
    onData(stream, session, callback) {
      stream.resume();
      stream.on('end', () => {
        accepted.push(...session.envelope.rcptTo.map((r) => r.address));
        callback();
      });
    },
  });
  // A client that gives up on the certificate ends the handshake; the server reports it, and that is expected here.
  server.on('error', () => undefined);
  server.server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('data', (chunk: Buffer) => chunks.push(Buffer.from(chunk)));
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.server.address();
  const s: AuthServer = {
    port: typeof address === 'object' && address ? address.port : 0,
    auths,
    wire: () => Buffer.concat(chunks).toString('latin1'),
    accepted,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  servers.push(s);
  return s;
}

function relay(setting: string, poolSize = 2): MessageTransport {
  const transport = createRelayTransport(parseRelays(setting), { poolSize, dkim: null, defaultRatePerSecond: null, timeoutSeconds: 5 });
  transports.push(transport);
  return transport;
}

/** A campaign message: raw bytes, which go on the SMTP lanes. */
const rawMessage = (to: string): OutgoingMessage => ({
  envelopeTo: to,
  options: { envelope: { from: 'news@example.com', to: [to] }, raw: Buffer.from(`From: news@example.com\r\nTo: ${to}\r\nSubject: Hi\r\n\r\nHello\r\n`), messageId: `<${to}>` },
});
/** A composed message (a test send, a confirmation): nodemailer's sendMail on its pool. */
const composedMessage = (to: string): OutgoingMessage => ({ envelopeTo: to, options: { from: 'news@example.com', to, subject: 'Hi', text: 'Hello' } });

async function failure(promise: Promise<unknown>): Promise<TransportError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TransportError);
  return error as TransportError;
}

function expectNoPassword(server: AuthServer): void {
  expect(server.auths).toEqual([]);
  const wire = server.wire();
  expect(wire).not.toMatch(/^AUTH/im);
  for (const secret of SECRETS) expect(wire).not.toContain(secret);
}

/** Runs `mailroom …args` in the test's folder against `smtpUrl`: in-process, or the real binary with `bin`. */
function mailroom(args: readonly string[], smtpUrl: string, bin = false): Promise<Run> {
  return (bin ? runBin : runInProcess)(dir, args, { NODE_EXTRA_CA_CERTS: undefined, DATA_DIR: join(dir, 'data'), PUBLIC_URL: 'https://news.example.com', SECRET: 'smtp-tls-test-secret-0123456789abcdefghijk', SMTP_URL: smtpUrl });
}

const show = (run: Run): string => `exit ${run.code}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`;

describe('a server without STARTTLS', () => {
  test('never gets the password, on any path: verify, a campaign message (lanes), a composed message (pool), a pool-only transport', async () => {
    const server = await startAuthServer('plain');
    const url = `smtp://${USER}:${PASS}@127.0.0.1:${server.port}`;
    const shown = `SMTP server smtp://${USER}:***@127.0.0.1:${server.port}`;
    const transport = relay(url);

    const verified = await failure(transport.verify());
    expect(verified.kind).toBe('unavailable');
    expect(verified.message).toMatch(new RegExp(`^${shown.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: SMTP_URL carries a password, which Mailroom sends only over TLS, and the server does not offer STARTTLS \\(5\\d\\d [^)]*\\); nothing was sent\\. To fix: use smtps:// \\(port 465\\), turn STARTTLS on at the server, or, for a relay on this machine only, add insecure_auth=local to its URL$`));
    expect(verified.message).not.toContain(PASS);

    // The relay is down after verify; a fresh transport per path, so each path really connects.
    for (const message of [rawMessage('raw@example.com'), composedMessage('composed@example.com')]) {
      const sent = await failure(relay(url).send(message));
      expect(sent.kind).toBe('unavailable');
      expect(sent.message).toContain('the server does not offer STARTTLS');
    }
    // A transport with nodemailer's own rate limit has no lanes: everything goes through nodemailer's pool.
    const poolOnly = createSmtpTransport({ url, poolSize: 1, dkim: null, ratePerSecond: 5, timeoutSeconds: 5 });
    transports.push(poolOnly);
    expect((await failure(poolOnly.verify())).message).toContain('the server does not offer STARTTLS');
    expect((await failure(poolOnly.send(rawMessage('pool@example.com')))).message).toContain('the server does not offer STARTTLS');

    expectNoPassword(server);
    expect(server.accepted).toEqual([]);
  });

  test('options that would send the password in clear text are refused in SMTP_URL, naming the relay without its password', () => {
    for (const option of ['requireTLS=false', 'ignoreTLS=true', 'opportunisticTLS=1']) {
      expect(() => parseRelays(`smtp://${USER}:${PASS}@mail.example.com:587?${option}`)).toThrow(
        new RegExp(`^SMTP_URL="smtp://${USER}:\\*\\*\\*@mail\\.example\\.com:587\\?${option}": ${option} would send the password without TLS`),
      );
    }
    // Without credentials there is no password to protect: nodemailer's options stay the operator's.
    expect(parseRelays('smtp://mail.example.com:25?ignoreTLS=true')[0]?.url).toBe('smtp://mail.example.com:25?ignoreTLS=true');
    expect(() => loadConfig({ SMTP_URL: `smtp://${USER}:${PASS}@mail.example.com:587?insecure_auth=local` }, dir)).toThrow(
      `SMTP_URL="smtp://${USER}:***@mail.example.com:587?insecure_auth=local" (from the environment): insecure_auth=local is only allowed for a relay on this machine (localhost, 127.0.0.1, ::1), not mail.example.com: use smtps:// or STARTTLS`,
    );
    expect(() => parseRelays('smtp://u:p@[::ffff:10.0.0.1]:25?insecure_auth=local')).toThrow(/only allowed for a relay on this machine/);
    expect(() => parseRelays('smtp://u:p@127.0.0.1:25?insecure_auth=yes')).toThrow(/insecure_auth="yes": the only value is "local"/);
    for (const host of ['127.0.0.1', 'localhost', '[::1]', '127.0.0.2']) expect(parseRelays(`smtp://u:p@${host}:25?insecure_auth=local`)[0]?.tls.plaintextAuth, host).toBe(true);
  });

  test('insecure_auth=local, for a relay on this machine, sends the password in plain text as asked', async () => {
    const server = await startAuthServer('plain');
    const transport = relay(`smtp://${USER}:${PASS}@127.0.0.1:${server.port}?insecure_auth=local`);
    await transport.verify();
    await transport.send(rawMessage('raw@example.com'));
    await transport.send(composedMessage('composed@example.com'));
    expect(server.accepted).toEqual(['raw@example.com', 'composed@example.com']);
    expect(server.auths.length).toBeGreaterThan(0);
    expect(server.auths.every((a) => a.user === USER && !a.secure)).toBe(true);
  });

  test('mailroom send --test refuses with the error naming the relay, and the server gets no AUTH', async () => {
    const server = await startAuthServer('plain');
    const url = `smtp://${USER}:${PASS}@127.0.0.1:${server.port}`;
    const demo = await mailroom(['demo'], url);
    expect(demo.code, show(demo)).toBe(0);
    const run = await mailroom(['send', 'weekly', '--test', 'reader@example.com'], url, true);
    expect(run.code, show(run)).not.toBe(0);
    expect(run.stderr).toContain(`SMTP server smtp://${USER}:***@127.0.0.1:${server.port}: SMTP_URL carries a password, which Mailroom sends only over TLS, and the server does not offer STARTTLS`);
    expect(run.stderr).toContain('insecure_auth=local');
    expect(`${run.stdout}${run.stderr}`).not.toContain(PASS);
    expectNoPassword(server);
  });
});

describe('a server with a self-signed certificate', () => {
  test('STARTTLS: refused clearly while certificates are checked; ca_file= trusts it; tls.rejectUnauthorized=false skips the check', async () => {
    const server = await startAuthServer('starttls');
    const base = `smtp://${USER}:${PASS}@127.0.0.1:${server.port}`;
    const checked = await failure(relay(base).verify());
    expect(checked.kind).toBe('unavailable');
    expect(checked.message).toMatch(/: the server's TLS certificate was not accepted \(self[- ]signed certificate\); nothing was sent\. Trust its CA with ca_file=\/path\/to\/ca\.pem in SMTP_URL, or skip the check with tls\.rejectUnauthorized=false/);
    expectNoPassword(server);

    const trusted = relay(`${base}?ca_file=${encodeURIComponent(cert.certFile)}`);
    await trusted.verify();
    await trusted.send(rawMessage('lanes@example.com'));
    await trusted.send(composedMessage('pool@example.com'));
    const unchecked = relay(`${base}?tls.rejectUnauthorized=false`);
    await unchecked.send(rawMessage('unchecked@example.com'));
    expect(server.accepted).toEqual(['lanes@example.com', 'pool@example.com', 'unchecked@example.com']);
    // Every AUTH came after the STARTTLS handshake.
    expect(server.auths.length).toBeGreaterThan(0);
    expect(server.auths.every((a) => a.secure)).toBe(true);
    for (const secret of SECRETS) expect(server.wire()).not.toContain(secret);
  });

  test('smtps:// (TLS from the first byte): the same', async () => {
    const server = await startAuthServer('implicit');
    const base = `smtps://${USER}:${PASS}@127.0.0.1:${server.port}`;
    expect((await failure(relay(base).verify())).message).toMatch(/the server's TLS certificate was not accepted \(self[- ]signed certificate\)/);
    const trusted = relay(`${base}?ca_file=${encodeURIComponent(cert.certFile)}`);
    await trusted.send(rawMessage('implicit@example.com'));
    expect(server.accepted).toEqual(['implicit@example.com']);
    expect(server.auths.every((a) => a.secure)).toBe(true);
  });

  test('ca_file= must be a readable PEM file, and is named when it is not', () => {
    expect(() => parseRelays('smtps://u:p@mail.example.com?ca_file=/nonexistent/ca.pem')).toThrow(/^SMTP_URL="smtps:\/\/u:\*\*\*@mail\.example\.com\?ca_file=\/nonexistent\/ca\.pem": ca_file="\/nonexistent\/ca\.pem" cannot be read: ENOENT/);
    expect(() => parseRelays(`smtps://u:p@mail.example.com?ca_file=${join(REPO_ROOT, 'package.json')}`)).toThrow(/holds no PEM certificate/);
    expect(parseRelays(`smtps://u:p@mail.example.com?ca_file=${cert.certFile}`)[0]?.tls).toMatchObject({ caFile: cert.certFile, ca: cert.cert });
  });

  test('mailroom send --test through STARTTLS: refused without the CA, sent with ca_file=', async () => {
    const server = await startAuthServer('starttls');
    const base = `smtp://${USER}:${PASS}@127.0.0.1:${server.port}`;
    const refused = await mailroom(['send', 'weekly', '--test', 'reader@example.com'], base);
    expect(refused.code, show(refused)).not.toBe(0);
    expect(refused.stderr).toContain("the server's TLS certificate was not accepted");
    expect(refused.stderr).toContain('ca_file=');
    const sent = await mailroom(['send', 'weekly', '--test', 'reader@example.com'], `${base}?ca_file=${cert.certFile}`);
    expect(sent.code, show(sent)).toBe(0);
    expect(sent.stdout).toContain(`sent to reader@example.com via smtp://${USER}:***@127.0.0.1:${server.port}`);
    expect(server.accepted).toEqual(['reader@example.com']);
    expect(server.auths.every((a) => a.secure)).toBe(true);
  });
});
