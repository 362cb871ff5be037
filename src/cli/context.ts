/**
 * What one run of the CLI reads and writes: its environment, working directory and output streams. The `mailroom`
 * binary runs with the process's own; `main(argv, context)` can run a command with others (tests do, in-process).
 * Commands read it with `cli()`; the exit code a command sets stays in its run's context, not in process.exitCode.
 * `cwd` is where the settings are read (.env, a relative DATA_DIR or key file); file arguments (CSV, Markdown,
 * --out) are opened relative to the process's working directory, so a caller naming another `cwd` for them also
 * changes into it (the tests' in-process runner does).
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface CliOutput {
  write(text: string): unknown;
}

export interface CliContext {
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly stdout: CliOutput;
  readonly stderr: CliOutput;
}

interface CliRunState extends CliContext {
  exitCode: number;
}

const storage = new AsyncLocalStorage<CliRunState>();

function processContext(): CliRunState {
  return { env: process.env, cwd: process.cwd(), stdout: process.stdout, stderr: process.stderr, exitCode: 0 };
}

/** The context of the run in progress (the process's own outside of one). */
export function cli(): CliRunState {
  return storage.getStore() ?? processContext();
}

/** Runs `fn` as one CLI run with `context` (the process's own where it names nothing). */
export function runWithCliContext<T>(context: Partial<CliContext>, fn: () => Promise<T>): Promise<T> {
  return storage.run({ ...processContext(), ...context }, fn);
}
