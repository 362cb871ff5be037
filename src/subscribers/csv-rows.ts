/** Streaming reader of a subscribers CSV: sniffs the delimiter, maps the header, and validates and de-duplicates each row, reporting every rejection with the line it starts on. */

import { pipeline, Readable } from 'node:stream';
import { CsvError, parse } from 'csv-parse';
import type { Info } from 'csv-parse';
import { checkEmail, normalizeEmail } from '../core/email-address.ts';
import { isMailroomError, MailroomError, quote } from '../core/errors.ts';

export interface SubscriberRow {
  /** Normalized (see `normalizeEmail`). */
  email: string;
  name: string;
  firstName: string;
  lastName: string;
  /** Every other column, keyed by its header in snake_case ASCII; empty cells are left out. */
  attributes: Record<string, string>;
}

export type CsvRowResult =
  /** `address` (only once duplicates are deferred): the address as written, for the store's "duplicates line N". */
  | { line: number; ok: true; row: SubscriberRow; address?: string }
  | { line: number; ok: false; reason: string; value?: string };

/** The rows of a CSV; `deferDuplicates()`, called before reading, hands duplicate detection to the consumer. */
export type SubscriberCsvRows = AsyncGenerator<CsvRowResult> & {
  /**
   * Stop keeping the index of addresses (about 75 MB per million rows) and leave "duplicates line N" to the consumer:
   * the store's import finds repeats inside its transaction. Accepted rows then carry `address`. Call it before the
   * first row is read.
   */
  deferDuplicates(): void;
};

/** Longest name, first name or last name, in characters: names go into `To:` headers and greetings. */
export const MAX_NAME_LENGTH = 200;
/** Longest attribute value, in characters. */
export const MAX_ATTRIBUTE_LENGTH = 1000;
/**
 * Largest record csv-parse will buffer, in bytes. Far above any legitimate row (the limits above), it bounds
 * memory when a stray quote would otherwise make the parser swallow the rest of a huge file as one value.
 */
const MAX_RECORD_BYTES = 1024 * 1024;
/** How much of the file is read to find the header line and sniff its delimiter. */
const MAX_HEAD_BYTES = 64 * 1024;

type Delimiter = ',' | ';' | '\t';
const DELIMITER_NAMES: Readonly<Record<Delimiter, string>> = { ',': 'comma', ';': 'semicolon', '\t': 'tab' };

type Role = 'email' | 'name' | 'firstName' | 'lastName';
/** Recognized headers, compared lowercased with spaces, underscores and hyphens removed. */
const ROLE_BY_HEADER: ReadonlyMap<string, Role> = new Map<string, Role>([
  ['email', 'email'], // also "e-mail", "E_Mail"
  ['emailaddress', 'email'],
  ['mail', 'email'],
  ['name', 'name'],
  ['fullname', 'name'],
  ['firstname', 'firstName'],
  ['givenname', 'firstName'],
  ['lastname', 'lastName'],
  ['surname', 'lastName'],
  ['familyname', 'lastName'],
]);

interface Header {
  readonly width: number;
  readonly labels: readonly string[];
  readonly email: number;
  /** Column index, or -1 when the file has no such column. */
  readonly name: number;
  readonly firstName: number;
  readonly lastName: number;
  readonly attributes: readonly { readonly index: number; readonly key: string }[];
}

interface ParsedRecord {
  readonly record: string[];
  readonly info: Info;
}
/** Pushed into the parser's output in place of a record csv-parse gave up on, so it arrives in order. */
interface ParseFailure {
  readonly csvError: CsvError;
}

/** Control characters other than tab, CR and LF (those are judged separately). */
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u0084\u0086-\u009f]/;
/** Anything a mail client or header parser may treat as a line break. */
const LINE_BREAK = /[\r\n\u0085\u2028\u2029]/;
/** What Buffer#toString puts in place of bytes that are not UTF-8. */
const REPLACEMENT_CHARACTER = '\uFFFD';
/** One pass over a value to find whether any of the three checks above needs running. */
const SUSPICIOUS = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029\uFFFD]/;

