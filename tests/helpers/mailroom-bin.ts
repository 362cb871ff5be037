/** The real `mailroom` binary for tests: one-shot commands and a running `serve`, in a working directory of the test's choosing. */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './workspace.ts';

export const BIN = join(REPO_ROOT, 'bin', 'mailroom.js');

export interface BinRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The environment of a user who set only `env`: nothing from the developer's or the test runner's settings leaks in. */
export function cleanEnv(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(DATABASE_URL|DATA_DIR|SMTP_|DKIM_|SEND_|INBOX_|PORT$|HOST$|PUBLIC_URL$|SECRET$|NODE_ENV$|TRUST_PROXY$|FEED|FETCH_|SIGNUP_|SCHEDULE|CAMPAIGN_|IN_FLIGHT|FEEDBACK_ID_SENDER$|TSX_|VITEST)/.test(key)) continue;
    out[key] = value;
  }
  for (const [key, value] of Object.entries(env)) if (value !== undefined) out[key] = value;
  return out;
}

/** For failure messages: the whole run. */
export function showRun(run: BinRun): string {
  return `exit ${run.code}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`;
}

/** Runs `node bin/mailroom.js …args` in `cwd` with exactly `env` (see cleanEnv). */
export function runMailroom(cwd: string, args: readonly string[], env: Record<string, string | undefined>): Promise<BinRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd, env: cleanEnv(env), timeout: 90_000, maxBuffer: 32 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, stdout, stderr });
    });
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

/** Starts `mailroom serve …args` and resolves once it prints its address (rejects with its output if it exits first or takes over 60 s). */
export function startServe(cwd: string, args: readonly string[], env: Record<string, string | undefined>): Promise<RunningServe> {
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
