/** Runs the real `mailroom` binary in a throwaway workspace (a copy of the demo content) against a given SMTP URL. */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { makeDataDir, REPO_ROOT } from './workspace.ts';

export const BIN = join(REPO_ROOT, 'bin', 'mailroom.js');

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliWorkspace {
  readonly dir: string;
  readonly dataDir: string;
  readonly db: string;
  smtpUrl: string;
  /** Writes a file in the workspace and returns its path relative to it. */
  file(name: string, content: string): string;
  env(extra?: Record<string, string | undefined>): NodeJS.ProcessEnv;
  /** Runs `mailroom …args` to completion. */
  run(args: readonly string[], extra?: Record<string, string | undefined>): Promise<CliRun>;
  /** Starts `mailroom …args` and returns the child, its output collected in `output()`. */
  spawn(args: readonly string[], extra?: Record<string, string | undefined>): ChildProcess & { output(): string };
  /** Rows of a query on the workspace's SQLite file. */
  sql<T = Record<string, unknown>>(query: string, ...params: unknown[]): T[];
  remove(): void;
}

export function cliWorkspace(smtpUrl: string): CliWorkspace {
  const dir = makeDataDir();
  const dataDir = join(dir, 'data');
  const db = join(dataDir, 'mailroom.db');
  const ws: CliWorkspace = {
    dir,
    dataDir,
    db,
    smtpUrl,
    file(name, content) {
      writeFileSync(join(dir, name), content);
      return name;
    },
    env(extra = {}) {
      const env: NodeJS.ProcessEnv = { ...process.env };
      for (const key of Object.keys(env)) if (/^(DATABASE_URL|SMTP_|DKIM_|SEND_|INBOX_|CAMPAIGN_|PORT$|HOST$|NODE_ENV$|TSX_)/.test(key)) delete env[key];
      Object.assign(env, { DATA_DIR: dataDir, PUBLIC_URL: 'https://news.example.com', SECRET: 'cli-test-secret-0123456789abcdefghijklmn', SMTP_URL: ws.smtpUrl });
      for (const [key, value] of Object.entries(extra)) {
        if (value === undefined) delete env[key];
        else env[key] = value;
      }
      return env;
    },
    run(args, extra = {}) {
      return new Promise((resolve) => {
        execFile(process.execPath, [BIN, ...args], { cwd: dir, env: ws.env(extra), timeout: 90_000, maxBuffer: 32 * 1024 * 1024 }, (error, stdout, stderr) => {
          const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
          resolve({ code, stdout, stderr });
        });
      });
    },
    spawn(args, extra = {}) {
      const child = spawn(process.execPath, [BIN, ...args], { cwd: dir, env: ws.env(extra), stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
      return Object.assign(child, { output: () => out });
    },
    sql<T>(query: string, ...params: unknown[]): T[] {
      const handle = new BetterSqlite3(db, { fileMustExist: true });
      try {
        handle.pragma('busy_timeout = 10000');
        const statement = handle.prepare(query);
        return (statement.reader ? statement.all(...params) : (statement.run(...params), [])) as T[];
      } finally {
        handle.close();
      }
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return ws;
}

/** For failure messages: the whole run. */
export function showRun(run: CliRun): string {
  return `exit ${run.code}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`;
}

export function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
    child.once('exit', (code) => resolve(code));
  });
}
