/** A fast SMTP sink for load and crash tests: real smtp-server on 127.0.0.1, counts accepted messages per recipient without parsing them. */
import { SMTPServer } from 'smtp-server';

export interface CountingSink {
  readonly port: number;
  readonly url: string;
  /** Accepted messages per envelope recipient (those `indexOf` does not place: see countOf). */
  readonly counts: Map<string, number>;
  /** Accepted messages for this recipient, wherever they are counted. */
  countOf(address: string): number;
  /** Arrival time (ms) of every accepted message. */
  readonly arrivals: number[];
  total(): number;
  close(): Promise<void>;
}

/**
 * `delayMs`: how long the sink takes to answer each message's DATA (a slow relay). `indexOf` and `capacity`: for a
 * million recipients whose addresses map to numbers (the benchmarks' fixture), counts kept in a typed array instead
 * of a Map of a million strings, whose garbage collection would slow the sink (and so every sender) as it fills: a
 * remote relay's memory is not on the sender's machine.
 */
export async function startCountingSink(port = 0, options: { delayMs?: number; indexOf?: (address: string) => number | null; capacity?: number } = {}): Promise<CountingSink> {
  const counts = new Map<string, number>();
  const indexed = options.indexOf && options.capacity ? new Uint16Array(options.capacity) : null;
  const place = (address: string): number | null => {
    if (!indexed || !options.indexOf) return null;
    const i = options.indexOf(address);
    return i !== null && Number.isInteger(i) && i >= 0 && i < indexed.length ? i : null;
  };
  const arrivals: number[] = [];
  const server = new SMTPServer({
    logger: false,
    disabledCommands: ['STARTTLS', 'AUTH'],
    authOptional: true,
    onData(stream, session, callback) {
      stream.on('data', () => undefined);
      stream.on('end', () => {
        const accept = () => {
          for (const r of session.envelope.rcptTo) {
            const i = place(r.address);
            if (indexed && i !== null) indexed[i] = (indexed[i] ?? 0) + 1;
            else counts.set(r.address, (counts.get(r.address) ?? 0) + 1);
          }
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
    countOf(address) {
      const i = place(address);
      return indexed && i !== null ? (indexed[i] ?? 0) : (counts.get(address) ?? 0);
    },
    arrivals,
    total: () => arrivals.length,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