/**
 * Reads a subscribers CSV row by row without holding the file in memory (apart from the duplicate index, below).
 *
 * - The delimiter (comma, semicolon or tab) is sniffed from the header line; a UTF-8 or UTF-16LE byte-order mark
 *   is honoured; CRLF, LF and CR line endings may be mixed.
 * - Header problems (no email column, an empty or duplicate column name, an empty file) throw a MailroomError
 *   before any row is yielded.
 * - Every data row yields exactly one result, `line` being the 1-based line of the file the row starts on
 *   (header = line 1 unless blank lines precede it), correct after values with quoted line breaks.
 * - Blank lines and rows whose cells are all empty are skipped silently.
 * - A row with more non-empty cells than the header has columns is rejected; a row with fewer has the missing
 *   cells read as empty. Trailing empty cells (`a,b,,`) are ignored.
 * - Values starting with `=`, `+`, `-` or `@` are kept verbatim: they are only dangerous when a CSV is opened in a
 *   spreadsheet, and Mailroom never writes subscriber data back out to one.
 * - A quote left open at the end of the file yields one rejected row (everything from its line to the end was read
 *   as one value); a syntax error the parser cannot recover from mid-file throws a MailroomError naming the line.
 *
 * - Every value is trimmed; names are NFC-normalized. Names and attributes may not contain line breaks or control
 *   characters (tab excepted), names are at most MAX_NAME_LENGTH characters and attributes MAX_ATTRIBUTE_LENGTH.
 *
 * Memory: to report duplicates, the first line of every accepted address is kept in a Map for the whole read.
 * V8 spends about 80 bytes per entry for a typical 30-character address (string + hash-table slot + small
 * integer): measured at 74 MB of live heap for 1,000,000 entries. Reading a 1,000,000-row file peaks at about
 * 310 MB RSS with the Map and 135 MB without it, where the heap stays flat at 15–40 MB
 * (scripts/measure-csv-read.ts). So the store's import calls `deferDuplicates()` and finds repeats itself, inside
 * its transaction, in constant memory; the Map is only kept when the rows are read on their own.
 */
export function readSubscriberCsv(input: NodeJS.ReadableStream | AsyncIterable<Buffer | string>, source: string): SubscriberCsvRows {
  const options = { deferDuplicates: false };
  return Object.assign(readRows(input, source, options), {
    deferDuplicates() {
      options.deferDuplicates = true;
    },
  });
}

async function* readRows(
  input: NodeJS.ReadableStream | AsyncIterable<Buffer | string>,
  source: string,
  options: { readonly deferDuplicates: boolean },
): AsyncGenerator<CsvRowResult> {
  const chunks = (input as AsyncIterable<Buffer | string>)[Symbol.asyncIterator]();
  let head: Head;
  try {
    head = await readHead(chunks);
  } catch (error) {
    throw readFailure(source, error);
  }
  if (head.done && isBlank(decodeHead(head.chunks))) {
    throw emptyFile(source);
  }
  const delimiter = sniffDelimiter(decodeHead(head.chunks));

  const parser = parse({
    bom: true,
    info: true,
    delimiter,
    record_delimiter: ['\r\n', '\n', '\r'],
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
    trim: true,
    max_record_size: MAX_RECORD_BYTES,
    // A record with a syntax error is reported through the 'skip' event instead of destroying the stream, which
    // would drop the records still buffered ahead of it. Recovery inside csv-parse after a quote error is not
    // reliable, so apart from an unclosed quote at the very end we stop at the first one.
    skip_records_with_error: true,
  });
  parser.on('skip', (csvError: CsvError) => {
    parser.push({ csvError } satisfies ParseFailure);
  });
  const feed = Readable.from(replay(head, chunks), { objectMode: false });
  // Errors reach us through the parser's iterator (pipeline destroys it with the input's error).
  pipeline(feed, parser, () => {});
  const records = parser[Symbol.asyncIterator]() as AsyncIterator<ParsedRecord | ParseFailure>;

  let header: Header | undefined;
  /** The line the next record starts on, before any blank lines csv-parse skips. */
  let nextLine = 1;
  let emptyLinesBefore = 0;
  const firstLineByEmail = new Map<string, number>();
  try {
    for (;;) {
      let next: IteratorResult<ParsedRecord | ParseFailure>;
      try {
        next = await records.next();
      } catch (error) {
        throw readFailure(source, error);
      }
      if (next.done === true) break;
      const item = next.value;

      if ('csvError' in item) {
        const { csvError } = item;
        const emptyLines = typeof csvError['empty_lines'] === 'number' ? csvError['empty_lines'] : emptyLinesBefore;
        const line = nextLine + (emptyLines - emptyLinesBefore);
        if (csvError.code === 'CSV_QUOTE_NOT_CLOSED' && header !== undefined) {
          yield {
            line,
            ok: false,
            reason:
              'has a quote that is never closed, so everything from this line to the end of the file was read as ' +
              `one value and not imported (csv-parse: ${csvError.message})`,
          };
          return;
        }
        throw new MailroomError('INVALID_INPUT', `${source} line ${line}: ${explainCsvError(csvError, delimiter)}`, [], {
          cause: csvError,
        });
      }

      const { record, info } = item;
      // csv-parse's own info.lines miscounts CRLF inside quoted values, so lines are counted here: a record spans
      // one line plus the line breaks inside its (quoted) values; blank lines skipped before it are in empty_lines.
      const line = nextLine + (info.empty_lines - emptyLinesBefore);
      nextLine = line + countLineBreaks(record) + 1;
      emptyLinesBefore = info.empty_lines;

      if (header === undefined) {
        header = readHeader(record, source, line);
        continue;
      }
      const result = checkRow(record, header, line, delimiter, options.deferDuplicates ? null : firstLineByEmail);
      if (result !== null) yield result;
    }
  } finally {
    parser.destroy();
    feed.destroy();
  }
  if (header === undefined) throw emptyFile(source);
}

