/** Tests for the streaming subscribers CSV reader: hostile files, line numbers, header mapping and validation. */

import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MailroomError } from '../src/core/errors.ts';
import { formatRejection, readSubscriberCsv } from '../src/subscribers/csv-rows.ts';
import type { CsvRowResult, SubscriberRow } from '../src/subscribers/csv-rows.ts';

const SOURCE = 'subscribers.csv';

/** Feeds `content` in chunks of `chunkSize` bytes (0 = one chunk), as Buffers. */
async function* chunksOf(content: string | Buffer, chunkSize = 0): AsyncGenerator<Buffer> {
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  if (chunkSize <= 0) {
    yield bytes;
    return;
  }
  for (let offset = 0; offset < bytes.length; offset += chunkSize) yield bytes.subarray(offset, offset + chunkSize);
}

async function read(content: string | Buffer, chunkSize = 0): Promise<CsvRowResult[]> {
  const results: CsvRowResult[] = [];
  for await (const result of readSubscriberCsv(chunksOf(content, chunkSize), SOURCE)) results.push(result);
  return results;
}

/** Each result as one string: `2 ok bob@x.com` or the formatted rejection. */
async function summarize(content: string | Buffer, chunkSize = 0): Promise<string[]> {
  return (await read(content, chunkSize)).map((result) =>
    result.ok ? `${result.line} ok ${result.row.email}` : formatRejection(SOURCE, result),
  );
}

async function rows(content: string | Buffer): Promise<(SubscriberRow & { line: number })[]> {
  return (await read(content)).map((result) => {
    if (!result.ok) throw new Error(`unexpected rejection: ${formatRejection(SOURCE, result)}`);
    return { line: result.line, ...result.row };
  });
}

async function readError(content: string | Buffer): Promise<{ error: MailroomError; before: CsvRowResult[] }> {
  const before: CsvRowResult[] = [];
  try {
    for await (const result of readSubscriberCsv(chunksOf(content), SOURCE)) before.push(result);
  } catch (error) {
    expect(error).toBeInstanceOf(MailroomError);
    return { error: error as MailroomError, before };
  }
  throw new Error('expected readSubscriberCsv to throw');
}

