/** A built-in SMTP server that captures every message into a directory (`<id>.eml` + `index.jsonl`), and a reader for it. */

import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, open, readFile, readdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import type { AddressObject, EmailAddress } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import type { SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import { MailroomError, quote } from '../core/errors.ts';

export interface InboxMessageSummary {
  /** Time-sortable id, also the file name: `<dir>/<id>.eml`. */
  id: string;
  /** ISO 8601 time the message was stored. */
  receivedAt: string;
  /** The From header (`Name <address>` or `address`), or the envelope sender when the header is missing. */
  from: string;
  /** The addresses of the To header, or the envelope recipients when the header has none. */
  to: string[];
  /** The decoded Subject header, '' when missing. */
  subject: string;
  /** Size of the raw message in bytes. */
  size: number;
  /** The SMTP envelope: MAIL FROM ('' for the null sender) and every RCPT TO, Bcc recipients included. */
  envelope: { from: string; to: string[] };
}

export interface InboxMessage extends InboxMessageSummary {
  /** Every header line of the message, in order, folding kept; `key` is the lowercase name. */
  headers: { key: string; line: string }[];
  /** The HTML part(s), `cid:` images inlined as data: URLs; null when the message has no HTML. */
  html: string | null;
  /** The text/plain part(s); null when the message has none (or only an empty one). */
  text: string | null;
  /** The message source as received (decoded as UTF-8). */
  raw: string;
}

export interface InboxReader {
  /** Every stored message, newest first. */
  list(): Promise<InboxMessageSummary[]>;
  /** One message, or null for an unknown or malformed id. */
  get(id: string): Promise<InboxMessage | null>;
  /** Delete every stored message. */
  clear(): Promise<void>;
}

export interface LocalInbox extends InboxReader {
  readonly host: string;
  readonly port: number;
  readonly dir: string;
  /** Stop accepting connections, wait for messages being stored, then resolve. */
  close(): Promise<void>;
}

export interface LocalInboxOptions {
  readonly dir: string;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** Larger messages are refused with 552. Default 25 MB. */
  readonly maxMessageBytes?: number;
  /** Told about connection and storage errors (a client that resets, a full disk). Ignored by default. */
  readonly onError?: (error: Error) => void;
}

export const DEFAULT_MAX_MESSAGE_BYTES = 25 * 1024 * 1024;

const INDEX_FILE = 'index.jsonl';
const MESSAGE_ID_PATTERN = /^[0-9a-z]{1,12}-[0-9a-f]{6,32}$/;
const TEMP_FILE_PATTERN = /^\..*\.tmp$/;
/** How long close() lets connected clients finish before they are cut off. */
const CLOSE_TIMEOUT_MS = 2_000;

/** True for an id this inbox could have made: nothing that could name another file. */
export function isInboxMessageId(id: string): boolean {
  return MESSAGE_ID_PATTERN.test(id);
}

/** A time-sortable id: base-36 milliseconds, then random hex. */
export function createInboxMessageId(now: number = Date.now()): string {
  return `${now.toString(36)}-${randomBytes(6).toString('hex')}`;
}

/** Start the SMTP server and resolve once it listens. No TLS, any AUTH accepted, nothing relayed. */
export async function startLocalInbox(options: LocalInboxOptions): Promise<LocalInbox> {
  const dir = options.dir;
  const host = options.host ?? '127.0.0.1';
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  if (!Number.isInteger(maxMessageBytes) || maxMessageBytes <= 0) {
    throw new MailroomError('INVALID_INPUT', `Local inbox maxMessageBytes must be a positive integer, got ${quote(maxMessageBytes)}.`);
  }
  const reportError = options.onError ?? (() => undefined);

  await mkdir(dir, { recursive: true });
  await prepareDirectory(dir);

  const reader = openInboxReader(dir);
  const appendIndexLine = createLineAppender(join(dir, INDEX_FILE));
  const pending = new Set<Promise<void>>();

  const server = new SMTPServer({
    logger: false,
    authOptional: true,
    allowInsecureAuth: true,
    authMethods: ['PLAIN', 'LOGIN', 'CRAM-MD5'],
    disabledCommands: ['STARTTLS'],
    disableReverseLookup: true,
    size: maxMessageBytes,
    rejectOversized: true,
    closeTimeout: CLOSE_TIMEOUT_MS,
    banner: 'Mailroom local inbox: messages are stored, never delivered',
    onAuth(auth, _session, callback) {
      callback(null, { user: auth.username ?? 'anonymous' });
    },
    onData(stream, session, callback) {
      const task = receiveMessage(stream, session).then(
        (id) => callback(null, `OK: stored as ${id}`),
        (error: unknown) => {
          if (error instanceof SmtpReplyError) {
            callback(error);
            return;
          }
          reportError(toError(error));
          callback(new SmtpReplyError(451, 'Error: the local inbox could not store the message'));
        },
      );
      pending.add(task);
      void task.finally(() => pending.delete(task));
    },
  });
  server.on('error', (error: Error) => reportError(error));

  async function receiveMessage(stream: SMTPServerDataStream, session: SMTPServerSession): Promise<string> {
    const source = await readDataStream(stream);
    if (source === null) {
      throw new SmtpReplyError(552, `Error: message exceeds fixed maximum message size ${maxMessageBytes}`);
    }
    const envelope = {
      from: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
      to: session.envelope.rcptTo.map((recipient) => recipient.address),
    };
    const id = createInboxMessageId();
    const receivedAt = new Date().toISOString();
    const [summary] = await Promise.all([
      // A message whose headers cannot be parsed is still captured: showing it is the point of the inbox.
      summarizeMessage(id, receivedAt, source, envelope).catch(() => summarizeParsed(id, receivedAt, source.length, {}, envelope)),
      writeFileAtomically(dir, `${id}.eml`, source),
    ]);
    await appendIndexLine(`${JSON.stringify(summary)}\n`);
    return id;
  }

  await new Promise<void>((resolve, reject) => {
    const onListenError = (error: Error): void => {
      reject(new MailroomError('CONFIG', `The local inbox could not listen on ${host}:${options.port}: ${error.message}`, [], { cause: error }));
    };
    server.server.once('error', onListenError);
    server.listen(options.port, host, () => {
      server.server.off('error', onListenError);
      resolve();
    });
  });
  const address = server.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;

  let closing: Promise<void> | null = null;
  return {
    host,
    port,
    dir,
    list: () => reader.list(),
    get: (id) => reader.get(id),
    clear: () => reader.clear(),
    close() {
      closing ??= (async () => {
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await Promise.allSettled([...pending]);
      })();
      return closing;
    },
  };
}

/** A read-only view of an inbox directory (another process may be writing to it). clear() deletes the messages. */
export function openInboxReader(dir: string): InboxReader {
  const indexPath = join(dir, INDEX_FILE);
  // The index is append-only: keep what was parsed and read only what was appended since.
  let cache: { ino: number; offset: number; summaries: InboxMessageSummary[]; byId: Map<string, InboxMessageSummary> } = createEmptyCache();
  let refreshing: Promise<void> | null = null;

  function createEmptyCache(): typeof cache {
    return { ino: -1, offset: 0, summaries: [], byId: new Map() };
  }

  async function refreshOnce(): Promise<void> {
    let info;
    try {
      info = await stat(indexPath);
    } catch (error) {
      if (isNotFound(error)) {
        cache = createEmptyCache();
        return;
      }
      throw error;
    }
    if (info.ino !== cache.ino || info.size < cache.offset) cache = { ...createEmptyCache(), ino: info.ino };
    if (info.size === cache.offset) return;

    const handle = await open(indexPath, 'r');
    try {
      const length = info.size - cache.offset;
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buffer, 0, length, cache.offset);
      const chunk = buffer.subarray(0, bytesRead);
      // A last line without its newline is still being written (or was cut short): leave it for later.
      const end = chunk.lastIndexOf(0x0a);
      if (end === -1) return;
      for (const line of chunk.subarray(0, end).toString('utf8').split('\n')) {
        const summary = parseSummaryLine(line);
        if (summary !== null && !cache.byId.has(summary.id)) {
          cache.summaries.push(summary);
          cache.byId.set(summary.id, summary);
        }
      }
      cache.offset += end + 1;
    } finally {
      await handle.close();
    }
  }

  function refresh(): Promise<void> {
    refreshing ??= refreshOnce().finally(() => {
      refreshing = null;
    });
    return refreshing;
  }

  return {
    async list() {
      await refresh();
      return cache.summaries.slice().reverse();
    },

    async get(id) {
      if (!isInboxMessageId(id)) return null;
      let source: Buffer;
      try {
        source = await readFile(join(dir, `${id}.eml`));
      } catch (error) {
        if (isNotFound(error)) return null;
        throw error;
      }
      await refresh();
      const mail = await simpleParser(source, { skipHtmlToText: true, skipTextToHtml: true });
      const summary =
        cache.byId.get(id) ??
        summarizeParsed(id, (await stat(join(dir, `${id}.eml`))).mtime.toISOString(), source.length, mail, { from: '', to: [] });
      return {
        ...summary,
        headers: mail.headerLines.map((header) => ({ key: header.key, line: header.line })),
        html: typeof mail.html === 'string' ? mail.html : null,
        // mailparser gives '' rather than nothing when there is no text/plain part.
        text: typeof mail.text === 'string' && mail.text !== '' ? mail.text : null,
        raw: source.toString('utf8'),
      };
    },

    async clear() {
      await refresh();
      await unlinkIfPresent(indexPath);
      cache = createEmptyCache();
      let names: string[];
      try {
        names = await readdir(dir);
      } catch (error) {
        if (isNotFound(error)) return;
        throw error;
      }
      await Promise.all(
        names
          .filter((name) => name.endsWith('.eml') && isInboxMessageId(name.slice(0, -4)))
          .map((name) => unlinkIfPresent(join(dir, name))),
      );
    },
  };
}

