/**
 * A built-in SMTP server that captures every message into a directory (`<id>.eml` + `index.jsonl`), keeps the newest
 * `maxMessages`, and a reader for it. The index is append-only: a summary line per message received, a
 * `{"deleted":[ids]}` line per deletion; the server compacts it when dead lines pile up.
 */

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

/** What changed in an inbox: told to subscribers as it happens. */
export type InboxEvent =
  | { readonly type: 'received'; readonly message: InboxMessageSummary }
  | { readonly type: 'deleted'; readonly ids: readonly string[] }
  | { readonly type: 'cleared' };

export interface InboxReader {
  /** Every stored message, newest first. */
  list(): Promise<InboxMessageSummary[]>;
  /** One message, or null for an unknown or malformed id. */
  get(id: string): Promise<InboxMessage | null>;
  /** Delete one message (its file too); false when there is no such message. */
  delete(id: string): Promise<boolean>;
  /** Delete every stored message. */
  clear(): Promise<void>;
  /** Be told of every message received, deleted or cleared through this object; returns the function that stops it. */
  subscribe(listener: (event: InboxEvent) => void): () => void;
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
  /** Keep at most this many messages, dropping the oldest (their files too); 0 keeps every message. Default 1,000. */
  readonly maxMessages?: number;
  /** Told about connection and storage errors (a client that resets, a full disk). Ignored by default. */
  readonly onError?: (error: Error) => void;
}

export const DEFAULT_MAX_MESSAGE_BYTES = 25 * 1024 * 1024;
export const DEFAULT_MAX_MESSAGES = 1_000;

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
  const maxMessages = options.maxMessages ?? DEFAULT_MAX_MESSAGES;
  if (!Number.isSafeInteger(maxMessages) || maxMessages < 0) {
    throw new MailroomError('INVALID_INPUT', `Local inbox maxMessages must be a whole number (0 keeps every message), got ${quote(maxMessages)}.`);
  }
  const reportError = options.onError ?? (() => undefined);

  await mkdir(dir, { recursive: true });
  await prepareDirectory(dir);

  // Every change to the index goes through `serial`, so a compaction never loses a line appended meanwhile.
  const serial = createSerialQueue();
  const index = openInboxIndex(dir);
  const events = createEventHub();
  const appendSummary = createBatchedAppender(serial, index.path);
  const startedAt = Date.now();
  /** Ids of messages being stored (file written, index line not yet): never taken for leftovers. */
  const storing = new Set<string>();
  const pending = new Set<Promise<void>>();

  /** Drops the oldest messages beyond the cap and compacts the index when dead lines pile up. Runs inside `serial`. */
  async function pruneOldest(): Promise<void> {
    const summaries = await index.summaries();
    if (maxMessages > 0 && summaries.length > maxMessages) {
      const ids = summaries.slice(0, summaries.length - maxMessages).map((summary) => summary.id);
      await index.remove(ids);
      events.emit({ type: 'deleted', ids });
    }
    await index.compactIfWasteful();
  }
  // Messages that arrive together share one prune (and one index write).
  let queuedPrune: Promise<void> | null = null;
  function prune(): Promise<void> {
    if (maxMessages === 0) return Promise.resolve();
    queuedPrune ??= serial.run(async () => {
      queuedPrune = null;
      await pruneOldest();
    });
    return queuedPrune;
  }

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
    storing.add(id);
    let summary: InboxMessageSummary;
    try {
      [summary] = await Promise.all([
        // A message whose headers cannot be parsed is still captured: showing it is the point of the inbox.
        summarizeMessage(id, receivedAt, source, envelope).catch(() => summarizeParsed(id, receivedAt, source.length, {}, envelope)),
        writeFileAtomically(dir, `${id}.eml`, source),
      ]);
      await appendSummary(`${JSON.stringify(summary)}\n`);
    } finally {
      storing.delete(id);
    }
    events.emit({ type: 'received', message: summary });
    // Within the cap before the client hears 250; the message is stored either way, so a failed prune is only reported.
    await prune().catch((error: unknown) => reportError(toError(error)));
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
  // Only once the port is ours (a second inbox on this directory fails above, before touching anything), and never a
  // message this inbox is storing or one newer than its start.
  await serial.run(async () => {
    const keep = new Set([...(await index.live()), ...storing]);
    await removeUnindexedFiles(dir, keep, startedAt);
    await pruneOldest();
  });

  let closing: Promise<void> | null = null;
  return {
    host,
    port,
    dir,
    list: () => index.list(),
    get: (id) => index.get(id),
    delete: (id) =>
      serial.run(async () => {
        const deleted = await index.removeOne(id);
        if (deleted) events.emit({ type: 'deleted', ids: [id] });
        return deleted;
      }),
    clear: () =>
      serial.run(async () => {
        await index.clear();
        events.emit({ type: 'cleared' });
      }),
    subscribe: (listener) => events.subscribe(listener),
    close() {
      closing ??= (async () => {
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await Promise.allSettled([...pending]);
        await serial.run(async () => undefined);
      })();
      return closing;
    },
  };
}