describe('readSubscriberCsv: encodings, line endings and line numbers', () => {
  it('reads a UTF-8 file with a BOM and CRLF line endings', async () => {
    const csv = '\uFEFFemail,first_name,last_name\r\nbob@example.com,Bob,Smith\r\nann@example.com,Ann,Lee\r\n';
    expect(await rows(csv)).toEqual([
      { line: 2, email: 'bob@example.com', name: 'Bob Smith', firstName: 'Bob', lastName: 'Smith', attributes: {} },
      { line: 3, email: 'ann@example.com', name: 'Ann Lee', firstName: 'Ann', lastName: 'Lee', attributes: {} },
    ]);
  });

  it('does not take the BOM into the first header name', async () => {
    // Without BOM handling the header would be "\uFEFFemail" and there would be no email column.
    expect(await summarize('\uFEFFemail\nbob@example.com\n')).toEqual(['2 ok bob@example.com']);
  });

  it('gives the line a record starts on after values with quoted line breaks (LF, CRLF and CR)', async () => {
    const csv = [
      'email,name,notes', // 1
      'a@example.com,A,', // 2
      'b@example.com,B,"two\nlines"', // 3-4
      'c@example.com,C,', // 5
      'd@example.com,D,"three\r\nlines\r\nhere"', // 6-8
      'e@example.com,"E,\rE",', // 9-10
      'f@example.com,F,', // 11
    ].join('\r\n');
    expect(await summarize(`${csv}\r\n`)).toEqual([
      '2 ok a@example.com',
      'subscribers.csv line 3: "two\\nlines" in column "notes" contains a line break',
      '5 ok c@example.com',
      'subscribers.csv line 6: "three\\r\\nlines\\r\\nhere" in column "notes" contains a line break',
      'subscribers.csv line 9: "E,\\rE" in column "name" contains a line break (names are used in email headers)',
      '11 ok f@example.com',
    ]);
  });

  it('counts blank lines (before the header, between rows, whitespace-only, at the end) in line numbers', async () => {
    const csv = '\n\r\nemail\n\na@example.com\n   \n\t\nb@example.com\n\n\n';
    expect(await summarize(csv)).toEqual(['5 ok a@example.com', '8 ok b@example.com']);
  });

  it('accepts mixed line endings in one file', async () => {
    expect(await summarize('email\r\na@example.com\nb@example.com\rc@example.com\r\n')).toEqual([
      '2 ok a@example.com',
      '3 ok b@example.com',
      '4 ok c@example.com',
    ]);
  });

  it('gives the same results whatever the chunk boundaries (even inside the BOM and multi-byte characters)', async () => {
    const csv =
      '\uFEFFemail;Vorname;Nachname;Firma\r\n' +
      'jürgen@example.de;Jürgen;Müller;"Müller; Söhne"\r\n' +
      '"zoë@example.com";Zoë;"Ünal\r\nX";\r\n' +
      'ZOE@EXAMPLE.COM;Zoë;Ünal;😀 GmbH\r\n';
    const whole = await summarize(csv);
    expect(await summarize(csv, 1)).toEqual(whole);
    expect(await summarize(csv, 7)).toEqual(whole);
  });

  it('reads UTF-16LE with a BOM, tab-delimited (Excel "Unicode Text")', async () => {
    const body = Buffer.from('Email\tFirst Name\r\nbob@example.com\tJosé\r\n', 'utf16le');
    expect(await rows(Buffer.concat([Buffer.from([0xff, 0xfe]), body]))).toEqual([
      { line: 2, email: 'bob@example.com', name: 'José', firstName: 'José', lastName: '', attributes: {} },
    ]);
  });

  it('rejects rows that are not UTF-8 (e.g. a Windows-1252 export) instead of storing mojibake', async () => {
    const latin1 = Buffer.from('email,name\nbob@example.com,Jos\xe9\nann@example.com,Ann\n', 'latin1');
    expect(await summarize(latin1)).toEqual([
      'subscribers.csv line 2: "Jos\uFFFD" in column "name" is not valid UTF-8 (save the file as "CSV UTF-8")',
      '3 ok ann@example.com',
    ]);
  });
});

