/**
 * Measures how close the SMTP rate limit comes to its target over real SMTP: `npx tsx scripts/measure-rate-limit.ts
 * [--rate 50] [--messages 300] [--pool 5]`. Starts an smtp-server sink on loopback, sends through the same relay
 * transport `mailroom send` uses, and reports the rate seen at the receiver and the busiest one-second window.
 */
import { parseArgs } from 'node:util';
import { SMTPServer } from 'smtp-server';
import { createRelayTransport, parseRelays } from '../src/smtp/relays.ts';

const { values } = parseArgs({ options: { rate: { type: 'string', default: '50' }, messages: { type: 'string', default: '300' }, pool: { type: 'string', default: '5' } } });
const rate = Number(values.rate);
const count = Number(values.messages);
const arrivals: number[] = [];
const server = new SMTPServer({
  logger: false,
  disabledCommands: ['STARTTLS', 'AUTH'],
  authOptional: true,
  onData(stream, _session, callback) {
    stream.on('data', () => undefined);
    stream.on('end', () => {
      arrivals.push(performance.timeOrigin + performance.now());
      callback();
    });
  },
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
const address = server.server.address();
const port = typeof address === 'object' && address ? address.port : 0;
const transport = createRelayTransport(parseRelays(`smtp://127.0.0.1:${port}?rate=${rate}`), { poolSize: Number(values.pool), dkim: null, defaultRatePerSecond: null, timeoutSeconds: 5 });
await transport.verify();
let next = 0;
await Promise.all(
  Array.from({ length: Number(values.pool) * 2 }, async () => {
    while (next < count) {
      const i = next++;
      await transport.send({ envelopeTo: `r${i}@example.com`, options: { from: 'm@example.com', to: `r${i}@example.com`, subject: `m${i}`, text: 'x'.repeat(2000) } });
    }
  }),
);
await transport.close();
server.close();
arrivals.sort((a, b) => a - b);
const measured = ((arrivals.length - 1) * 1000) / ((arrivals.at(-1) ?? 0) - (arrivals[0] ?? 0));
let busiest = 0;
for (let i = 0, j = 0; i < arrivals.length; i += 1) {
  while ((arrivals[i] ?? 0) - (arrivals[j] ?? 0) >= 1000) j += 1;
  busiest = Math.max(busiest, i - j + 1);
}
console.log(`limit ${rate}/s, ${arrivals.length} messages: measured ${measured.toFixed(2)}/s at the receiver (${(((measured - rate) / rate) * 100).toFixed(1)}%), busiest sliding second ${busiest}`);