/** A view of an inbox directory that another process (a running `serve`) may be writing to; deleting goes through the index. */
export function openInboxReader(dir: string): InboxReader {
  const index = openInboxIndex(dir);
  const events = createEventHub();
  return {
    list: () => index.list(),
    get: (id) => index.get(id),
    async delete(id) {
      const deleted = await index.removeOne(id);
      if (deleted) events.emit({ type: 'deleted', ids: [id] });
      return deleted;
    },
    async clear() {
      await index.clear();
      events.emit({ type: 'cleared' });
    },
    subscribe: (listener) => events.subscribe(listener),
  };
}

interface InboxIndex {
  readonly path: string;
  /** Live summaries, oldest first. */
  summaries(): Promise<InboxMessageSummary[]>;
  /** Live summaries, newest first. */
  list(): Promise<InboxMessageSummary[]>;
  /** Ids of the live messages. */
  live(): Promise<ReadonlySet<string>>;
  get(id: string): Promise<InboxMessage | null>;
  /** Marks the messages deleted in the index, then deletes their files. */
  remove(ids: readonly string[]): Promise<void>;
  /** Deletes one message known to the index, or a file of that id the index does not know; false when neither exists. */
  removeOne(id: string): Promise<boolean>;
  /** Deletes the index, then the files of the messages it listed (a message still arriving keeps its file). */
  clear(): Promise<void>;
  /** Rewrites the index with only its live lines when most of it is dead. */
  compactIfWasteful(): Promise<void>;
}

/** Compaction waits for this many dead lines beyond the live ones, so a full inbox rewrites its index now and then, not per message. */
const COMPACT_SLACK_LINES = 50;