/** `subscribers.csv line 14: "bob@" is not an email address` */
export function formatRejection(source: string, rejection: { line: number; reason: string; value?: string }): string {
  const value = rejection.value === undefined ? '' : `${rejection.value} `;
  return `${source} line ${rejection.line}: ${value}${rejection.reason}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Head of the file: delimiter sniffing

interface Head {
  readonly chunks: readonly Buffer[];
  /** True when the input ended while reading the head. */
  readonly done: boolean;
}

/** Reads until the first non-blank line is complete (or MAX_HEAD_BYTES, or the end). */
async function readHead(chunks: AsyncIterator<Buffer | string>): Promise<Head> {
  const read: Buffer[] = [];
  let bytes = 0;
  for (;;) {
    const next = await chunks.next();
    if (next.done === true) return { chunks: read, done: true };
    const chunk = toBuffer(next.value);
    read.push(chunk);
    bytes += chunk.length;
    if (bytes >= MAX_HEAD_BYTES || hasCompleteLine(decodeHead(read))) return { chunks: read, done: false };
  }
}

async function* replay(head: Head, rest: AsyncIterator<Buffer | string>): AsyncGenerator<Buffer> {
  yield* head.chunks;
  if (head.done) return;
  let finished = false;
  try {
    for (;;) {
      const next = await rest.next();
      if (next.done === true) break;
      yield toBuffer(next.value);
    }
    finished = true;
  } finally {
    // Stopped early (the reader gave up or the consumer broke off): let the input release its file handle.
    if (!finished) await rest.return?.();
  }
}

function toBuffer(chunk: Buffer | string | Uint8Array): Buffer {
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

function decodeHead(chunks: readonly Buffer[]): string {
  const bytes = Buffer.concat(chunks);
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return bytes.subarray(2).toString('utf16le');
  return bytes.toString('utf8').replace(/^\uFEFF/, '');
}

function hasCompleteLine(text: string): boolean {
  return /\S[^\r\n]*[\r\n]/.test(text);
}

function isBlank(text: string): boolean {
  return text.trim() === '';
}

/** The delimiter that occurs most often, outside quotes, on the first non-blank line; comma when none does. */
function sniffDelimiter(head: string): Delimiter {
  const counts: Record<Delimiter, number> = { ',': 0, ';': 0, '\t': 0 };
  const text = head.replace(/^\s*[\r\n]/, '');
  let quoted = false;
  for (const char of text) {
    if (char === '"') quoted = !quoted;
    else if (quoted) continue;
    else if (char === '\n' || char === '\r') break;
    else if (char === ',' || char === ';' || char === '\t') counts[char] += 1;
  }
  let best: Delimiter = ',';
  for (const candidate of [';', '\t'] as const) if (counts[candidate] > counts[best]) best = candidate;
  return best;
}

// ---------------------------------------------------------------------------------------------------------------
// Header

function readHeader(cells: readonly string[], source: string, line: number): Header {
  const labels = trimTrailingEmpty(cells.map((cell) => cell.trim()));
  const where = `${source} line ${line}`;
  const columnByKey = new Map<string, number>();
  const roles: Record<Role, number> = { email: -1, name: -1, firstName: -1, lastName: -1 };
  const attributes: { index: number; key: string }[] = [];

  labels.forEach((label, index) => {
    if (label === '') {
      throw new MailroomError('INVALID_INPUT', `${where}: column ${index + 1} of the header has no name (name it or delete the column)`);
    }
    const role = ROLE_BY_HEADER.get(label.normalize('NFKC').toLowerCase().replace(/[\s_-]+/g, ''));
    const key = role ?? toAttributeKey(label);
    if (key === '') {
      throw new MailroomError(
        'INVALID_INPUT',
        `${where}: column ${index + 1} ${quote(label)} has no letters or digits to name an attribute by (rename it, e.g. "company")`,
      );
    }
    const earlier = columnByKey.get(key);
    if (earlier !== undefined) {
      const meaning = role === undefined ? `the attribute "${key}"` : describeRole(role);
      throw new MailroomError(
        'INVALID_INPUT',
        `${where}: columns ${earlier + 1} ${quote(labels[earlier])} and ${index + 1} ${quote(label)} both mean ${meaning}; remove or rename one`,
      );
    }
    columnByKey.set(key, index);
    if (role === undefined) attributes.push({ index, key });
    else roles[role] = index;
  });

  if (roles.email < 0) {
    const shown = labels.slice(0, 12).map((label) => quote(label, 40));
    if (labels.length > shown.length) shown.push('…');
    throw new MailroomError(
      'INVALID_INPUT',
      `${where}: no email column in the header (found: ${shown.length > 0 ? shown.join(', ') : 'nothing'})`,
    );
  }
  return { width: labels.length, labels, ...roles, attributes };
}

function describeRole(role: Role): string {
  return { email: 'the email address', name: 'the full name', firstName: 'the first name', lastName: 'the last name' }[role];
}

/** `Company Name` → `company_name`, `CompanyName` → `company_name`, `Société` → `societe`. */
function toAttributeKey(label: string): string {
  return label
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

function trimTrailingEmpty(cells: string[]): string[] {
  let end = cells.length;
  while (end > 0 && cells[end - 1] === '') end -= 1;
  return end === cells.length ? cells : cells.slice(0, end);
}

// ---------------------------------------------------------------------------------------------------------------
// Rows

/** The result for one data row, or null for a row whose cells are all empty. Trims `cells` in place. */
function checkRow(
  cells: string[],
  header: Header,
  line: number,
  delimiter: Delimiter,
  firstLineByEmail: Map<string, number> | null,
): CsvRowResult | null {
  // csv-parse trims unquoted values only; quoted ones ("  bob@x.com ") are trimmed here.
  let width = 0;
  for (let index = 0; index < cells.length; index += 1) {
    const value = (cells[index] ?? '').trim();
    cells[index] = value;
    if (value !== '') width = index + 1;
  }
  if (width === 0) return null;
  if (width > header.width) {
    return {
      line,
      ok: false,
      reason:
        `has ${width} values but the header has ${header.width} columns ` +
        `(is there an unquoted ${DELIMITER_NAMES[delimiter]} inside a value?)`,
    };
  }

  const rawEmail = cellAt(cells, header.email);
  if (rawEmail === '') return { line, ok: false, reason: 'has no email address' };
  const email = normalizeEmail(rawEmail);
  const emailProblem = checkEmail(email);
  if (emailProblem !== null) return { line, ok: false, reason: emailProblem, value: quote(rawEmail) };

  const nameCell = cellAt(cells, header.name).normalize('NFC');
  const firstCell = cellAt(cells, header.firstName).normalize('NFC');
  const lastCell = cellAt(cells, header.lastName).normalize('NFC');
  for (const [index, value] of [
    [header.name, nameCell],
    [header.firstName, firstCell],
    [header.lastName, lastCell],
  ] as const) {
    const problem = checkText(value, MAX_NAME_LENGTH, true);
    if (problem !== null) return { line, ok: false, reason: inColumn(header, index, problem), value: quote(value) };
  }

  const attributes: Record<string, string> = {};
  for (const { index, key } of header.attributes) {
    const value = cellAt(cells, index);
    if (value === '') continue;
    const problem = checkText(value, MAX_ATTRIBUTE_LENGTH, false);
    if (problem !== null) return { line, ok: false, reason: inColumn(header, index, problem), value: quote(value) };
    attributes[key] = value;
  }

  let firstName = firstCell;
  let lastName = lastCell;
  if (firstName === '' && lastName === '' && nameCell !== '') {
    const space = nameCell.search(/\s/);
    firstName = space < 0 ? nameCell : nameCell.slice(0, space);
    lastName = space < 0 ? '' : nameCell.slice(space).trim();
  }
  const name = nameCell !== '' ? nameCell : firstName === '' || lastName === '' ? firstName + lastName : `${firstName} ${lastName}`;
  if (countCharacters(name, MAX_NAME_LENGTH) > MAX_NAME_LENGTH) {
    return { line, ok: false, reason: `has a first and last name longer than ${MAX_NAME_LENGTH} characters together`, value: quote(name) };
  }

  if (firstLineByEmail === null) return { line, ok: true, row: { email, name, firstName, lastName, attributes }, address: rawEmail };
  const firstLine = firstLineByEmail.get(email);
  if (firstLine !== undefined) return { line, ok: false, reason: `duplicates line ${firstLine}`, value: quote(rawEmail) };
  firstLineByEmail.set(email, line);

  return { line, ok: true, row: { email, name, firstName, lastName, attributes } };
}

function cellAt(cells: readonly string[], index: number): string {
  return index < 0 ? '' : (cells[index] ?? '');
}

/** Why a name (`isName`) or attribute value cannot be stored, or null. Tabs are allowed. */
function checkText(value: string, maxLength: number, isName: boolean): string | null {
  if (SUSPICIOUS.test(value)) {
    if (value.includes(REPLACEMENT_CHARACTER)) return 'is not valid UTF-8 (save the file as "CSV UTF-8")';
    // Line breaks are refused in attributes too: they may be interpolated into a subject line.
    if (LINE_BREAK.test(value)) return `contains a line break${isName ? ' (names are used in email headers)' : ''}`;
    if (CONTROL.test(value)) return 'contains control characters';
  }
  if (countCharacters(value, maxLength) > maxLength) return `is longer than ${maxLength} characters`;
  return null;
}

function inColumn(header: Header, index: number, problem: string): string {
  return `in column ${quote(header.labels[index] ?? '', 40)} ${problem}`;
}

/** Unicode code points, without walking the string when its UTF-16 length is already within `max`. */
function countCharacters(value: string, max: number): number {
  if (value.length <= max) return value.length;
  let count = 0;
  for (const _ of value) count += 1;
  return count;
}

function countLineBreaks(cells: readonly string[]): number {
  let count = 0;
  for (const cell of cells) {
    if (!cell.includes('\n') && !cell.includes('\r')) continue;
    count += cell.match(/\r\n|\r|\n/g)?.length ?? 0;
  }
  return count;
}

// ---------------------------------------------------------------------------------------------------------------
// Errors

function emptyFile(source: string): MailroomError {
  return new MailroomError('INVALID_INPUT', `${source} is empty: expected a header line such as "email,first_name,last_name"`);
}

function readFailure(source: string, error: unknown): MailroomError {
  if (isMailroomError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new MailroomError('INVALID_INPUT', `${source} could not be read: ${message}`, [], { cause: error });
}

function explainCsvError(error: CsvError, delimiter: Delimiter): string {
  const detail = `(csv-parse: ${error.message})`;
  switch (error.code) {
    case 'CSV_MAX_RECORD_SIZE':
      return `a row is larger than ${MAX_RECORD_BYTES / 1024 / 1024} MiB, probably because a quote is never closed; nothing after it was read ${detail}`;
    case 'CSV_INVALID_CLOSING_QUOTE':
    case 'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE':
      return (
        `a quoted value is followed by other characters before the next ${DELIMITER_NAMES[delimiter]}; ` +
        `quote the whole value and double the quotes inside it (""); nothing after it was read ${detail}`
      );
    default:
      return `is not valid CSV; nothing after it was read ${detail}`;
  }
}