/** A reply for the SMTP client; `responseCode` is what smtp-server sends. */
class SmtpReplyError extends Error {
  readonly responseCode: number;

  constructor(responseCode: number, message: string) {
    super(message);
    this.name = 'SmtpReplyError';
    this.responseCode = responseCode;
  }
}

/** The whole DATA stream as one buffer, or null when it went over the size limit (the rest is drained, not kept). */
function readDataStream(stream: SMTPServerDataStream): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => {
      if (!stream.sizeExceeded) chunks.push(chunk);
    });
    stream.once('error', reject);
    stream.once('end', () => resolve(stream.sizeExceeded ? null : Buffer.concat(chunks)));
  });
}

/** Parse only the header block (cheap: the body, attachments included, is never decoded). */
async function summarizeMessage(
  id: string,
  receivedAt: string,
  source: Buffer,
  envelope: InboxMessageSummary['envelope'],
): Promise<InboxMessageSummary> {
  const headerEnd = findHeaderEnd(source);
  const mail = await simpleParser(source.subarray(0, headerEnd), {
    skipHtmlToText: true,
    skipTextToHtml: true,
    skipImageLinks: true,
    checksumAlgo: false,
  });
  return summarizeParsed(id, receivedAt, source.length, mail, envelope);
}

function summarizeParsed(
  id: string,
  receivedAt: string,
  size: number,
  mail: { from?: AddressObject; to?: AddressObject | AddressObject[]; subject?: string },
  envelope: InboxMessageSummary['envelope'],
): InboxMessageSummary {
  const fromAddresses = flattenAddresses(mail.from === undefined ? [] : mail.from.value);
  const from = fromAddresses[0];
  const toHeader = (Array.isArray(mail.to) ? mail.to : mail.to === undefined ? [] : [mail.to]).flatMap((header) =>
    flattenAddresses(header.value),
  );
  const to = toHeader.map((address) => address.address ?? '').filter((address) => address !== '');
  return {
    id,
    receivedAt,
    from: from === undefined ? envelope.from : formatAddress(from),
    to: to.length > 0 ? to : [...envelope.to],
    subject: mail.subject ?? '',
    size,
    envelope,
  };
}

