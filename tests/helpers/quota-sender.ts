/**
 * A second Mailroom process for the relay quota tests: opens the app on DATABASE_URL and SMTP_URL (the real composition
 * root), prints "ready" and waits for a line on stdin (so several processes start together), then sends COUNT messages
 * over LANES concurrent sends for STOP_AFTER_MS, when sends still waiting for a cap are stopped. Prints
 * {"sent":n,"stopped":m}.
 * Run with: node --import <tsx loader> tests/helpers/quota-sender.ts (see tests/relay-quota.test.ts)
 */
import { createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { TransportError } from '../../src/sending/ports.ts';
import type { RelayTransport } from '../../src/smtp/relays.ts';

const env = process.env;
const count = Number(env.COUNT ?? 0);
const lanes = Number(env.LANES ?? 4);
const stopAfterMs = Number(env.STOP_AFTER_MS ?? 5000);
const tag = env.TAG ?? String(process.pid);

const app = await createApp(loadConfig(env, process.cwd()));
const transport = app.openTransport() as RelayTransport;
process.stdout.write('ready\n');
await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
process.stdin.pause();
const stop = AbortSignal.timeout(stopAfterMs);

let next = 0;
let sent = 0;
let stopped = 0;
await Promise.all(
  Array.from({ length: lanes }, async () => {
    while (next < count) {
      const i = next++;
      const to = `${tag}-${i}@quota.example`;
      try {
        await transport.send({ envelopeTo: to, options: { envelope: { from: 'news@example.com', to: [to] }, raw: Buffer.from(`From: news@example.com\r\nTo: ${to}\r\nSubject: ${i}\r\n\r\nHello\r\n`), messageId: `<${tag}.${i}@example.com>` } }, stop);
        sent += 1;
      } catch (error) {
        if (!(error instanceof TransportError) || error.kind !== 'unavailable') throw error;
        stopped += 1;
      }
    }
  }),
);
await transport.close();
await app.close();
process.stdout.write(`${JSON.stringify({ sent, stopped })}\n`);
