/**
 * Subscriber CSV imports in two phases, so a large file never holds a lock a running campaign needs.
 *
 * Phase 1 (staging): the parsed, validated rows are streamed into a staging table of the import's own, a TEMP table
 * on one connection. Postgres: one `COPY … FROM STDIN` (pg-copy-streams) fed in chunks with back-pressure. SQLite:
 * multi-row INSERTs in short transactions of a chunk each; a TEMP table lives in the connection's own temp database,
 * so filling it never takes the main database's write lock. The reader's rejections are kept with their lines.
 *
 * Then, outside any write transaction: repeats inside the file are found in SQL (every row after the first with the
 * same address is rejected as "duplicates line N", with the address as the file wrote it) and dropped from the
 * staging table. With `strict`, any rejection ends the import here: nothing was written.
 *
 * Phase 2 (apply): a few set-based statements in ONE write transaction (the user sees all or nothing): suppressions
 * marked, known people classified, new people inserted (`INSERT … SELECT`, file order, so ids follow the file),
 * changed profiles updated, memberships inserted; the report's counts come from the staging table the statements
 * marked. The rules are those of one `subscribers add` (AudienceStore.applySubscriberRow): blank cells never erase, a
 * status or an unsubscribe is never undone, suppressed addresses without a row are kept out.
 *
 * Postgres: the apply takes row locks only on the rows it writes (new subscribers and memberships, changed profiles)
 * and no table locks, so claims and outcome writes on `sends` go on. Its INSERTs are plain ones (ON CONFLICT's
 * speculative insertion costs twice as much): a subscriber or membership another process adds meanwhile makes it fail
 * with a unique violation, and it runs again from the same staged rows (APPLY_ATTEMPTS times at most). SQLite: BEGIN IMMEDIATE is held for the apply
 * only, not while the file is read and parsed.
 */
import { randomBytes } from 'node:crypto';
import v8 from 'node:v8';
import vm from 'node:vm';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Kysely, PostgresDialect, sql, type RawBuilder } from 'kysely';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { quote } from '../core/errors.ts';
import { hashEmail } from './suppression.ts';
import { EMPTY_IMPORT_COUNTS, type ImportCounts } from '../core/import-report.ts';
import type { DatabaseHandle } from './database.ts';
import { isPostgres } from './dialect.ts';
import type { Database } from './schema.ts';
import type { ImportRejection, ImportReport, ImportRowResult, ImportRows, SubscriberFields } from './store-types.ts';
import { refreshStatisticsAfterBulkWrite } from './statistics.ts';
import { writeTransaction } from './write-transaction.ts';

export interface SubscriberImportOptions {
  /** Where the rows come from, recorded as the consent source `import:<source>`. */
  readonly source: string;
  /** Any rejected row: nothing is written. */
  readonly strict?: boolean;
  /** Called after each row read (rejected rows included), with the number read so far. */
  readonly onRow?: (rowsRead: number) => void;
  /** The time written on new rows (ISO-8601), asked for when the apply starts. */
  readonly now: () => string;
  /**
   * Test and observability hooks, awaited. `onStaged`: inside the first chunk's staging transaction, after its rows are
   * written (SQLite, and Postgres without its pool; the COPY path does not call it). `onApply`: inside the apply
   * transaction (each attempt), `classified` once the staged rows know who is known and who is new, `started` after
   * the new people are inserted. tests/store-import.test.ts writes from other connections meanwhile.
   */
  readonly onStaged?: () => Promise<void>;
  readonly onApply?: (phase: ApplyPhase) => Promise<void>;
}

/** MAILROOM_IMPORT_TRACE=1: each phase's end on stderr, seconds since the module loaded, with RSS and heap (scripts/bench-import.ts). */
const TRACE = process.env['MAILROOM_IMPORT_TRACE'] === '1';
const t0 = performance.now();
function trace(what: string): void {
  if (TRACE) process.stderr.write(`[import] ${((performance.now() - t0) / 1000).toFixed(1)}s ${what} rss=${Math.round(process.memoryUsage().rss / 1e6)}MB heap=${Math.round(process.memoryUsage().heapUsed / 1e6)}MB\n`);
}