function flattenAddresses(addresses: readonly EmailAddress[]): EmailAddress[] {
  return addresses.flatMap((address) => (address.group === undefined ? [address] : flattenAddresses(address.group)));
}

function formatAddress(address: EmailAddress): string {
  const email = address.address ?? '';
  if (address.name === '') return email;
  return email === '' ? address.name : `${address.name} <${email}>`;
}

/** Offset just past the blank line that ends the header block (the whole message when there is none). */
function findHeaderEnd(source: Buffer): number {
  const crlf = source.indexOf('\r\n\r\n');
  const lf = source.indexOf('\n\n');
  if (crlf === -1 && lf === -1) return source.length;
  if (crlf === -1) return lf + 2;
  if (lf === -1) return crlf + 4;
  return Math.min(crlf + 4, lf + 2);
}

function parseSummaryLine(line: string): InboxMessageSummary | null {
  if (line.trim() === '') return null;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const record = value as Record<string, unknown>;
  const { id, receivedAt, from, to, subject, size, envelope } = record;
  if (typeof id !== 'string' || !isInboxMessageId(id)) return null;
  if (typeof receivedAt !== 'string' || typeof from !== 'string' || typeof subject !== 'string') return null;
  if (typeof size !== 'number' || !isStringArray(to)) return null;
  const envelopeRecord = typeof envelope === 'object' && envelope !== null ? (envelope as Record<string, unknown>) : {};
  return {
    id,
    receivedAt,
    from,
    to,
    subject,
    size,
    envelope: {
      from: typeof envelopeRecord.from === 'string' ? envelopeRecord.from : '',
      to: isStringArray(envelopeRecord.to) ? envelopeRecord.to : [],
    },
  };
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

/** Appends lines to a file one write at a time; lines that queue up meanwhile go out together. */
function createLineAppender(path: string): (line: string) => Promise<void> {
  let queue: { line: string; resolve: () => void; reject: (error: unknown) => void }[] = [];
  let running = false;

  async function drain(): Promise<void> {
    running = true;
    while (queue.length > 0) {
      const batch = queue;
      queue = [];
      try {
        // Opened per batch, so a clear() that unlinks the index never leaves us writing to a deleted file.
        await appendFile(path, batch.map((entry) => entry.line).join(''));
        for (const entry of batch) entry.resolve();
      } catch (error) {
        for (const entry of batch) entry.reject(error);
      }
    }
    running = false;
  }

  return (line) =>
    new Promise<void>((resolve, reject) => {
      queue.push({ line, resolve, reject });
      if (!running) void drain();
    });
}

/** Write to a hidden temp file, then rename, so a reader never sees half a message. */
async function writeFileAtomically(dir: string, name: string, data: Buffer): Promise<void> {
  const temp = join(dir, `.${name}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(temp, data);
    await rename(temp, join(dir, name));
  } catch (error) {
    await unlinkIfPresent(temp);
    throw error;
  }
}

/** Remove temp files a crash left behind and end a cut-short last index line, so the next line starts clean. */
async function prepareDirectory(dir: string): Promise<void> {
  const names = await readdir(dir);
  await Promise.all(names.filter((name) => TEMP_FILE_PATTERN.test(name)).map((name) => unlinkIfPresent(join(dir, name))));
  const indexPath = join(dir, INDEX_FILE);
  let handle;
  try {
    handle = await open(indexPath, 'r');
  } catch (error) {
    if (isNotFound(error)) return;
    throw error;
  }
  try {
    const { size } = await handle.stat();
    if (size === 0) return;
    const last = Buffer.alloc(1);
    await handle.read(last, 0, 1, size - 1);
    if (last[0] !== 0x0a) await appendFile(indexPath, '\n');
  } finally {
    await handle.close();
  }
}

async function unlinkIfPresent(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

function isNotFound(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'ENOENT';
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
