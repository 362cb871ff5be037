/** Runs the real `mailroom` binary in a throwaway workspace (its own data folder and SQLite file) and reads that file back. */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { expect } from 'vitest';
import { makeDataDir, REPO_ROOT } from './workspace.ts';

export const BIN = join(REPO_ROOT, 'bin', 'mailroom.js');
export const CLI_SECRET = 'cli-test-secret-0123456789abcdefghijklmn';

export interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliWorkspace {
  readonly dir: string;
  readonly dataDir: string;
  readonly db: string;
  readonly smtpUrl: string;
  /** Writes a file (folders created) in the workspace and returns its path relative to it. */
  file(name: string, content: string | Buffer): string;
  read(name: string): string;
  remove(): void;
}

export function cliWorkspace(smtpUrl: string): CliWorkspace {
  const dir = makeDataDir();
  const dataDir = join(dir, 'data');
  return {
    dir,
    dataDir,
    db: join(dataDir, 'mailroom.db'),
    smtpUrl,
    file(name, content) {
      mkdirSync(dirname(join(dir, name)), { recursive: true });
      writeFileSync(join(dir, name), content);
      return name;
    },
    read(name) {
      return readFileSync(join(dir, name), 'utf8');
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function envFor(ws: CliWorkspace, extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // Nothing from the developer's own environment may leak into the workspace.
  for (const key of Object.keys(env)) if (/^(DATABASE_URL|SMTP_|DKIM_|SEND_|INBOX_|PORT$|HOST$|FEEDBACK_ID_SENDER$|FETCH_|TSX_)/.test(key)) delete env[key];
  Object.assign(env, { DATA_DIR: ws.dataDir, PUBLIC_URL: 'https://news.example.com', SECRET: CLI_SECRET, SMTP_URL: ws.smtpUrl });
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

/** Runs `node bin/mailroom.js …args` in the workspace. */
export function mailroom(ws: CliWorkspace, args: readonly string[], extraEnv: Record<string, string | undefined> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd: ws.dir, env: envFor(ws, extraEnv), timeout: 90_000, maxBuffer: 32 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

/** For failure messages: the whole run. */
export function show(run: Run): string {
  return `exit ${run.code}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`;
}

export function expectOk(run: Run): Run {
  expect(run.code, show(run)).toBe(0);
  return run;
}

/** Rows of a query on the workspace's SQLite file, opened read-only. */
export function sqlite<T = Record<string, unknown>>(ws: CliWorkspace, query: string, ...params: unknown[]): T[] {
  const db = new BetterSqlite3(ws.db, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(query).all(...params) as T[];
  } finally {
    db.close();
  }
}

/** Runs one writing statement on the workspace's SQLite file (what an older version or another tool could have left). */
export function sqliteWrite(ws: CliWorkspace, statement: string, ...params: unknown[]): void {
  const db = new BetterSqlite3(ws.db, { fileMustExist: true });
  try {
    db.prepare(statement).run(...params);
  } finally {
    db.close();
  }
}

/** Every row of every table (migrations bookkeeping aside), to prove a command wrote nothing. */
export function snapshot(ws: CliWorkspace): string {
  if (!existsSync(ws.db)) return '(no database)';
  const tables = sqlite<{ name: string }>(ws, "select name from sqlite_master where type = 'table' and name not like 'sqlite_%' and name not like 'kysely_%' order by name");
  return JSON.stringify(Object.fromEntries(tables.map(({ name }) => [name, sqlite(ws, `select * from "${name}"`).map((r) => JSON.stringify(r)).sort()])), null, 1);
}