/**
 * A full garbage collection every GC_EVERY_ROWS rows read. Without it V8 lets the reader's short-lived garbage grow the
 * heap to 100-130 MB before collecting it (measured: peak RSS 243-279 MB for 1,000,000 rows through the CLI, whose
 * own modules take 150 MB); with it the heap stays near 22 MB and the peak at about 210 MB, for about 20 collections of
 * a few tens of ms per million rows. `gc` is exposed for this call only (a V8 flag set at run time).
 */
const GC_EVERY_ROWS = 50_000;
let gcFn: (() => void) | null = null;
function collectGarbage(): void {
  if (!gcFn) {
    v8.setFlagsFromString('--expose-gc');
    gcFn = vm.runInNewContext('gc') as () => void;
  }
  gcFn();
}

/** Rows per chunk written to the staging table (one COPY write or one SQLite transaction). */
const CHUNK_ROWS = 1000;
/** How many times the apply runs when other processes keep adding the same addresses in between. */
const APPLY_ATTEMPTS = 5;
/** Rows per multi-row INSERT on SQLite (9 values each, well under SQLite's 32,766 bound parameters). */
const INSERT_ROWS = 500;

const STAGED_COLUMNS = ['line', 'email', 'address', 'email_hash', 'name', 'first_name', 'last_name', 'attributes'] as const;

interface StagedRow {
  readonly line: number;
  readonly address: string;
  readonly fields: SubscriberFields;
}

/** Imports `rows` into list `listId` (see the module comment). */
export async function importSubscribers(db: Kysely<Database>, handle: DatabaseHandle | null, listId: number, rows: ImportRows, options: SubscriberImportOptions): Promise<ImportReport> {
  // Repeats are found in SQL: the reader need not keep an index of every address (about 75 MB per million rows).
  rows.deferDuplicates?.();
  const table = `mailroom_import_${randomBytes(6).toString('hex')}`;
  if (isPostgres(db) && handle?.pgPool) {
    const client = await handle.pgPool.connect();
    const conn = onOneClient(client);
    let failed: unknown = null;
    try {
      return await runImport(conn, table, listId, rows, options, (read) => copyRows(client, table, read));
    } catch (error) {
      failed = error;
      throw error;
    } finally {
      // A failed import's connection is closed, its TEMP table (and any COPY left half-way) with it.
      if (failed === null) await sql`DROP TABLE IF EXISTS ${sql.table(table)}`.execute(conn).catch(() => undefined);
      client.release(failed === null ? undefined : true);
      await conn.destroy();
    }
  }
  if (isPostgres(db)) {
    // Without the pool (a store built on a bare Kysely instance): the same steps on one connection, multi-row INSERTs.
    return db.connection().execute(async (conn) => {
      try {
        return await runImport(conn, table, listId, rows, options, (read) => insertRows(conn, table, read, options.onStaged));
      } finally {
        await sql`DROP TABLE IF EXISTS ${sql.table(table)}`.execute(conn).catch(() => undefined);
      }
    });
  }
  // SQLite: one connection per store; the TEMP table lives on it until dropped.
  try {
    return await runImport(db, table, listId, rows, options, (read) => insertRows(db, table, read, options.onStaged));
  } finally {
    await sql`DROP TABLE IF EXISTS temp.${sql.table(table)}`.execute(db).catch(() => undefined);
  }
}

/** A Kysely instance whose every query runs on `client` (the connection that holds the TEMP table). */
function onOneClient(client: pg.PoolClient): Kysely<Database> {
  return new Kysely<Database>({
    dialect: new PostgresDialect({
      pool: {
        connect: async () => ({ query: client.query.bind(client), release: () => undefined }) as never,
        end: async () => undefined,
      },
    }),
  });
}

type Stage = (read: AsyncIterable<StagedRow>) => Promise<void>;

