/**
 * A faster dot-stuffer for nodemailer's SMTP client, byte for byte the same as its own.
 *
 * nodemailer's SMTPConnection sends every message through its DataStream, which turns bare CR and bare LF into
 * CRLF and doubles a dot at the start of a line (RFC 5321 4.5.2). Its transform looks at each byte in JavaScript:
 * about a fifth of Mailroom's sending CPU for a 35 KB newsletter. This one jumps from line break to line break
 * with String#indexOf on the chunk read as latin1 and looks only at the bytes around them, so a message whose lines are
 * already CRLF costs a few hundred native searches instead of tens of thousands of JavaScript steps.
 *
 * Nothing happens on import: the composition root (src/app.ts, createApp) calls `installFastDotStuffing()`, which
 * puts it in place of DataStream#_transform after checking, on a set of edge cases,
 * that both give the same bytes; if they ever differ (a nodemailer upgrade that changes the rules), nodemailer's
 * own transform is kept. tests/dot-stuffing.test.ts compares the two on random input cut into random chunks.
 */
import type { TransformCallback } from 'node:stream';
import DataStream from 'nodemailer/lib/smtp-connection/data-stream.js';

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;
const INSERT_LF = Buffer.from('\n');
const INSERT_LF_DOT = Buffer.from('\n.');
const INSERT_CR = Buffer.from('\r');
const INSERT_DOT = Buffer.from('.');

/**
 * Dot-stuffs one chunk given the last byte of the one before: the same rules as nodemailer's DataStream
 * (a bare CR gets an LF after it, and a dot right after it is doubled; a bare LF gets a CR before it; a dot
 * starting a line is doubled). Returns the chunk itself when nothing needs inserting.
 */
export function dotStuffChunk(chunk: Buffer, lastByte: number | false): Buffer {
  const len = chunk.length;
  if (len === 0) return chunk;
  let parts: Buffer[] | null = null;
  let partsLength = 0;
  let copiedTo = 0;
  /** Inserts `bytes` before position `at` (positions only ever grow). */
  const insert = (at: number, bytes: Buffer): void => {
    parts ??= [];
    if (at > copiedTo) {
      const piece = chunk.subarray(copiedTo, at);
      parts.push(piece);
      partsLength += piece.length;
      copiedTo = at;
    }
    parts.push(bytes);
    partsLength += bytes.length;
  };

  // The first byte, against the chunk before it. A CR or LF here is also seen by the scan below, which looks
  // backwards only for an LF (whose CR may be lastByte) and forwards from a CR.
  const first = chunk[0] as number;
  if (lastByte === CR && first !== LF) insert(0, first === DOT ? INSERT_LF_DOT : INSERT_LF);
  else if (first === DOT && (lastByte === LF || lastByte === false)) insert(0, INSERT_DOT);

  // The searches run on the chunk as a latin1 string (one character per byte, positions the same): String#indexOf
  // is a builtin V8 inlines, where Buffer#indexOf crosses into C++ on each of the two calls per line (3× the time
  // for a 35 KB message of 640 lines).
  const text = chunk.toString('latin1');
  let nextCr = text.indexOf('\r', 0);
  let nextLf = text.indexOf('\n', 0);
  while (nextCr >= 0 || nextLf >= 0) {
    if (nextCr >= 0 && (nextLf < 0 || nextCr < nextLf)) {
      // A CR: CRLF passes; anything else after it gets an LF (and a dot there is stuffed).
      const at = nextCr + 1;
      if (at >= len) break; // the next chunk's first byte decides
      const after = chunk[at] as number;
      if (after === LF) {
        if (at + 1 < len && chunk[at + 1] === DOT) insert(at + 1, INSERT_DOT);
        nextLf = text.indexOf('\n', at + 1);
      } else {
        insert(at, after === DOT ? INSERT_LF_DOT : INSERT_LF);
      }
      nextCr = text.indexOf('\r', at);
    } else {
      // An LF not preceded by a CR of this chunk's scan (a CRLF is handled at its CR, except one split at the chunk start).
      const at = nextLf;
      const prev = at > 0 ? (chunk[at - 1] as number) : lastByte;
      if (prev !== CR) insert(at, INSERT_CR);
      if (at + 1 < len && chunk[at + 1] === DOT) insert(at + 1, INSERT_DOT);
      nextLf = text.indexOf('\n', at + 1);
    }
  }
  if (parts === null) return chunk;
  const list = parts as Buffer[];
  if (copiedTo < len) {
    list.push(chunk.subarray(copiedTo));
    partsLength += len - copiedTo;
  }
  return Buffer.concat(list, partsLength);
}

/** DataStream#_transform with dotStuffChunk: the same bookkeeping (byte counts, lastByte) as nodemailer's. */
function fastTransform(this: DataStream, chunk: Buffer | string, _encoding: BufferEncoding, done: TransformCallback): void {
  if (!chunk || !chunk.length) return done();
  const input = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
  this.inByteCount += input.length;
  const output = dotStuffChunk(input, this.lastByte);
  this.outByteCount += output.length;
  this.push(output);
  this.lastByte = input[input.length - 1] as number;
  done();
}

/** Runs a DataStream transform over chunks and returns what it pushed (without the final dot line). */
export function runTransform(transform: (this: DataStream, chunk: Buffer, encoding: BufferEncoding, done: TransformCallback) => void, chunks: readonly Buffer[]): Buffer {
  const stream = new DataStream();
  const out: Buffer[] = [];
  stream.push = (piece: unknown) => {
    if (Buffer.isBuffer(piece)) out.push(piece);
    return true;
  };
  for (const chunk of chunks) transform.call(stream, chunk, 'latin1', () => undefined);
  return Buffer.concat(out);
}

/** Edge cases checked against nodemailer's own transform before the fast one is installed. */
const SELF_CHECK: readonly (readonly string[])[] = [
  ['.a\r\n.b\n.c\r.d\r\r\n\n..\r\n'],
  ['line\r', '\n.dot', '\r', '.x', '\n', '.y\r\n', '\r\n', '.'],
  ['a\n\n\r\r.', '.', '\r\n\r\nend'],
  ['no breaks at all'],
];

let installed: boolean | null = null;

/**
 * Installs the fast transform in nodemailer's DataStream (process-wide: every SMTP connection uses it).
 * Returns false, leaving nodemailer's own, when the two disagree on any edge case.
 */
export function installFastDotStuffing(): boolean {
  if (installed !== null) return installed;
  const original = DataStream.prototype._transform as (this: DataStream, chunk: Buffer, encoding: BufferEncoding, done: TransformCallback) => void;
  const fast = fastTransform as unknown as typeof original;
  const same = SELF_CHECK.every((case_) => {
    const chunks = case_.map((s) => Buffer.from(s, 'latin1'));
    return runTransform(original, chunks).equals(runTransform(fast, chunks));
  });
  if (same) DataStream.prototype._transform = fast;
  installed = same;
  return same;
}
