/**
 * Reads the bounce mailbox over IMAP (imapflow): every message that arrived since the last poll is read (without
 * marking it read), and the bounces and complaints among them are applied and then flagged \Seen. Other messages are
 * left exactly as they were. The position (UIDVALIDITY and the last UID read) is kept in the database, so a message is
 * read once, and a report read twice (another poller, a restart mid-poll) still counts once (the event's dedupe key).
 */
import { ImapFlow } from 'imapflow';
import { MailroomError, quote } from '../core/errors.ts';
import type { BounceServiceDeps } from './bounce-service.ts';
import { processInboundMessage } from './bounce-service.ts';

export interface PollSummary {
  readonly mailbox: string;
  readonly read: number;
  readonly applied: number;
  readonly ignored: number;
  readonly unmatched: number;
}

export interface ImapOptions {
  /** Certificates to trust for imaps (tests); by default the system's. */
  readonly tls?: { readonly rejectUnauthorized?: boolean; readonly ca?: string };
  /** At most this many messages per poll (the rest wait for the next). */
  readonly batch?: number;
}

export function redactImapUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//…@');
}

export async function pollBounceMailbox(deps: BounceServiceDeps, imapUrl: string, options: ImapOptions = {}): Promise<PollSummary> {
  const u = new URL(imapUrl);
  const secure = u.protocol === 'imaps:';
  const mailbox = decodeURIComponent(u.pathname.replace(/^\/+/, '')) || 'INBOX';
  const client = new ImapFlow({
    host: u.hostname,
    port: u.port ? Number(u.port) : secure ? 993 : 143,
    secure,
    auth: { user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) },
    logger: false,
    ...(options.tls ? { tls: { ...options.tls } } : {}),
  });
  try {
    await client.connect();
  } catch (error) {
    throw new MailroomError('CONFIG', `BOUNCE_IMAP_URL ${quote(redactImapUrl(imapUrl))}: cannot log in: ${(error as Error).message}`, [], { cause: error });
  }
  const key = `${u.hostname}:${u.port}/${decodeURIComponent(u.username)}/${mailbox}`;
  let read = 0;
  let applied = 0;
  let ignored = 0;
  let unmatched = 0;
  try {
    const lock = await client.getMailboxLock(mailbox);
    try {
      const opened = client.mailbox;
      const uidValidity = opened ? String(opened.uidValidity) : '0';
      const state = await deps.store.mailboxState(key);
      let lastUid = state && state.uidValidity === uidValidity ? state.lastUid : 0;
      const exists = opened ? opened.exists : 0;
      if (exists > 0) {
        // Collect first: no other IMAP command may run while a FETCH is being read.
        const batch: { uid: number; source: Buffer }[] = [];
        for await (const message of client.fetch(`${lastUid + 1}:*`, { uid: true, source: true }, { uid: true })) {
          if (message.uid > lastUid && message.source && batch.length < (options.batch ?? 500)) batch.push({ uid: message.uid, source: message.source });
        }
        batch.sort((a, b) => a.uid - b.uid);
        for (const message of batch) {
          read += 1;
          const result = await processInboundMessage(deps, message.source, 'imap');
          if (result.outcome === 'applied') {
            applied += 1;
            await client.messageFlagsAdd(String(message.uid), ['\\Seen'], { uid: true });
          } else if (result.outcome === 'ignored') ignored += 1;
          else {
            unmatched += 1;
            deps.log?.(`imap: message uid ${message.uid} left alone: ${result.why}`);
          }
          lastUid = message.uid;
          await deps.store.saveMailboxState(key, uidValidity, lastUid);
        }
      } else if (!state || state.uidValidity !== uidValidity) {
        await deps.store.saveMailboxState(key, uidValidity, 0);
      }
    } finally {
      lock.release();
    }
  } finally {
    await client.logout().catch(() => client.close());
  }
  return { mailbox, read, applied, ignored, unmatched };
}
