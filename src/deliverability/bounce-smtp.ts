/**
 * An inbound SMTP listener for the bounce domain's MX: accepts mail only for BOUNCE_DOMAIN, hands each message to the
 * bounce service with its envelope recipients (the signed VERP addresses), and answers 250 whatever the message was
 * (an unproven or non-bounce message is dropped, not refused: refusing would only bounce it back to a daemon).
 */
import { SMTPServer } from 'smtp-server';
import type { BounceServiceDeps } from './bounce-service.ts';
import { processInboundMessage } from './bounce-service.ts';

export interface BounceSmtpListener {
  readonly port: number;
  close(): Promise<void>;
}

const MAX_BYTES = 2 * 1024 * 1024;

export async function startBounceSmtpListener(deps: BounceServiceDeps, options: { host: string; port: number; bounceDomain: string | null }): Promise<BounceSmtpListener> {
  const domain = options.bounceDomain?.toLowerCase() ?? null;
  const server = new SMTPServer({
    logger: false,
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    size: MAX_BYTES,
    banner: 'Mailroom bounce receiver',
    onRcptTo(address, _session, callback) {
      const rcpt = address.address.toLowerCase();
      if (domain && !rcpt.endsWith(`@${domain}`)) return callback(Object.assign(new Error(`5.7.1 <${rcpt}>: relay access denied (this host receives mail for ${domain} only)`), { responseCode: 550 }));
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= MAX_BYTES) chunks.push(chunk);
      });
      stream.on('end', () => {
        if ((stream as unknown as { sizeExceeded?: boolean }).sizeExceeded) return callback(Object.assign(new Error('5.3.4 message too big'), { responseCode: 552 }));
        const recipients = session.envelope.rcptTo.map((r) => r.address);
        processInboundMessage(deps, Buffer.concat(chunks), 'smtp', recipients).then(
          (result) => {
            if (result.outcome !== 'applied') deps.log?.(`bounce smtp: message from <${session.envelope.mailFrom ? session.envelope.mailFrom.address : ''}> dropped: ${result.outcome === 'ignored' ? result.why : result.why}`);
            callback();
          },
          (error: unknown) => callback(Object.assign(new Error(`4.3.0 could not be processed: ${(error as Error).message}`), { responseCode: 451 })),
        );
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return { port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
