/** Runs a command for a benchmark script; with timeMe, under GNU time for its wall time, CPU time and peak RSS. */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface CommandRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** With timeMe: wall and CPU time, peak RSS (NaN where GNU time is missing). */
  readonly time: { wallMs: number; cpuMs: number; peakRssMb: number } | null;
}

const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;

export function runCommand(command: string[], env: Record<string, string | undefined>, options: { timeMe?: boolean } = {}): Promise<CommandRun> {
  const timed = options.timeMe && GNU_TIME ? [GNU_TIME, '-f', 'BENCH_TIME %e %U %S %M', ...command] : command;
  const started = performance.now();
  return new Promise((done, fail) => {
    const child = spawn(timed[0] as string, timed.slice(1), { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', fail);
    child.on('close', (code) => {
      const wall = performance.now() - started;
      let time: { wallMs: number; cpuMs: number; peakRssMb: number } | null = null;
      if (options.timeMe) {
        const line = /BENCH_TIME ([\d.]+) ([\d.]+) ([\d.]+) (\d+)/.exec(stderr);
        time = line ? { wallMs: Number(line[1]) * 1000, cpuMs: (Number(line[2]) + Number(line[3])) * 1000, peakRssMb: Number(line[4]) / 1024 } : { wallMs: wall, cpuMs: Number.NaN, peakRssMb: Number.NaN };
      }
      done({ code: code ?? -1, stdout, stderr, time });
    });
  });
}
