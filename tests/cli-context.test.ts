/** main(argv, context): one CLI run with its own environment, settings folder and output, and its exit code returned, never left in the process. */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { main } from '../src/cli/main.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mailroom-context-'));
  dirs.push(dir);
  return dir;
}

async function run(args: readonly string[], context: { env: NodeJS.ProcessEnv; cwd: string }): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(['node', 'mailroom', ...args], { ...context, stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) } });
  return { code, stdout, stderr };
}

test("settings come from the run's environment and the .env of its folder; output and exit code stay the run's", async () => {
  const a = folder();
  const b = folder();
  // Folder a names its data folder in .env; folder b in the environment of its run.
  writeFileSync(join(a, '.env'), 'DATA_DIR=from-dotenv\n');
  const env = { PATH: process.env.PATH };
  const exitCodeBefore = process.exitCode;

  expect(await run(['lists', 'create', 'alpha'], { env, cwd: a })).toMatchObject({ code: 0, stdout: expect.stringContaining('list alpha created') });
  expect(await run(['lists', 'create', 'beta'], { env: { ...env, DATA_DIR: join(b, 'elsewhere') }, cwd: b })).toMatchObject({ code: 0 });
  expect(existsSync(join(a, 'from-dotenv', 'mailroom.db'))).toBe(true);
  expect(existsSync(join(b, 'elsewhere', 'mailroom.db'))).toBe(true);

  const listA = await run(['lists', 'list'], { env, cwd: a });
  expect(listA.stdout).toContain('alpha');
  expect(listA.stdout).not.toContain('beta');
  const listB = await run(['lists', 'list'], { env: { ...env, DATA_DIR: join(b, 'elsewhere') }, cwd: b });
  expect(listB.stdout).toContain('beta');
  expect(listB.stdout).not.toContain('alpha');

  // A command that fails: its code is returned, its message is on the run's stderr, the process's exit code is untouched.
  const failed = await run(['lists', 'create', 'alpha'], { env, cwd: a });
  expect(failed.code).toBe(1);
  expect(failed.stderr).toMatch(/^mailroom: .*alpha/m);
  expect(failed.stdout).toBe('');
  // A usage error (commander's own output) goes to the run's stderr too.
  const usage = await run(['nope'], { env, cwd: a });
  expect(usage).toMatchObject({ code: 2, stdout: '', stderr: expect.stringContaining("unknown command 'nope'") });
  expect(process.exitCode).toBe(exitCodeBefore);
});