/** The index file, read incrementally: what was parsed is kept, and only what was appended since is read. */
function openInboxIndex(dir: string): InboxIndex {
  const path = join(dir, INDEX_FILE);
  let cache = createEmptyCache();
  let refreshing: Promise<void> | null = null;

  function createEmptyCache(ino = -1): { ino: number; offset: number; lines: number; byId: Map<string, InboxMessageSummary> } {
    // A Map keeps insertion order: oldest first.
    return { ino, offset: 0, lines: 0, byId: new Map() };
  }

  async function refreshOnce(): Promise<void> {
    let info;
    try {
      info = await stat(path);
    } catch (error) {
      if (isNotFound(error)) {
        cache = createEmptyCache();
        return;
      }
      throw error;
    }
    if (info.ino !== cache.ino || info.size < cache.offset) cache = createEmptyCache(info.ino);
    if (info.size === cache.offset) return;

    const handle = await open(path, 'r');
    try {
      const length = info.size - cache.offset;
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buffer, 0, length, cache.offset);
      const chunk = buffer.subarray(0, bytesRead);
      // A last line without its newline is still being written (or was cut short): leave it for later.
      const end = chunk.lastIndexOf(0x0a);
      if (end === -1) return;
      for (const line of chunk.subarray(0, end).toString('utf8').split('\n')) {
        const entry = parseIndexLine(line);
        if (entry === null) continue;
        cache.lines += 1;
        if (entry.kind === 'deleted') {
          for (const id of entry.ids) cache.byId.delete(id);
        } else if (!cache.byId.has(entry.summary.id)) {
          cache.byId.set(entry.summary.id, entry.summary);
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

  async function removeFiles(ids: Iterable<string>): Promise<void> {
    await Promise.all([...ids].filter(isInboxMessageId).map((id) => unlinkIfPresent(join(dir, `${id}.eml`))));
  }

  const index: InboxIndex = {
    path,
    async summaries() {
      await refresh();
      return [...cache.byId.values()];
    },
    async list() {
      return (await index.summaries()).reverse();
    },
    async live() {
      await refresh();
      return new Set(cache.byId.keys());
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
    async remove(ids) {
      if (ids.length === 0) return;
      // The index first: a crash between the two leaves files the next start removes, never a listed message without its file.
      await appendFile(path, `${JSON.stringify({ deleted: ids })}\n`);
      await refresh();
      await removeFiles(ids);
    },
    async removeOne(id) {
      if (!isInboxMessageId(id)) return false;
      await refresh();
      if (cache.byId.has(id)) {
        await index.remove([id]);
        return true;
      }
      try {
        await unlink(join(dir, `${id}.eml`));
        return true;
      } catch (error) {
        if (isNotFound(error)) return false;
        throw error;
      }
    },
    async clear() {
      await refresh();
      const ids = [...cache.byId.keys()];
      await unlinkIfPresent(path);
      cache = createEmptyCache();
      await removeFiles(ids);
    },
    async compactIfWasteful() {
      await refresh();
      if (cache.lines <= 2 * cache.byId.size + COMPACT_SLACK_LINES) return;
      const live = [...cache.byId.values()];
      await writeFileAtomically(dir, INDEX_FILE, Buffer.from(live.map((summary) => `${JSON.stringify(summary)}\n`).join('')));
      await refresh();
    },
  };
  return index;
}

/** Listeners of one inbox; a listener that throws does not stop the others. */
function createEventHub(): { emit(event: InboxEvent): void; subscribe(listener: (event: InboxEvent) => void): () => void } {
  const listeners = new Set<(event: InboxEvent) => void>();
  return {
    emit(event) {
      for (const listener of [...listeners]) {
        try {
          listener(event);
        } catch {
          // A subscriber's own problem (a closed HTTP stream) is not the inbox's.
        }
      }
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/** Runs tasks one after another, in the order given; a failed task does not stop the next. */
function createSerialQueue(): { run<T>(task: () => Promise<T>): Promise<T> } {
  let tail: Promise<unknown> = Promise.resolve();
  return {
    run(task) {
      const result = tail.then(task);
      tail = result.catch(() => undefined);
      return result;
    },
  };
}

/**
 * Removes `<id>.eml` files made no later than `notAfter` that are not in `keep`: a message written but never acknowledged
 * (a crash before its index line), or one whose deletion was cut short.
 */
async function removeUnindexedFiles(dir: string, keep: ReadonlySet<string>, notAfter: number): Promise<void> {
  const names = await readdir(dir);
  await Promise.all(
    names
      .map((name) => (name.endsWith('.eml') ? name.slice(0, -4) : ''))
      .filter((id) => isInboxMessageId(id) && !keep.has(id) && readIdTime(id) <= notAfter)
      .map((id) => unlinkIfPresent(join(dir, `${id}.eml`))),
  );
}

/** The time an id was made (its base-36 milliseconds). */
function readIdTime(id: string): number {
  return Number.parseInt(id.slice(0, id.indexOf('-')), 36);
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

type IndexEntry = { readonly kind: 'summary'; readonly summary: InboxMessageSummary } | { readonly kind: 'deleted'; readonly ids: readonly string[] };

function parseIndexLine(line: string): IndexEntry | null {
  if (line.trim() === '') return null;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const record = value as Record<string, unknown>;
  if ('deleted' in record) return isStringArray(record.deleted) ? { kind: 'deleted', ids: record.deleted.filter(isInboxMessageId) } : null;
  const summary = parseSummary(record);
  return summary === null ? null : { kind: 'summary', summary };
}

function parseSummary(record: Record<string, unknown>): InboxMessageSummary | null {
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

/** Appends lines to a file through `serial`; lines that queue up while a write waits go out in that one write. */
function createBatchedAppender(serial: { run<T>(task: () => Promise<T>): Promise<T> }, path: string): (line: string) => Promise<void> {
  let queue: { line: string; resolve: () => void; reject: (error: unknown) => void }[] = [];
  let scheduled = false;

  async function writeBatch(): Promise<void> {
    scheduled = false;
    const batch = queue;
    queue = [];
    try {
      // Opened per batch, so a clear() or a compaction that replaces the index never leaves us writing to a deleted file.
      await appendFile(path, batch.map((entry) => entry.line).join(''));
      for (const entry of batch) entry.resolve();
    } catch (error) {
      for (const entry of batch) entry.reject(error);
    }
  }

  return (line) =>
    new Promise<void>((resolve, reject) => {
      queue.push({ line, resolve, reject });
      if (!scheduled) {
        scheduled = true;
        void serial.run(writeBatch);
      }
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
