/**
 * The `mailroom` command for tests, one helper for all: in a throwaway workspace (its own data folder and SQLite
 * file) or any working directory, either in-process (`main(argv, context)`: the same program, no process start) or
 * as the real binary (`node bin/mailroom.js`) where the process boundary is what a test proves: exit codes of the
 * binary, signals, kill -9, a running `serve`, two processes racing.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
/** Older names of Run. */
export type BinRun = Run;
export type CliRun = Run;

type EnvPatch = Record<string, string | undefined>;

/** The environment of a user who set only `env`: nothing from the developer's or the test runner's settings leaks in. */
export function cleanEnv(env: EnvPatch = {}): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(DATABASE_URL|DATA_DIR|SMTP_|DKIM_|SEND_|INBOX_|PORT$|HOST$|PUBLIC_URL$|SECRET$|NODE_ENV$|TRUST_PROXY$|FEED|FETCH_|SIGNUP_|SCHEDULE|CAMPAIGN_|IN_FLIGHT|FEEDBACK_ID_SENDER$|TSX_|VITEST)/.test(key)) continue;
    out[key] = value;
  }
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete out[key];
    else out[key] = value;
  }
  return out;
}

/** For failure messages: the whole run. */
export function showRun(run: Run): string {
  return `exit ${run.code}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`;
}
export const show = showRun;

export function expectOk(run: Run): Run {
  expect(run.code, showRun(run)).toBe(0);
  return run;
}

/** Runs `node bin/mailroom.js …args` in `cwd` with exactly cleanEnv(env). */
export function runBin(cwd: string, args: readonly string[], env: EnvPatch): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd, env: cleanEnv(env), timeout: 90_000, maxBuffer: 32 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}
/** The real binary (its older name). */
export const runMailroom = runBin;

let inProcessQueue: Promise<unknown> = Promise.resolve();

/**
 * Runs `mailroom …args` in this process: main() with cleanEnv(env), `cwd` and captured output, and its exit code.
 * File arguments are opened relative to the process's working directory (src/cli/context.ts), so this changes into
 * `cwd` for the run; runs started together therefore take turns (to race two commands, use runBin).
 */
export function runInProcess(cwd: string, args: readonly string[], env: EnvPatch): Promise<Run> {
  const turn = inProcessQueue.then(() => runNow(cwd, args, env));
  inProcessQueue = turn.catch(() => undefined);
  return turn;
}

async function runNow(cwd: string, args: readonly string[], env: EnvPatch): Promise<Run> {
  const previous = process.cwd();
  let stdout = '';
  let stderr = '';
  try {
    const { main } = await import('../../src/cli/main.ts');
    process.chdir(cwd);
    const code = await main([process.execPath, BIN, ...args], {
      env: cleanEnv(env),
      cwd,
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: (text: string) => (stderr += text) },
    });
    return { code, stdout, stderr };
  } finally {
    process.chdir(previous);
  }
}

/** Starts `mailroom …args` (the real binary) in `cwd`; its stdout and stderr are collected in `output()`. */
export function spawnMailroom(cwd: string, args: readonly string[], env: EnvPatch): ChildProcess & { output(): string } {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  return Object.assign(child, { output: () => out });
}

export function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
    child.once('exit', (code) => resolve(code));
  });
}

export interface RunningServe {
  /** http://127.0.0.1:PORT, as `serve` printed it. */
  readonly url: string;
  readonly child: ChildProcess;
  /** Everything printed so far (stdout and stderr). */
  output(): string;
  /** SIGTERM, then wait for the exit (SIGKILL after 15 s). */
  stop(): Promise<void>;
}

/** Starts `mailroom serve …args` (the real binary) and resolves once it prints its address (rejects with its output if it exits first or takes over 60 s). */
export function startServe(cwd: string, args: readonly string[], env: EnvPatch): Promise<RunningServe> {
  const child = spawn(process.execPath, [BIN, 'serve', ...args], { cwd, env: cleanEnv({ PORT: '0', ...env }), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop().then(() => reject(new Error(`serve did not start within 60 s:\n${output}`)));
    }, 60_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /Mailroom is running at (http:\/\/[^\s]+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve({ url: match[1].replace('0.0.0.0', '127.0.0.1'), child, output: () => output, stop });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code} before it was ready:\n${output}`));
    });
  });
}

export interface CliWorkspace {
  readonly dir: string;
  readonly dataDir: string;
  readonly db: string;
  smtpUrl: string;
  /** Writes a file (folders created) in the workspace and returns its path relative to it. */
  file(name: string, content: string | Buffer): string;
  read(name: string): string;
  /** The environment of a run: cleanEnv with the workspace's data folder, public URL, secret and SMTP URL, then `extra` (undefined removes). */
  env(extra?: EnvPatch): NodeJS.ProcessEnv;
  /** Runs `mailroom …args` to completion, in-process. */
  run(args: readonly string[], extra?: EnvPatch): Promise<Run>;
  /** Runs the real binary to completion. */
  runBin(args: readonly string[], extra?: EnvPatch): Promise<Run>;
  /** Starts the real binary and returns the child, its output collected in `output()`. */
  spawn(args: readonly string[], extra?: EnvPatch): ChildProcess & { output(): string };
  /** Rows of a query on the workspace's SQLite file (a writing statement runs and returns []). */
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
      mkdirSync(dirname(join(dir, name)), { recursive: true });
      writeFileSync(join(dir, name), content);
      return name;
    },
    read(name) {
      return readFileSync(join(dir, name), 'utf8');
    },
    env(extra = {}) {
      return cleanEnv({ DATA_DIR: dataDir, PUBLIC_URL: 'https://news.example.com', SECRET: CLI_SECRET, SMTP_URL: ws.smtpUrl, ...extra });
    },
    run(args, extra = {}) {
      return runInProcess(dir, args, ws.env(extra));
    },
    runBin(args, extra = {}) {
      return runBin(dir, args, ws.env(extra));
    },
    spawn(args, extra = {}) {
      return spawnMailroom(dir, args, ws.env(extra));
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

/** Runs `mailroom …args` in the workspace, in-process. */
export function mailroom(ws: CliWorkspace, args: readonly string[], extraEnv: EnvPatch = {}): Promise<Run> {
  return ws.run(args, extraEnv);
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