describe('readSubscriberCsv: delimiters and quoting', () => {
  it('keeps quoted commas and quoted quotes inside values', async () => {
    const csv = 'email,name,company\n"bob@example.com","Smith, Bob","Smith, Jones & ""Co"""\n';
    expect(await rows(csv)).toEqual([
      {
        line: 2,
        email: 'bob@example.com',
        name: 'Smith, Bob',
        firstName: 'Smith,',
        lastName: 'Bob',
        attributes: { company: 'Smith, Jones & "Co"' },
      },
    ]);
  });

  it('sniffs a semicolon-delimited file (European Excel) with commas in values', async () => {
    const csv = 'E-Mail;Vorname;Last Name;Stadt\nbob@example.de;Bob;Smith;Frankfurt, Main\n';
    expect(await rows(csv)).toEqual([
      {
        line: 2,
        email: 'bob@example.de',
        name: 'Smith',
        firstName: '',
        lastName: 'Smith',
        attributes: { vorname: 'Bob', stadt: 'Frankfurt, Main' },
      },
    ]);
  });

  it('sniffs a tab-delimited file', async () => {
    expect(await summarize('email\tfirst name\tcity\nbob@example.com\tBob\tParis, TX\n')).toEqual(['2 ok bob@example.com']);
  });

  it('ignores delimiters inside quoted header names when sniffing', async () => {
    // Counting every character would find two commas and two semicolons, and pick the comma.
    const csv = 'email;"Name, full";"City, State"\nbob@example.com;Bob;"Austin, TX"\n';
    expect(await rows(csv)).toEqual([
      {
        line: 2,
        email: 'bob@example.com',
        name: '',
        firstName: '',
        lastName: '',
        attributes: { name_full: 'Bob', city_state: 'Austin, TX' },
      },
    ]);
  });

  it('trims cells, quoted or not, and keeps quotes inside unquoted values as data', async () => {
    const csv = 'email,name\n  "  Bob@Example.com  "  ,  Bob "The Builder" Smith  \n';
    expect(await rows(csv)).toEqual([
      {
        line: 2,
        email: 'bob@example.com',
        name: 'Bob "The Builder" Smith',
        firstName: 'Bob',
        lastName: '"The Builder" Smith',
        attributes: {},
      },
    ]);
  });

  it('rejects a row with more values than the header has columns, and reads missing cells as empty', async () => {
    const csv = 'email,first_name,last_name\na@example.com,Ann,Lee,extra\nb@example.com,Bob\nc@example.com,Cy,Young,,\n';
    expect(await summarize(csv)).toEqual([
      'subscribers.csv line 2: has 4 values but the header has 3 columns (is there an unquoted comma inside a value?)',
      '3 ok b@example.com',
      '4 ok c@example.com',
    ]);
    const [, bob] = await read(csv);
    expect(bob).toMatchObject({ ok: true, row: { firstName: 'Bob', lastName: '', name: 'Bob' } });
  });

  it('skips rows whose cells are all empty (trailing ",,," lines from spreadsheets)', async () => {
    expect(await summarize('email,name\n,\na@example.com,A\n , \n')).toEqual(['3 ok a@example.com']);
  });

  it('reports an unclosed quote at the end as one rejected row, after every row before it', async () => {
    const good = Array.from({ length: 100 }, (_, i) => `user${i}@example.com,User ${i}`);
    const csv = ['email,name', ...good, '"broken@example.com,Broken', 'after@example.com,After', ''].join('\n');
    const results = await read(csv);
    expect(results).toHaveLength(101);
    expect(results.slice(0, 100).every((result) => result.ok)).toBe(true);
    const last = results[100];
    expect(last).toMatchObject({ ok: false, line: 102 });
    expect(last?.ok === false && last.reason).toMatch(
      /^has a quote that is never closed, so everything from this line to the end of the file was read as one value and not imported \(csv-parse: Quote Not Closed/,
    );
  });

  it('throws, naming the file and line, on a syntax error the parser cannot recover from', async () => {
    const csv = 'email,name\na@example.com,A\n"b@example.com"x,B\nc@example.com,C\n';
    const { error, before } = await readError(csv);
    expect(before.map((result) => result.line)).toEqual([2]);
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toMatch(
      /^subscribers\.csv line 3: a quoted value is followed by other characters before the next comma; .*\(csv-parse: /,
    );
  });

  it('throws instead of buffering without bound when a stray quote swallows a huge file', async () => {
    const rowsAfter = Array.from({ length: 40_000 }, (_, i) => `user${i}@example.com,User number ${i}`);
    const csv = ['email,name', 'a@example.com,A', 'b@example.com,"B', ...rowsAfter, ''].join('\n');
    const { error, before } = await readError(csv);
    expect(before).toHaveLength(1);
    expect(error.message).toMatch(/^subscribers\.csv line 3: a row is larger than 1 MiB, probably because a quote is never closed/);
  });
});

describe('readSubscriberCsv: header', () => {
  it('maps email, name, first and last name headers case- and punctuation-insensitively', async () => {
    const variants: [string, Partial<SubscriberRow>][] = [
      ['E-Mail,Full Name', { name: 'Bob Smith', firstName: 'Bob', lastName: 'Smith' }],
      ['Email Address,FullName', { name: 'Bob Smith' }],
      ['email_address,Given Name,Family Name', { firstName: 'Bob', lastName: 'Smith', name: 'Bob Smith' }],
      ['MAIL,firstname,SURNAME', { firstName: 'Bob', lastName: 'Smith' }],
      ['e_mail,First-Name,Last_Name', { firstName: 'Bob', lastName: 'Smith' }],
    ];
    for (const [header, expected] of variants) {
      const cells = header.split(',').length === 2 ? 'bob@example.com,Bob Smith' : 'bob@example.com,Bob,Smith';
      const [row] = await rows(`${header}\n${cells}\n`);
      expect(row, header).toMatchObject({ email: 'bob@example.com', attributes: {}, ...expected });
    }
  });

  it('turns every other column into a snake_case ASCII attribute and leaves empty cells out', async () => {
    const csv = 'email,Company Name,CompanyID,Société,  Plan  Tier ,signup-date\nbob@example.com,Acme,42,,pro,2024-01-02\n';
    const [row] = await rows(csv);
    expect(row?.attributes).toEqual({ company_name: 'Acme', company_id: '42', plan_tier: 'pro', signup_date: '2024-01-02' });
  });

  it('throws before any row when there is no email column', async () => {
    const { error, before } = await readError('a,b\nbob@example.com,x\n');
    expect(before).toEqual([]);
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toBe('subscribers.csv line 1: no email column in the header (found: "a", "b")');
  });

  it('throws on duplicate header names, including two spellings of the same field', async () => {
    expect((await readError('email,E-Mail\nbob@example.com,x\n')).error.message).toBe(
      'subscribers.csv line 1: columns 1 "email" and 2 "E-Mail" both mean the email address; remove or rename one',
    );
    expect((await readError('email,Company Name,company_name\n')).error.message).toBe(
      'subscribers.csv line 1: columns 2 "Company Name" and 3 "company_name" both mean the attribute "company_name"; remove or rename one',
    );
    expect((await readError('email,name,Full Name\n')).error.message).toMatch(/both mean the full name/);
  });

  it('throws on an empty header cell, and on a header no attribute name can be made from', async () => {
    expect((await readError('email,,name\nbob@example.com,x,y\n')).error.message).toBe(
      'subscribers.csv line 1: column 2 of the header has no name (name it or delete the column)',
    );
    expect((await readError('email,???\n')).error.message).toMatch(/^subscribers\.csv line 1: column 2 "\?\?\?" has no letters or digits/);
  });

  it('ignores empty header cells at the end of the header (spreadsheet exports)', async () => {
    expect(await summarize('email,name,,\nbob@example.com,Bob,,\n')).toEqual(['2 ok bob@example.com']);
  });

  it('reads a file with only a header as no rows', async () => {
    expect(await read('email,name\n')).toEqual([]);
    expect(await read('email,name')).toEqual([]);
    expect(await read('\uFEFFemail,name\r\n\r\n')).toEqual([]);
  });

  it('throws a clear error for an empty file or one with only blank lines', async () => {
    for (const content of ['', '\uFEFF', '\n\n', '  \r\n \r\n']) {
      const { error } = await readError(content);
      expect(error.message).toBe('subscribers.csv is empty: expected a header line such as "email,first_name,last_name"');
    }
  });
});

describe('readSubscriberCsv: row validation', () => {
  it('rejects invalid addresses with the reason and the value as written', async () => {
    const csv = 'email,name\nbob@,B\n@x.com,X\na b@x.com,AB\nx@y,XY\n,No Email\ngood@example.com,G\n';
    expect(await summarize(csv)).toEqual([
      'subscribers.csv line 2: "bob@" is not an email address',
      'subscribers.csv line 3: "@x.com" is not an email address',
      'subscribers.csv line 4: "a b@x.com" contains spaces',
      'subscribers.csv line 5: "x@y" domain has no dot',
      'subscribers.csv line 6: has no email address',
      '7 ok good@example.com',
    ]);
    expect((await read(csv))[0]).toEqual({ line: 2, ok: false, reason: 'is not an email address', value: '"bob@"' });
  });

  it('normalizes uppercase and bracketed addresses and IDN domains', async () => {
    expect(await summarize('email\nBOB@EXAMPLE.COM\n<Ann@Example.com>\nuser@Bücher.de\n')).toEqual([
      '2 ok bob@example.com',
      '3 ok ann@example.com',
      '4 ok user@xn--bcher-kva.de',
    ]);
  });

  it('rejects duplicates, including differently cased ones, pointing at the first line', async () => {
    const csv = 'email,name\nbob@example.com,Bob\nann@example.com,Ann\nBOB@Example.com,Bobby\n<bob@example.com>,Robert\n';
    expect(await summarize(csv)).toEqual([
      '2 ok bob@example.com',
      '3 ok ann@example.com',
      'subscribers.csv line 4: "BOB@Example.com" duplicates line 2',
      'subscribers.csv line 5: "<bob@example.com>" duplicates line 2',
    ]);
  });

  it('does not count a rejected row as the first occurrence of its address', async () => {
    const csv = 'email,name\nbob@example.com,"Bob\nBcc: x@evil.com"\nbob@example.com,Bob\n';
    expect(await summarize(csv)).toEqual([
      'subscribers.csv line 2: "Bob\\nBcc: x@evil.com" in column "name" contains a line break (names are used in email headers)',
      '4 ok bob@example.com',
    ]);
  });

  it('rejects CR/LF and control characters in names (header injection) but allows tabs', async () => {
    const csv = [
      'email,first_name,last_name',
      'a@example.com,"Eve\r\nBcc: victim@example.com",X',
      'b@example.com,Eve,"X\rY"',
      'c@example.com,Ev\u0007e,X',
      'd@example.com,Eve\u2028Bcc,X',
      'e@example.com,"Eve\tMarie",X',
      '',
    ].join('\n');
    expect(await summarize(csv)).toEqual([
      'subscribers.csv line 2: "Eve\\r\\nBcc: victim@example.com" in column "first_name" contains a line break (names are used in email headers)',
      'subscribers.csv line 4: "X\\rY" in column "last_name" contains a line break (names are used in email headers)',
      'subscribers.csv line 6: "Ev\\u0007e" in column "first_name" contains control characters',
      'subscribers.csv line 7: "Eve\u2028Bcc" in column "first_name" contains a line break (names are used in email headers)',
      '8 ok e@example.com',
    ]);
  });

  it('rejects control characters in attributes', async () => {
    expect(await summarize('email,company\nbob@example.com,Ac\u0000me\n')).toEqual([
      'subscribers.csv line 2: "Ac\\u0000me" in column "company" contains control characters',
    ]);
  });

  it('keeps unicode names, normalized to NFC', async () => {
    const csv = 'email,name\nzoe@example.com,Zoe\u0308 Ångström-Łukasz 李小龍 😀\n';
    const [row] = await rows(csv);
    expect(row).toMatchObject({ name: 'Zoë Ångström-Łukasz 李小龍 😀', firstName: 'Zoë', lastName: 'Ångström-Łukasz 李小龍 😀' });
  });

  it('derives the name from first and last name, and first and last name from the name', async () => {
    const csv = 'email,name,first_name,last_name\na@example.com,,Ann,Lee\nb@example.com,Bob  van der Berg,,\nc@example.com,Cher,,\nd@example.com,Dr. Dee,Dee,\n';
    expect((await rows(csv)).map(({ name, firstName, lastName }) => [name, firstName, lastName])).toEqual([
      ['Ann Lee', 'Ann', 'Lee'],
      ['Bob  van der Berg', 'Bob', 'van der Berg'],
      ['Cher', 'Cher', ''],
      ['Dr. Dee', 'Dee', ''],
    ]);
  });

  it('limits names to 200 characters and attribute values to 1000', async () => {
    const csv = [
      'email,name,first_name,last_name,bio',
      `a@example.com,${'n'.repeat(200)},,,${'b'.repeat(1000)}`,
      `b@example.com,${'n'.repeat(201)},,,`,
      `c@example.com,,,,${'b'.repeat(1001)}`,
      `d@example.com,,${'f'.repeat(150)},${'l'.repeat(150)},`,
      `e@example.com,${'😀'.repeat(200)},,,`,
      '',
    ].join('\n');
    expect((await read(csv)).map((result) => (result.ok ? `${result.line} ok` : `${result.line} ${result.reason}`))).toEqual([
      '2 ok',
      '3 in column "name" is longer than 200 characters',
      '4 in column "bio" is longer than 1000 characters',
      '5 has a first and last name longer than 200 characters together',
      '6 ok',
    ]);
  });

  it('keeps formula-like values as data (nothing is exported to spreadsheets)', async () => {
    const csv = 'email,name,note,phone\nbob@example.com,=cmd|calc,"=HYPERLINK(""http://x"")",+1 555 0100\n';
    const [row] = await rows(csv);
    expect(row).toMatchObject({ name: '=cmd|calc', attributes: { note: '=HYPERLINK("http://x")', phone: '+1 555 0100' } });
  });

  it('formats a rejection with and without a value', () => {
    expect(formatRejection('subscribers.csv', { line: 14, reason: 'is not an email address', value: '"bob@"' })).toBe(
      'subscribers.csv line 14: "bob@" is not an email address',
    );
    expect(formatRejection('x.csv', { line: 3, reason: 'has no email address' })).toBe('x.csv line 3: has no email address');
  });
});

describe('readSubscriberCsv: streams', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mailroom-csv-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a file stream in small chunks, through backpressure', async () => {
    const path = join(dir, 'many.csv');
    const out = createWriteStream(path);
    out.write('email,first_name,last_name,company\n');
    for (let i = 0; i < 20_000; i += 1) {
      if (!out.write(`user${i}@example.com,User,"Number ${i}","Co, ${i % 7}"\n`)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');

    let count = 0;
    let lastLine = 0;
    for await (const result of readSubscriberCsv(createReadStream(path, { highWaterMark: 1024 }), 'many.csv')) {
      expect(result.ok).toBe(true);
      expect(result.line).toBe(lastLine === 0 ? 2 : lastLine + 1);
      lastLine = result.line;
      count += 1;
    }
    expect(count).toBe(20_000);
  });

  it('closes the input stream when the consumer stops early', async () => {
    const path = join(dir, 'early.csv');
    await writeFile(path, `email\n${Array.from({ length: 50_000 }, (_, i) => `u${i}@example.com`).join('\n')}\n`);
    const input = createReadStream(path, { highWaterMark: 4096 });
    for await (const result of readSubscriberCsv(input, 'early.csv')) {
      if (result.line === 10) break;
    }
    // Closing goes through the input's async iterator, so it may wait for a read already in flight.
    await vi.waitFor(() => expect(input.destroyed).toBe(true), { timeout: 2000 });
  });

  it('turns an input error into a MailroomError naming the file', async () => {
    async function* failing(): AsyncGenerator<string> {
      yield 'email\na@example.com\n';
      throw new Error('disk on fire');
    }
    const results: CsvRowResult[] = [];
    const error = await (async () => {
      try {
        for await (const result of readSubscriberCsv(failing(), SOURCE)) results.push(result);
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(MailroomError);
    expect((error as MailroomError).message).toBe('subscribers.csv could not be read: disk on fire');
  });

  it('reports a missing file as a MailroomError', async () => {
    const input = createReadStream(join(dir, 'missing.csv'));
    await expect(readSubscriberCsv(input, 'missing.csv').next()).rejects.toThrow(/^missing\.csv could not be read: ENOENT/);
  });

  it('accepts string chunks and a Readable of strings', async () => {
    const results: CsvRowResult[] = [];
    for await (const result of readSubscriberCsv(Readable.from(['email\nA@', 'Example.com\n']), SOURCE)) results.push(result);
    expect(results).toEqual([
      { line: 2, ok: true, row: { email: 'a@example.com', name: '', firstName: '', lastName: '', attributes: {} } },
    ]);
  });
});