async function runImport(conn: Kysely<Database>, table: string, listId: number, rows: ImportRows, options: SubscriberImportOptions, stage: Stage): Promise<ImportReport> {
  const T = sql.table(table);
  const pg = isPostgres(conn);
  await sql`CREATE TEMP TABLE ${T} (
      line integer NOT NULL,
      email text NOT NULL,
      address text NOT NULL,
      email_hash text,
      name text NOT NULL,
      first_name text NOT NULL,
      last_name text NOT NULL,
      attributes text NOT NULL,
      suppressed integer NOT NULL DEFAULT 0,
      sub_id integer,
      cur_status text,
      mem_status text,
      profile_changed integer NOT NULL DEFAULT 0,
      joined integer NOT NULL DEFAULT 0)`.execute(conn);

  // Phase 1: stage the accepted rows; keep the reader's rejections.
  const rejected: ImportRejection[] = [];
  let read = 0;
  async function* accepted(): AsyncGenerator<StagedRow> {
    for await (const result of rows as AsyncIterable<ImportRowResult>) {
      read += 1;
      options.onRow?.(read);
      if (read % GC_EVERY_ROWS === 0) collectGarbage();
      if (TRACE && read % 100000 === 0) trace(`read ${read}`);
      if (!result.ok) {
        rejected.push({ line: result.line, reason: result.reason, ...(result.value === undefined ? {} : { value: result.value }) });
        continue;
      }
      yield { line: result.line, address: result.address ?? result.row.email, fields: result.row };
    }
  }
  await stage(accepted());
  trace('staged');

  // SQLite joins by nested loops: an index for the repeats and the joins by address. Postgres hashes; it needs the
  // table's statistics (nothing analyzes a TEMP table by itself).
  if (pg) await sql`ANALYZE ${T}`.execute(conn);
  else await sql`CREATE INDEX ${sql.id(`${table}_email`)} ON ${T} (email, line)`.execute(conn);
  trace('indexed');

  // Repeats inside the file: every row after the first with the same address.
  const { rows: repeats } = await sql<{ line: number; address: string; first: number }>`
    SELECT d.line, d.address, f.first FROM ${T} d
    JOIN (SELECT email, min(line) AS first FROM ${T} GROUP BY email HAVING count(*) > 1) f ON f.email = d.email
    WHERE d.line > f.first
    ORDER BY d.line`.execute(conn);
  const all = mergeByLine(
    rejected,
    repeats.map((r) => ({ line: Number(r.line), reason: `duplicates line ${Number(r.first)}`, value: quote(r.address) })),
  );
  trace('repeats');
  if (options.strict && all.length > 0) return { ...EMPTY_IMPORT_COUNTS, rejected: all, applied: false };
  if (repeats.length > 0) {
    await sql`DELETE FROM ${T} WHERE EXISTS (SELECT 1 FROM ${T} e WHERE e.email = ${T}.email AND e.line < ${T}.line)`.execute(conn);
  }

  // Phase 2: apply in one write transaction (again, from the same staged rows, after a lost race on Postgres).
  let counts: ImportCounts;
  for (let attempt = 1; ; attempt += 1) {
    try {
      counts = await writeTransaction(conn, (trx) => apply(trx, table, listId, `import:${options.source}`, options.now(), options.onApply));
      break;
    } catch (error) {
      if (!pg || !isUniqueViolation(error) || attempt >= APPLY_ATTEMPTS) throw error;
    }
  }
  if (await refreshStatisticsAfterBulkWrite(conn, ['subscribers', 'list_memberships'], counts.addedToList + counts.newPeople + counts.profilesChanged)) trace('analyzed');
  return { ...counts, rejected: all, applied: true };
}

/** Postgres: another transaction added the same subscriber or membership first. */
function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '23505';
}

/** Two line-ordered lists of rejections as one. */
function mergeByLine(a: readonly ImportRejection[], b: readonly ImportRejection[]): ImportRejection[] {
  const out: ImportRejection[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = a[i];
    const y = b[j];
    if (y === undefined || (x !== undefined && x.line <= y.line)) {
      out.push(x as ImportRejection);
      i += 1;
    } else {
      out.push(y);
      j += 1;
    }
  }
  return out;
}

// ------------------------------------------------------------------------------------------------ phase 1

