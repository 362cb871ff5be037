/**
 * A second Mailroom process for the relay quota tests: opens the app on DATABASE_URL and SMTP_URL (the real composition
 * root), waits until START_AT (ms since the epoch) so several processes race, then sends COUNT messages over LANES
 * concurrent sends until STOP_AT, when sends still waiting for a cap are stopped. Prints {"sent":n,"stopped":m}.
 * Run with: node --import <tsx loader> tests/helpers/quota-sender.ts (see tests/relay-quota.test.ts)
 */
import { createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { TransportError } from '../../src/sending/ports.ts';
import type { RelayTransport } from '../../src/smtp/relays.ts';

const env = process.env;
const count = Number(env.COUNT ?? 0);
const lanes = Number(env.LANES ?? 4);
const startAt = Number(env.START_AT ?? Date.now());
const stopAt = Number(env.STOP_AT ?? Date.now() + 5000);
const tag = env.TAG ?? String(process.pid);

const app = await createApp(loadConfig(env, process.cwd()));
const transport = app.openTransport() as RelayTransport;
const stop = AbortSignal.timeout(Math.max(0, stopAt - Date.now()));
await new Promise((resolve) => setTimeout(resolve, Math.max(0, startAt - Date.now())));

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
