/** A fast SMTP sink for load and crash tests: real smtp-server on 127.0.0.1, counts accepted messages per recipient without parsing them. */
import { SMTPServer } from 'smtp-server';

export interface CountingSink {
  readonly port: number;
  readonly url: string;
  /** Accepted messages per envelope recipient. */
  readonly counts: Map<string, number>;
  /** Arrival time (ms) of every accepted message. */
  readonly arrivals: number[];
  total(): number;
  close(): Promise<void>;
}

/** `delayMs`: how long the sink takes to answer each message's DATA (a slow relay). */
export async function startCountingSink(port = 0, options: { delayMs?: number } = {}): Promise<CountingSink> {
  const counts = new Map<string, number>();
  const arrivals: number[] = [];
  const server = new SMTPServer({
    logger: false,
    disabledCommands: ['STARTTLS', 'AUTH'],
    authOptional: true,
    onData(stream, session, callback) {
      stream.on('data', () => undefined);
      stream.on('end', () => {
        const accept = () => {
          for (const r of session.envelope.rcptTo) counts.set(r.address, (counts.get(r.address) ?? 0) + 1);
          arrivals.push(Date.now());
          callback();
        };
        if (options.delayMs) setTimeout(accept, options.delayMs);
        else accept();
      });
    },
  });
  // Clients that are killed mid-session reset their connections: expected here, not a test failure.
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  const address = server.server.address();
  const actual = typeof address === 'object' && address ? address.port : 0;
  return {
    port: actual,
    url: `smtp://127.0.0.1:${actual}`,
    counts,
    arrivals,
    total: () => arrivals.length,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
