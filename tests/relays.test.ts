/** SMTP_URL with several relays: parsing and its errors, weighted picking, failover, cooldowns and rate limits, over fake transports. */
import { describe, expect, test } from 'vitest';
import { MailroomError } from '../src/core/errors.ts';
import { TransportError, type MessageTransport, type OutgoingMessage } from '../src/sending/ports.ts';
import { createMemoryQuotaStore } from '../src/smtp/relay-quota.ts';
import { redact } from '../src/smtp/smtp-url.ts';
import { createRelayTransport, parseRelays, type RelaySpec, type RelayTransportOptions } from '../src/smtp/relays.ts';
import type { SmtpTransportOptions } from '../src/smtp/smtp-transport.ts';
import { virtualTime } from './helpers/virtual-time.ts';

const message = (i: number): OutgoingMessage => ({
  envelopeTo: `reader${i}@example.com`,
  options: { from: 'news@example.com', to: `reader${i}@example.com`, subject: `Issue ${i}`, text: 'Hello' },
});

function parseError(setting: string): MailroomError {
  try {
    parseRelays(setting);
  } catch (error) {
    if (error instanceof MailroomError) return error;
    throw error;
  }
  throw new Error(`no error for ${setting}`);
}

describe('parseRelays', () => {
  test('one URL is passed to nodemailer exactly as written, with the defaults', () => {
    const setting = 'smtp://user:pa%40ss@mail.example.com:587?secure=false&tls.rejectUnauthorized=false';
    expect(parseRelays(setting)).toEqual([
      { name: 'mail.example.com:587', url: setting, weight: 1, ratePerSecond: null, hourly: null, daily: null, pool: null, tls: { credentials: true, plaintextAuth: false, caFile: null, ca: null } },
    ]);
    expect(parseRelays('smtps://u:p@smtp.example.net')[0]?.name).toBe('smtp.example.net:465');
    expect(parseRelays('smtp://localhost')[0]?.name).toBe('localhost:587');
  });

  test('several URLs, separated by commas, spaces or new lines, each with its own options; other query parameters stay for nodemailer', () => {
    const setting = [
      'smtp://u1:p1@primary.example.com:587?secure=false&weight=3&rate=14&hourly=50000&daily=1000000&pool=10&name=primary&tls.servername=mx.example.com,',
      '  smtps://u2:p2@backup.example.net:465?name=backup&rate=0',
      '\n smtp://third.example.org:2525?weight=1&rate=2.5',
    ].join('');
    const relays = parseRelays(setting);
    expect(relays).toEqual<RelaySpec[]>([
      {
        name: 'primary',
        url: 'smtp://u1:p1@primary.example.com:587?secure=false&tls.servername=mx.example.com',
        weight: 3,
        ratePerSecond: 14,
        hourly: 50000,
        daily: 1000000,
        pool: 10,
        tls: { credentials: true, plaintextAuth: false, caFile: null, ca: null },
      },
      { name: 'backup', url: 'smtps://u2:p2@backup.example.net:465', weight: 1, ratePerSecond: 0, hourly: null, daily: null, pool: null, tls: { credentials: true, plaintextAuth: false, caFile: null, ca: null } },
      { name: 'third.example.org:2525', url: 'smtp://third.example.org:2525', weight: 1, ratePerSecond: 2.5, hourly: null, daily: null, pool: null, tls: { credentials: false, plaintextAuth: false, caFile: null, ca: null } },
    ]);
    expect(parseRelays('smtp://a.example:25 smtp://b.example:25').map((r) => r.name)).toEqual(['a.example:25', 'b.example:25']);
    // nodemailer's own pool=true, as its documentation writes it, still works: the default pool size.
    expect(parseRelays('smtp://a.example:25?pool=true')[0]).toMatchObject({ url: 'smtp://a.example:25', pool: null });
  });

  test('a comma inside a password does not split the URL; two relays on one host get distinct names', () => {
    expect(parseRelays('smtp://u:a,b@h.example:25, smtp://u:c@h.example:25,smtp://h.example:25?name=h.example:25').map((r) => [r.name, r.url])).toEqual([
      ['h.example:25#2', 'smtp://u:a,b@h.example:25'],
      ['h.example:25#3', 'smtp://u:c@h.example:25'],
      ['h.example:25', 'smtp://h.example:25'],
    ]);
  });

  test.each([
    ['every relay, separated by comma and newline', 'smtp://u:p1@a.example:25?weight=3, smtps://u:p2@b.example:465\nsmtp://c.example', 'smtp://u:***@a.example:25?weight=3, smtps://u:***@b.example:465\nsmtp://c.example'],
    ['a password holding @ is hidden whole', 'smtp://u:p@ss@h.example:25', 'smtp://u:***@h.example:25'],
    ['relays joined by a bare comma keep the next host readable', 'smtp://u:p1@a.example:25,smtps://u:p2@b.example:465', 'smtp://u:***@a.example:25,smtps://u:***@b.example:465'],
    ['a comma inside a password is hidden with it', 'smtp://u:a,b@h.example:25, smtp://v:c@i.example', 'smtp://u:***@h.example:25, smtp://v:***@i.example'],
    ['no credentials: unchanged', 'smtp://h.example:25?name=x', 'smtp://h.example:25?name=x'],
  ])('redact, relay by relay: %s', (_why, setting, shown) => {
    expect(redact(setting)).toBe(shown);
    expect(redact(setting)).not.toMatch(/p1|p2|ss@|a,b/);
  });

  test.each([
    ['smtp://u:hunter2@h.example:25?weight=0', /SMTP_URL="smtp:\/\/u:\*\*\*@h\.example:25\?weight=0": weight="0" is not a whole number of 1 or more/],
    ['smtp://a.example, smtp://u:hunter2@b.example?weight=x', /SMTP_URL, relay 2 of 2 \("smtp:\/\/u:\*\*\*@b\.example\?weight=x"\): weight="x"/],
    ['smtp://h.example?rate=-1', /rate="-1" is not a number of messages per second/],
    ['smtp://h.example?rate=', /rate="" is not/],
    ['smtp://h.example?hourly=1.5', /hourly="1.5" is not a whole number/],
    ['smtp://h.example?daily=0', /daily="0"/],
    ['smtp://h.example?pool=101', /pool="101" is not a number of connections from 1 to 100/],
    ['smtp://h.example?weight=2&weight=3', /weight is given twice/],
    ['smtp://h.example?name=has%20space', /name="has space" must be/],
    ['smtp://a.example?name=x, smtp://b.example?name=x', /two relays are named "x"/],
    ['http://u:hunter2@h.example', /SMTP_URL="http:\/\/u:\*\*\*@h\.example": scheme "http:" is not smtp: or smtps:/],
    ['smtp://a.example, mail.example:25', /SMTP_URL="smtp:\/\/a\.example, mail\.example:25": is not a URL/],
    [' , ', /SMTP_URL is empty/],
  ])('%s is refused with a CONFIG error that names the part and hides the password', (setting, pattern) => {
    const error = parseError(setting);
    expect(error.code).toBe('CONFIG');
    expect(error.message).toMatch(pattern);
    expect(error.message).not.toContain('hunter2');
  });
});