/** Postgres: one COPY fed with chunks of CHUNK_ROWS rows, waiting whenever the connection's buffer is full. */
async function copyRows(client: pg.PoolClient, table: string, read: AsyncIterable<StagedRow>): Promise<void> {
  const copy = client.query(copyFrom(`COPY ${quoteIdent(table)} (${STAGED_COLUMNS.join(', ')}) FROM STDIN`));
  async function* chunks(): AsyncGenerator<string> {
    let chunk: string[] = [];
    for await (const row of read) {
      const f = row.fields;
      // email_hash is computed by Postgres (sha256) when suppressions are checked: \N here.
      chunk.push(`${row.line}\t${copyText(f.email)}\t${copyText(row.address)}\t\\N\t${copyText(f.name)}\t${copyText(f.firstName)}\t${copyText(f.lastName)}\t${copyText(JSON.stringify(f.attributes))}\n`);
      if (chunk.length >= CHUNK_ROWS) {
        yield chunk.join('');
        chunk = [];
      }
    }
    if (chunk.length > 0) yield chunk.join('');
  }
  await pipeline(Readable.from(chunks(), { objectMode: false }), copy);
}

/** A value in COPY's text format: backslash, tab, line feed and carriage return escaped. */
function copyText(value: string): string {
  return /[\\\t\n\r]/.test(value) ? value.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r')) : value;
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** SQLite (and Postgres without its pool): chunks of CHUNK_ROWS rows, each in one short transaction on the TEMP table. */
async function insertRows(db: Kysely<Database>, table: string, read: AsyncIterable<StagedRow>, onStaged?: () => Promise<void>): Promise<void> {
  let first = true;
  const hashed = !isPostgres(db);
  let chunk: StagedRow[] = [];
  const flush = async (): Promise<void> => {
    const rows = chunk;
    chunk = [];
    if (rows.length === 0) return;
    // A TEMP table's transaction takes no lock on the main database (SQLite keeps TEMP in a database of its own).
    await db.connection().execute(async (conn) => {
      await sql`BEGIN`.execute(conn);
      try {
        for (let start = 0; start < rows.length; start += INSERT_ROWS) {
          const values = rows.slice(start, start + INSERT_ROWS).map((r) => {
            const f = r.fields;
            return sql`(${r.line}, ${f.email}, ${r.address}, ${hashed ? hashEmail(f.email) : null}, ${f.name}, ${f.firstName}, ${f.lastName}, ${JSON.stringify(f.attributes)})`;
          });
          await sql`INSERT INTO ${sql.table(table)} (${sql.join(STAGED_COLUMNS.map((c) => sql.id(c)))}) VALUES ${sql.join(values)}`.execute(conn);
        }
        if (first && onStaged) await onStaged();
        first = false;
        await sql`COMMIT`.execute(conn);
      } catch (error) {
        await sql`ROLLBACK`.execute(conn).catch(() => undefined);
        throw error;
      }
    });
  };
  for await (const row of read) {
    chunk.push(row);
    if (chunk.length >= CHUNK_ROWS) await flush();
  }
  await flush();
}

// ------------------------------------------------------------------------------------------------ phase 2

export type ApplyPhase = 'classified' | 'started';

async function apply(trx: Kysely<Database>, table: string, listId: number, consentSource: string, now: string, onApply?: (phase: ApplyPhase) => Promise<void>): Promise<ImportCounts> {
  const T = sql.table(table);
  const pg = isPostgres(trx);
  const list = sql`CAST(${listId} AS integer)`;
  const affected = (result: { numAffectedRows?: bigint }): number => Number(result.numAffectedRows ?? 0n);
  // Sorts and hashes of a million staged rows in memory on the server, for this transaction only.
  if (pg) await sql`SET LOCAL work_mem = '64MB'`.execute(trx);

  // Suppressed addresses (by the hash the suppression list keeps).
  const hash = pg ? sql`encode(sha256(convert_to(st.email, 'UTF8')), 'hex')` : sql`st.email_hash`;
  await sql`UPDATE ${T} AS st SET suppressed = 1 WHERE ${hash} IN (SELECT email_hash FROM suppressions)`.execute(trx);
  trace('suppressed');

  // Known people: their id, status, and whether this row changes their profile. Rows left without sub_id are new
  // people (or suppressed addresses nobody holds a row for, kept out).
  await sql`UPDATE ${T} AS st SET sub_id = s.id, cur_status = s.status,
      profile_changed = CASE WHEN (st.name <> '' AND st.name <> s.name)
        OR (st.first_name <> '' AND st.first_name <> s.first_name)
        OR (st.last_name <> '' AND st.last_name <> s.last_name)
        OR (st.attributes <> '{}' AND ${attributesChange(pg)}) THEN 1 ELSE 0 END
    FROM subscribers s
    WHERE s.email = st.email`.execute(trx);
  trace('classified');
  if (onApply) await onApply('classified');

  // New people, in file order (ids follow the file), each subscribed to the list. A plain INSERT (ON CONFLICT's
  // speculative insertion costs twice as much): an address another process adds after the classification makes it
  // fail with a unique violation, and the caller runs the apply again, which then finds that person known.
  const insertPeople = sql`INSERT INTO subscribers (email, name, first_name, last_name, attributes, status, consent_source, consent_at, created_at, updated_at)
    SELECT st.email, st.name, st.first_name, st.last_name, st.attributes, 'active', ${consentSource}, ${now}, ${now}, ${now}
    FROM ${T} st
    WHERE st.sub_id IS NULL AND st.suppressed = 0
    ORDER BY st.line`;
  const membershipColumns = sql`list_memberships (list_id, subscriber_id, status, created_at, updated_at, consent_source, consent_at)`;
  let newPeople: number;
  if (pg) {
    // One statement: the new ids never leave the server.
    newPeople = affected(
      await sql`WITH ins AS (${insertPeople} RETURNING id)
        INSERT INTO ${membershipColumns}
        SELECT ${list}, ins.id, 'subscribed', ${now}, ${now}, ${consentSource}, ${now} FROM ins ORDER BY ins.id`.execute(trx),
    );
  } else {
    newPeople = affected(await insertPeople.execute(trx));
    await sql`INSERT INTO ${membershipColumns}
      SELECT ${list}, s.id, 'subscribed', ${now}, ${now}, ${consentSource}, ${now}
      FROM ${T} st JOIN subscribers s ON s.email = st.email
      WHERE st.sub_id IS NULL AND st.suppressed = 0
      ORDER BY s.id`.execute(trx);
  }
  trace('new people');
  if (onApply) await onApply('started');

  // Known people's membership of the list, as it was.
  await sql`UPDATE ${T} AS st SET mem_status = m.status FROM list_memberships m
    WHERE m.list_id = ${list} AND m.subscriber_id = st.sub_id`.execute(trx);

  // Changed profiles: a blank cell keeps what is known, attributes merge (the file's win).
  await sql`UPDATE subscribers AS s SET
      name = CASE WHEN st.name <> '' THEN st.name ELSE s.name END,
      first_name = CASE WHEN st.first_name <> '' THEN st.first_name ELSE s.first_name END,
      last_name = CASE WHEN st.last_name <> '' THEN st.last_name ELSE s.last_name END,
      attributes = CASE WHEN st.attributes = '{}' THEN s.attributes ELSE ${mergedAttributes(pg)} END,
      updated_at = ${now}
    FROM ${T} st
    WHERE s.id = st.sub_id AND st.profile_changed = 1`.execute(trx);
  trace('profiles');

  // Known people who are mailable and not on the list in any state yet join it (a membership another process makes
  // in between: a unique violation, and the apply runs again).
  await sql`UPDATE ${T} AS st SET joined = 1
    WHERE st.sub_id IS NOT NULL AND st.mem_status IS NULL AND st.cur_status = 'active' AND st.suppressed = 0`.execute(trx);
  await sql`INSERT INTO ${membershipColumns}
    SELECT ${list}, st.sub_id, 'subscribed', ${now}, ${now}, ${consentSource}, ${now} FROM ${T} st
    WHERE st.joined = 1
    ORDER BY st.sub_id`.execute(trx);
  trace('joined');

  // The report, from what the statements marked. Rows without sub_id that were not inserted are kept out
  // (suppressed addresses nobody holds a row for).
  const keptOut = sql`(st.cur_status <> 'active' OR st.suppressed = 1 OR (st.mem_status IS NOT NULL AND st.mem_status <> 'subscribed'))`;
  const { rows } = await sql<Record<'unknown' | 'known' | 'kept_out' | 'joined' | 'profiles' | 'already' | 'unchanged', number | string | null>>`SELECT
      sum(CASE WHEN st.sub_id IS NULL THEN 1 ELSE 0 END) AS unknown,
      sum(CASE WHEN st.sub_id IS NOT NULL THEN 1 ELSE 0 END) AS known,
      sum(CASE WHEN st.sub_id IS NOT NULL AND ${keptOut} THEN 1 ELSE 0 END) AS kept_out,
      sum(st.joined) AS joined,
      sum(CASE WHEN st.sub_id IS NOT NULL AND st.profile_changed = 1 THEN 1 ELSE 0 END) AS profiles,
      sum(CASE WHEN st.sub_id IS NOT NULL AND NOT ${keptOut} AND st.joined = 0 THEN 1 ELSE 0 END) AS already,
      sum(CASE WHEN st.sub_id IS NOT NULL AND NOT ${keptOut} AND st.joined = 0 AND st.profile_changed = 0 THEN 1 ELSE 0 END) AS unchanged
    FROM ${T} st`.execute(trx);
  trace('counted');
  const r = rows[0];
  const n = (v: number | string | null | undefined): number => Number(v ?? 0);
  return {
    addedToList: newPeople + n(r?.joined),
    newPeople,
    alreadyKnown: n(r?.known),
    alreadyOnList: n(r?.already),
    profilesChanged: n(r?.profiles),
    unchanged: n(r?.unchanged),
    keptOut: n(r?.unknown) - newPeople + n(r?.kept_out),
  };
}

/** True when the row's attributes add a key or change a value of the subscriber's (`s`) string attributes. */
function attributesChange(pg: boolean): RawBuilder<unknown> {
  if (pg) {
    return sql`EXISTS (SELECT 1 FROM json_each_text(st.attributes::json) n
      WHERE NOT EXISTS (SELECT 1 FROM json_each(CASE WHEN json_typeof(s.attributes::json) = 'object' THEN s.attributes::json ELSE '{}'::json END) o
        WHERE o.key = n.key AND json_typeof(o.value) = 'string' AND o.value #>> '{}' = n.value))`;
  }
  return sql`EXISTS (SELECT 1 FROM json_each(st.attributes) n
    WHERE NOT EXISTS (SELECT 1 FROM json_each(CASE WHEN json_type(s.attributes) = 'object' THEN s.attributes ELSE '{}' END) o
      WHERE o.key = n.key AND o.type = 'text' AND o.value = n.value))`;
}

/**
 * `{ ...current, ...row }` as JSON text, in that key order: the subscriber's string attributes with the row's values
 * over them, then the row's new keys.
 */
function mergedAttributes(pg: boolean): RawBuilder<unknown> {
  if (pg) {
    const current = sql`json_each(CASE WHEN json_typeof(s.attributes::json) = 'object' THEN s.attributes::json ELSE '{}'::json END)`;
    return sql`(SELECT coalesce(json_object_agg(m.k, m.v ORDER BY m.o), '{}'::json)::text FROM (
        SELECT c.key AS k, coalesce(n.value, c.value) AS v, c.o AS o
          FROM ${current} WITH ORDINALITY AS c(key, value, o)
          LEFT JOIN json_each(st.attributes::json) AS n(key, value) ON n.key = c.key
          WHERE json_typeof(c.value) = 'string'
        UNION ALL
        SELECT n.key, n.value, 1000000 + n.o FROM json_each(st.attributes::json) WITH ORDINALITY AS n(key, value, o)
          WHERE NOT EXISTS (SELECT 1 FROM ${current} AS c2 WHERE c2.key = n.key AND json_typeof(c2.value) = 'string')
      ) AS m)`;
  }
  const current = sql`json_each(CASE WHEN json_type(s.attributes) = 'object' THEN s.attributes ELSE '{}' END)`;
  return sql`(SELECT coalesce(json_group_object(m.k, m.v), '{}') FROM (
      SELECT c.key AS k, coalesce(n.value, c.value) AS v, c.id AS o
        FROM ${current} AS c
        LEFT JOIN json_each(st.attributes) AS n ON n.key = c.key
        WHERE c.type = 'text'
      UNION ALL
      SELECT n.key, n.value, 1000000000 + n.id FROM json_each(st.attributes) AS n
        WHERE NOT EXISTS (SELECT 1 FROM ${current} AS c2 WHERE c2.key = n.key AND c2.type = 'text')
      ORDER BY o) AS m)`;
}
