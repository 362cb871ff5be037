/** SMTP lanes (src/smtp/smtp-lanes.ts) against a real smtp-server on loopback: reuse, stale connections, refusals, credentials, recycling, idle close. */
import type { Socket } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterEach, describe, expect, test } from 'vitest';
import { createSmtpLanes, PLAINTEXT_REFUSED, type SmtpLanes } from '../src/smtp/smtp-lanes.ts';
import { plainTextAuth } from './helpers/smtp-sink.ts';

interface TestServer {
  readonly port: number;
  /** Envelope recipients of every accepted message, in order. */
  readonly accepted: string[];
  /** Connections opened so far, those closed by the client with QUIT, and AUTH commands received. */
  readonly connections: { opened: number; quits: number; auths: number };
  close(): Promise<void>;
}

interface Behaviour {
  auth?: { user: string; pass: string };
  /** Drops the connection at MAIL FROM when this says so, given how many messages the connection carried already. */
  dropAtMailFrom?: (carried: number) => boolean;
  /** A RCPT TO answer like "550 5.1.1 No such user" for some addresses. */
  rejectRecipient?: (address: string) => string | undefined;
}

const servers: TestServer[] = [];
const lanesOpen: SmtpLanes[] = [];

afterEach(async () => {
  for (const l of lanesOpen.splice(0)) l.close();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function startServer(behaviour: Behaviour = {}): Promise<TestServer> {
  const accepted: string[] = [];
  const connections = { opened: 0, quits: 0, auths: 0 };
  const sockets = new Map<string, Socket>();
  const carried = new Map<string, number>();
  const server = new SMTPServer({
    logger: false,
    ...plainTextAuth(behaviour.auth),
    onConnect(_session, callback) {
      connections.opened += 1;
      callback();
    },
    onMailFrom(_address, session, callback) {
      const key = `${session.remotePort}`;
      if (behaviour.dropAtMailFrom?.(carried.get(key) ?? 0)) {
        sockets.get(key)?.destroy();
        return;
      }
      callback();
    },
    onRcptTo(address, _session, callback) {
      const answer = behaviour.rejectRecipient?.(address.address);
      if (!answer) return callback();
      callback(Object.assign(new Error(answer.slice(4)), { responseCode: Number(answer.slice(0, 3)) }));
    },
    onData(stream, session, callback) {
      stream.resume();
      stream.on('end', () => {
        const key = `${session.remotePort}`;
        carried.set(key, (carried.get(key) ?? 0) + 1);
        accepted.push(...session.envelope.rcptTo.map((r) => r.address));
        callback();
      });
    },
  });
  server.server.on('connection', (socket: Socket) => {
    const key = `${socket.remotePort}`;
    sockets.set(key, socket);
    socket.on('data', (chunk: Buffer) => {
      if (/^QUIT\r\n/m.test(chunk.toString('latin1'))) connections.quits += 1;
      if (/^AUTH /im.test(chunk.toString('latin1'))) connections.auths += 1;
    });
    socket.once('close', () => sockets.delete(key));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const s: TestServer = {
    port,
    accepted,
    connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets.values()) socket.destroy();
        server.close(() => resolve());
      }),
  };
  servers.push(s);
  return s;
}

function lanes(server: TestServer, overrides: Partial<Parameters<typeof createSmtpLanes>[0]> = {}): SmtpLanes {
  const l = createSmtpLanes({
    connection: { host: '127.0.0.1', port: server.port, ignoreTLS: true, connectionTimeout: 5000, greetingTimeout: 5000, socketTimeout: 10_000 },
    auth: null,
    size: 2,
    maxMessages: 1000,
    idleMs: 60_000,
    sign: null,
    ...overrides,
  });
  lanesOpen.push(l);
  return l;
}

const message = (to: string): Buffer => Buffer.from(`From: news@example.com\r\nTo: ${to}\r\nSubject: hello\r\n\r\n.a line that starts with a dot\r\nbye\r\n`, 'latin1');
const send = (l: SmtpLanes, to: string) => l.send(message(to), { from: 'news@example.com', to: [to] });

describe('SMTP lanes', () => {
  test('60 messages, 12 at a time, over 2 connections: every message once, the connections reused', async () => {
    const server = await startServer();
    const l = lanes(server);
    const all = Array.from({ length: 60 }, (_, i) => `reader${i}@example.com`);
    for (let i = 0; i < all.length; i += 12) await Promise.all(all.slice(i, i + 12).map((to) => send(l, to)));
    expect([...server.accepted].sort()).toEqual([...all].sort());
    expect(server.connections.opened).toBe(2);
  });

  test('a reused connection the server dropped before taking the message: sent once more on a new connection, delivered once', async () => {
    // Every connection is dropped at the MAIL FROM after its first message, as a server does with idle ones.
    const server = await startServer({ dropAtMailFrom: (carried) => carried >= 1 });
    const l = lanes(server, { size: 1 });
    for (let i = 0; i < 5; i += 1) await send(l, `reader${i}@example.com`);
    expect(server.accepted).toEqual(['reader0@example.com', 'reader1@example.com', 'reader2@example.com', 'reader3@example.com', 'reader4@example.com']);
    expect(server.connections.opened).toBe(5);
  });

  test('a connection dropped on its first message is not sent again here (the caller decides)', async () => {
    const server = await startServer({ dropAtMailFrom: () => true });
    const l = lanes(server, { size: 1 });
    await expect(send(l, 'reader@example.com')).rejects.toMatchObject({ code: expect.stringMatching(/ECONNECTION|ESOCKET/) });
    expect(server.accepted).toEqual([]);
    expect(server.connections.opened).toBe(1);
  });

  test('a refused recipient fails that message only; the session is reset and the connection kept', async () => {
    const server = await startServer({ rejectRecipient: (a) => (a.startsWith('nobody') ? '550 5.1.1 No such user' : undefined) });
    const l = lanes(server, { size: 1 });
    await send(l, 'first@example.com');
    await expect(send(l, 'nobody@example.com')).rejects.toMatchObject({ code: 'EENVELOPE', responseCode: 550 });
    await send(l, 'after@example.com');
    expect(server.accepted).toEqual(['first@example.com', 'after@example.com']);
    expect(server.connections.opened).toBe(1);
  });

  test('credentials never go over a connection without TLS, unless allowed (a relay on this machine)', async () => {
    const server = await startServer({ auth: { user: 'mailroom', pass: 'right' } });
    await expect(send(lanes(server, { auth: { user: 'mailroom', pass: 'right' } }), 'reader@example.com')).rejects.toMatchObject({ code: PLAINTEXT_REFUSED });
    expect(server.connections.auths).toBe(0);
    expect(server.accepted).toEqual([]);
  });

  test('credentials, allowed in plain text: accepted ones send; refused ones fail with EAUTH, nothing sent', async () => {
    const server = await startServer({ auth: { user: 'mailroom', pass: 'right' } });
    await send(lanes(server, { auth: { user: 'mailroom', pass: 'right' }, allowPlaintextAuth: true }), 'reader@example.com');
    expect(server.accepted).toEqual(['reader@example.com']);
    await expect(send(lanes(server, { auth: { user: 'mailroom', pass: 'wrong' }, allowPlaintextAuth: true }), 'other@example.com')).rejects.toMatchObject({ code: 'EAUTH' });
    expect(server.accepted).toEqual(['reader@example.com']);
  });

  test('a connection is closed with QUIT after maxMessages and after idleMs unused', async () => {
    const server = await startServer();
    const recycled = lanes(server, { size: 1, maxMessages: 2 });
    for (let i = 0; i < 5; i += 1) await send(recycled, `reader${i}@example.com`);
    expect(server.connections.opened).toBe(3);
    expect(server.connections.quits).toBe(2);

    const idle = lanes(server, { size: 1, idleMs: 50 });
    await send(idle, 'late@example.com');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(server.connections.quits).toBe(3);
    // The next message opens a new connection.
    await send(idle, 'later@example.com');
    expect(server.connections.opened).toBe(5);
  });

  test('a server that refuses connections: the error says so, for every message waiting', async () => {
    const server = await startServer();
    const port = server.port;
    await server.close();
    servers.splice(servers.indexOf(server), 1);
    const l = createSmtpLanes({ connection: { host: '127.0.0.1', port, ignoreTLS: true }, auth: null, size: 1, maxMessages: 10, idleMs: 1000, sign: null });
    lanesOpen.push(l);
    const results = await Promise.allSettled([0, 1, 2].map((i) => l.send(message(`r${i}@example.com`), { from: 'news@example.com', to: [`r${i}@example.com`] })));
    for (const r of results) expect(r).toMatchObject({ status: 'rejected', reason: { message: expect.stringContaining('ECONNREFUSED') } });
  });
});