/** Fake relays by URL: each can be down, refuse a recipient, or fail verify. */
function fakeRelays() {
  interface Fake {
    down: boolean;
    verifyFails: boolean;
    reject: Map<string, TransportError>;
    delivered: string[];
    attempts: number;
    closed: boolean;
    options: SmtpTransportOptions | null;
  }
  const fakes = new Map<string, Fake>();
  const get = (url: string): Fake => {
    let fake = fakes.get(url);
    if (!fake) {
      fake = { down: false, verifyFails: false, reject: new Map(), delivered: [], attempts: 0, closed: false, options: null };
      fakes.set(url, fake);
    }
    return fake;
  };
  const makeTransport = (options: SmtpTransportOptions): MessageTransport => {
    const fake = get(options.url);
    fake.options = options;
    const unreachable = (): TransportError => new TransportError('unavailable', `SMTP server ${options.url} cannot be reached: connect ECONNREFUSED`, null, null);
    return {
      maxConnections: options.poolSize,
      async send(m) {
        fake.attempts += 1;
        await Promise.resolve();
        if (fake.down) throw unreachable();
        const refusal = fake.reject.get(m.envelopeTo);
        if (refusal) throw refusal;
        fake.delivered.push(m.envelopeTo);
        return { response: `250 OK queued by ${options.url}`, messageId: `<${fake.delivered.length}@${options.url}>` };
      },
      async verify() {
        if (fake.down || fake.verifyFails) throw unreachable();
      },
      async close() {
        fake.closed = true;
      },
    };
  };
  return { get, makeTransport };
}

function manualClock(start = 1_000_000) {
  let now = start;
  return { clock: () => now, advance: (ms: number) => void (now += ms) };
}

const A = 'smtp://a.example:25';
const B = 'smtp://b.example:25';

function setup(setting: string, extra: Partial<RelayTransportOptions> = {}) {
  const fakes = fakeRelays();
  const time = manualClock();
  const transport = createRelayTransport(parseRelays(setting), {
    poolSize: 5,
    dkim: null,
    defaultRatePerSecond: null,
    makeTransport: fakes.makeTransport,
    clock: time.clock,
    sleep: () => Promise.reject(new Error('nothing here should have to wait')),
    ...extra,
  });
  return { fakes, time, transport };
}

async function sendAll(transport: { send(m: OutgoingMessage): Promise<unknown> }, count: number, lanes = 10): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (next < count) await transport.send(message(next++));
    }),
  );
}

describe('createRelayTransport', () => {
  test('builds one transport per relay with its URL and pool, no nodemailer rate limit (the relay limiter does it), and adds up the pools', () => {
    const { fakes, transport } = setup(`${A}?pool=3&rate=5&secure=false, ${B}`, { timeoutSeconds: 5 });
    expect(fakes.get(`${A}?secure=false`).options).toEqual({ url: `${A}?secure=false`, poolSize: 3, dkim: null, ratePerSecond: null, timeoutSeconds: 5, allowPlaintextAuth: false, ca: null });
    expect(fakes.get(B).options).toEqual({ url: B, poolSize: 5, dkim: null, ratePerSecond: null, timeoutSeconds: 5, allowPlaintextAuth: false, ca: null });
    expect(transport.maxConnections).toBe(8);
  });

  test('weights 3:1 give 75% / 25% over 4,000 concurrent sends, in a fixed interleaved order', async () => {
    const { fakes, transport } = setup(`${A}?weight=3, ${B}?weight=1`);
    await transport.send(message(-1));
    await transport.send(message(-2));
    await transport.send(message(-3));
    await transport.send(message(-4));
    expect([...fakes.get(A).delivered, ...fakes.get(B).delivered]).toEqual(['reader-1@example.com', 'reader-2@example.com', 'reader-4@example.com', 'reader-3@example.com']);
    await sendAll(transport, 4000, 20);
    const a = fakes.get(A).delivered.length - 3;
    const b = fakes.get(B).delivered.length - 1;
    expect(a + b).toBe(4000);
    expect(Math.abs(a / 4000 - 0.75)).toBeLessThanOrEqual(0.02);
    expect(Math.abs(b / 4000 - 0.25)).toBeLessThanOrEqual(0.02);
    expect(transport.status().map((s) => s.sent)).toEqual([3003, 1001]);
  });

  test('a relay that is down is skipped: every message goes out exactly once through the other, and the down one is tried once, not per message', async () => {
    const { fakes, transport } = setup(`${A}, ${B}`);
    fakes.get(B).down = true;
    await sendAll(transport, 500);
    const delivered = fakes.get(A).delivered;
    expect(delivered).toHaveLength(500);
    expect(new Set(delivered).size).toBe(500);
    expect(fakes.get(B).delivered).toHaveLength(0);
    // The lanes that were already on their way to B when it failed, and no more.
    expect(fakes.get(B).attempts).toBeLessThanOrEqual(10);
    const [a, b] = transport.status();
    expect(a).toMatchObject({ name: 'a.example:25', up: true, sent: 500 });
    expect(b).toMatchObject({ name: 'b.example:25', up: false, failures: 1, lastError: expect.stringContaining('cannot be reached') });
  });

  test('a temporary or permanent answer passes through untouched and is not retried elsewhere', async () => {
    const { fakes, transport } = setup(`${A}, ${B}`);
    const full = new TransportError('temporary', '452 4.2.2 Mailbox full', 452, '452 4.2.2 Mailbox full');
    const unknown = new TransportError('permanent', '550 5.1.1 User unknown', 550, '550 5.1.1 User unknown');
    fakes.get(A).reject.set('reader0@example.com', full);
    fakes.get(B).reject.set('reader1@example.com', unknown);
    await expect(transport.send(message(0))).rejects.toBe(full);
    await expect(transport.send(message(1))).rejects.toBe(unknown);
    expect(fakes.get(A).attempts + fakes.get(B).attempts).toBe(2);
    expect(transport.status().every((s) => s.up)).toBe(true);
  });

  test('a connection that dropped mid-message may have delivered it: the relay rests, but the message is not sent again elsewhere', async () => {
    const { fakes, transport } = setup(`${A}, ${B}`);
    const dropped = new TransportError('unavailable', `SMTP server ${A} cannot be reached: Connection closed unexpectedly`, null, null);
    fakes.get(A).reject.set('reader0@example.com', dropped);
    await expect(transport.send(message(0))).rejects.toBe(dropped);
    expect(fakes.get(B).attempts).toBe(0);
    expect(transport.status()[0]).toMatchObject({ up: false, failures: 1 });
    await transport.send(message(1));
    expect(fakes.get(B).delivered).toEqual(['reader1@example.com']);
  });

  test('when every relay is down: unavailable, naming each; further sends fail at once until a cooldown ends', async () => {
    const { fakes, transport } = setup(`${A}?name=primary, ${B}?name=backup`);
    fakes.get(A).down = true;
    fakes.get(B).down = true;
    const error = await transport.send(message(0)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect((error as TransportError).kind).toBe('unavailable');
    expect((error as TransportError).message).toMatch(/^no SMTP relay is available: primary \(smtp:\/\/a\.example:25\): SMTP server .* cannot be reached.*; backup \(smtp:\/\/b\.example:25\): .*cannot be reached/);
    const attempts = fakes.get(A).attempts + fakes.get(B).attempts;
    await expect(transport.send(message(1))).rejects.toMatchObject({ kind: 'unavailable', message: expect.stringContaining('(retrying in 5s); backup') });
    expect(fakes.get(A).attempts + fakes.get(B).attempts).toBe(attempts);
  });

  test('one relay (a plain SMTP_URL) that is down gives exactly the error it gave before relays existed', async () => {
    const { fakes, transport } = setup(A);
    fakes.get(A).down = true;
    const first = await transport.send(message(0)).catch((e: unknown) => e);
    expect(first).toMatchObject({ kind: 'unavailable', message: `SMTP server ${A} cannot be reached: connect ECONNREFUSED` });
    await expect(transport.send(message(1))).rejects.toMatchObject({ kind: 'unavailable', message: `SMTP server ${A} cannot be reached: connect ECONNREFUSED` });
    await expect(transport.verify()).rejects.toMatchObject({ kind: 'unavailable', message: `SMTP server ${A} cannot be reached: connect ECONNREFUSED` });
  });

  test('a relay comes back after its cooldown; cooldowns double while it stays down, up to the cap', async () => {
    const { fakes, time, transport } = setup(`${A}, ${B}`, { cooldown: { baseMs: 1000, maxMs: 4000 } });
    fakes.get(B).down = true;
    await sendAll(transport, 4, 1);
    expect(transport.status()[1]).toMatchObject({ up: false, failures: 1, downUntil: time.clock() + 1000 });

    const cooldowns: number[] = [];
    for (let i = 0; i < 4; i++) {
      const until = transport.status()[1]?.downUntil ?? 0;
      time.advance(until - time.clock() - 1);
      const attempts = fakes.get(B).attempts;
      await sendAll(transport, 2, 1);
      expect(fakes.get(B).attempts).toBe(attempts);
      time.advance(1);
      const start = time.clock();
      await sendAll(transport, 2, 1);
      cooldowns.push((transport.status()[1]?.downUntil ?? 0) - start);
    }
    expect(cooldowns).toEqual([2000, 4000, 4000, 4000]);

    fakes.get(B).down = false;
    time.advance(4000);
    const before = fakes.get(B).delivered.length;
    await sendAll(transport, 100, 1);
    expect(fakes.get(B).delivered.length - before).toBe(50);
    expect(transport.status()[1]).toMatchObject({ up: true, failures: 0, downUntil: null });
  });

  test('verify succeeds when one relay answers and marks the others down; fails, naming them, when none does', async () => {
    const { fakes, transport } = setup(`${A}, ${B}`);
    fakes.get(A).verifyFails = true;
    await transport.verify();
    expect(transport.status().map((s) => s.up)).toEqual([false, true]);
    await sendAll(transport, 10);
    expect(fakes.get(B).delivered).toHaveLength(10);
    expect(fakes.get(A).attempts).toBe(0);

    fakes.get(B).verifyFails = true;
    await expect(transport.verify()).rejects.toMatchObject({ kind: 'unavailable', message: expect.stringMatching(/a\.example:25.*b\.example:25/) });
  });

  test('a relay whose hourly cap is used up is passed over while another has room, so nobody waits an hour', async () => {
    const { fakes, time, transport } = setup(`${A}?hourly=2, ${B}`);
    await sendAll(transport, 10, 1);
    expect(fakes.get(A).delivered).toHaveLength(2);
    expect(fakes.get(B).delivered).toHaveLength(8);
    // Free again an hour after the second message (on this transport's clock).
    expect(transport.status()[0]?.cappedUntil).toBe(time.clock() + 3_600_000);
  });

  test('each relay sends no faster than its own rate', async () => {
    const time = virtualTime();
    const { fakes, transport } = setup(`${A}?rate=20, ${B}?rate=5`, { clock: time.clock, sleep: time.sleep });
    const sentAt = new Map<string, number>();
    let next = 0;
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        while (next < 100) {
          const m = message(next++);
          await transport.send(m);
          sentAt.set(m.envelopeTo, time.clock());
        }
      }),
    );
    for (const [url, rate] of [[A, 20], [B, 5]] as const) {
      const times = fakes.get(url).delivered.map((to) => sentAt.get(to) ?? 0).sort((x, y) => x - y);
      const gaps = times.slice(1).map((t, i) => t - (times[i] ?? 0));
      expect(Math.min(...gaps)).toBeGreaterThanOrEqual(1000 / rate);
    }
  });

  test('closing the transport ends the sends still waiting for a rate-limit slot, as unavailable (nothing was sent)', async () => {
    const time = virtualTime();
    const { fakes, transport } = setup(`${A}?hourly=1`, { clock: time.clock, sleep: () => new Promise<void>(() => undefined) });
    await transport.send(message(0));
    const waiting = transport.send(message(1));
    await new Promise((resolve) => setImmediate(resolve));
    await transport.close();
    await expect(waiting).rejects.toMatchObject({ kind: 'unavailable', message: expect.stringContaining('closed before the message was sent') });
    expect(fakes.get(A).delivered).toEqual(['reader0@example.com']);
    expect(fakes.get(A).closed).toBe(true);
  });

  test('a quota store shared between transports (the app database) keeps an hourly cap across campaigns', async () => {
    const quotas = createMemoryQuotaStore();
    const first = setup(`${A}?hourly=2`, { quotas });
    await sendAll(first.transport, 2, 1);
    await first.transport.close();
    const second = setup(`${A}?hourly=2`, { quotas, sleep: () => new Promise<void>(() => undefined) });
    const waiting = second.transport.send(message(2));
    await new Promise((resolve) => setImmediate(resolve));
    expect(second.transport.status()[0]?.cappedUntil).toBe(second.time.clock() + 3_600_000);
    await second.transport.close();
    await expect(waiting).rejects.toMatchObject({ kind: 'unavailable' });
    expect(second.fakes.get(A).delivered).toEqual([]);
  });

  test('a cap that frees while a message waits: the message goes out then, not before', async () => {
    const time = virtualTime();
    const { fakes, transport } = setup(`${A}?hourly=2`, { clock: time.clock, sleep: time.sleep });
    await sendAll(transport, 3, 1);
    const delivered = fakes.get(A).delivered;
    expect(delivered).toHaveLength(3);
    // The third went out an hour after the first, at the earliest.
    expect(time.clock()).toBeGreaterThanOrEqual(3_600_000);
  });

  test('a message the relay never got gives its unit back; one it answered keeps it', async () => {
    const quotas = createMemoryQuotaStore();
    const { fakes, transport } = setup(`${A}?hourly=2&name=a, ${B}?name=b`, { quotas });
    fakes.get(A).down = true;
    await transport.send(message(0));
    expect(fakes.get(B).delivered).toEqual(['reader0@example.com']);
    expect(await quotas.usage('a', [{ window: 'hourly', limit: 2 }], 1_000_000)).toEqual([{ window: 'hourly', limit: 2, used: 0 }]);
    const refused = new TransportError('permanent', '550 5.1.1 User unknown', 550, '550 5.1.1 User unknown');
    const only = setup(`${A}?hourly=2&name=a`, { quotas });
    only.fakes.get(A).reject.set('reader1@example.com', refused);
    await expect(only.transport.send(message(1))).rejects.toBe(refused);
    expect(await quotas.usage('a', [{ window: 'hourly', limit: 2 }], 1_000_000)).toEqual([{ window: 'hourly', limit: 2, used: 1 }]);
  });
});

