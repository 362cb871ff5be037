/**
 * `npm run bench:compare -- --base DIR`: the `mailroom` variant of `npm run bench` for this checkout and for another
 * checkout of Mailroom (DIR, e.g. a `git worktree` of main with its node_modules), run back to back, alternating, on
 * one smtp-sink, with `smtp-source` (the wire's limit) measured before each pair. On a shared or busy machine the
 * absolute figures drift from one minute to the next; the CPU per message and each repetition's ratios are what to
 * compare.
 *
 *   npm run bench:compare -- --base /work/wt/perf-base --reps 5 --recipients 20000
 *
 * Options: --base DIR (required), --reps N (default 5), --recipients N (default 20000), --connections N (default 5).
 * Each checkout's own scripts/bench-child.ts sets up its own database (its own schema) and sends its own campaign.
 * Needs smtp-sink and smtp-source (Debian's `postfix`; `npm run bench` installs them when run as root).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: { base: { type: 'string' }, reps: { type: 'string', default: '5' }, recipients: { type: 'string', default: '20000' }, connections: { type: 'string', default: '5' } },
});
if (!args.base) {
  console.error('bench-compare: --base DIR is required (another checkout of Mailroom, with node_modules)');
  process.exit(2);
}
const REPS = Number(args.reps);
const RECIPIENTS = Number(args.recipients);
const CONNECTIONS = Number(args.connections);
const SINK = '/usr/sbin/smtp-sink';
const SOURCE = '/usr/sbin/smtp-source';
for (const [what, value] of [['--reps', REPS], ['--recipients', RECIPIENTS], ['--connections', CONNECTIONS]] as const) {
  if (!Number.isInteger(value) || value < 1) throw new Error(`bench-compare: ${what} must be a positive integer, got ${JSON.stringify(String(value))}`);
}
for (const tool of [SINK, SOURCE]) if (!existsSync(tool)) throw new Error(`bench-compare: ${tool} is missing (apt-get install postfix, or run npm run bench once as root)`);
const baseRoot = resolve(args.base);
if (!existsSync(join(baseRoot, 'scripts', 'bench-child.ts'))) throw new Error(`bench-compare: --base ${JSON.stringify(args.base)}: no scripts/bench-child.ts there`);

interface Tree {
  readonly name: string;
  readonly root: string;
  readonly dir: string;
  readonly env: Record<string, string>;
  readonly reps: { rate: number; cpuMsPerMessage: number; overLimit: number }[];
}

function run(command: string, commandArgs: string[], env: Record<string, string>, cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(command, commandArgs, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', fail);
    child.on('close', (code) => done({ code: code ?? -1, stdout, stderr }));
  });
}

async function child(tree: Tree, mode: string, extra: Record<string, string> = {}): Promise<Record<string, number>> {
  const r = await run(process.execPath, ['--import', 'tsx', join(tree.root, 'scripts', 'bench-child.ts'), mode], { ...tree.env, ...extra }, tree.root);
  const line = r.stdout.split('\n').reverse().find((l) => l.startsWith('BENCH_RESULT '));
  if (r.code !== 0 || !line) throw new Error(`${tree.name}: bench-child ${mode} failed (exit ${r.code}):\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
  return JSON.parse(line.slice('BENCH_RESULT '.length)) as Record<string, number>;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

const port = await new Promise<number>((ok) => {
  const server = createServer();
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    server.close(() => ok(typeof address === 'object' && address ? address.port : 0));
  });
});
const sink = spawn(SINK, [...(process.getuid?.() === 0 ? ['-u', 'nobody'] : []), `127.0.0.1:${port}`, '1024'], { stdio: 'ignore' });
process.on('exit', () => sink.kill('SIGTERM'));
await new Promise((r) => setTimeout(r, 300));

const common: Record<string, string> = {
  ...(process.env as Record<string, string>),
  NODE_ENV: 'production',
  SMTP_URL: `smtp://127.0.0.1:${port}`,
  SMTP_POOL_SIZE: String(CONNECTIONS),
  PUBLIC_URL: 'https://news.example.com',
  SECRET: 'bench-secret-that-is-long-enough-0123456789abcdef',
};
const trees: Tree[] = [
  { name: 'base', root: baseRoot },
  { name: 'this', root: ROOT },
].map(({ name, root }) => {
  const dir = mkdtempSync(join(tmpdir(), `mailroom-compare-${name}-`));
  mkdirSync(join(dir, 'data'));
  return { name, root, dir, reps: [], env: { ...common, BENCH_DIR: dir, DATA_DIR: join(dir, 'data'), DATABASE_URL: join(dir, 'bench.db'), BENCH_MESSAGE_FILE: join(dir, 'message.eml') } };
});

try {
  console.log(`bench-compare: base ${baseRoot}, this ${ROOT}; ${RECIPIENTS} recipients, ${CONNECTIONS} connections, ${REPS} repetitions; smtp-sink on 127.0.0.1:${port}`);
  for (const tree of trees) {
    const setup = await child(tree, 'setup', { BENCH_RECIPIENTS: String(RECIPIENTS) });
    console.log(`${tree.name}: ${RECIPIENTS} subscribers, message ${setup['messageBytes']} bytes`);
  }
  // smtp-source appends CRLF to each line it reads: give it LF line ends (this checkout's message).
  const messageFile = join(trees[1]?.dir ?? '', 'message.eml');
  writeFileSync(messageFile, readFileSync(messageFile, 'utf8').replace(/\r\n/g, '\n'));
  const limits: number[] = [];
  for (let rep = 1; rep <= REPS; rep += 1) {
    const t0 = performance.now();
    const source = await run(SOURCE, ['-d', '-s', String(CONNECTIONS), '-m', String(RECIPIENTS), '-F', messageFile, '-f', 'news@mailroom.example', '-t', 'reader@bench.example', `127.0.0.1:${port}`], common, ROOT);
    if (source.code !== 0) throw new Error(`smtp-source failed (exit ${source.code}): ${source.stderr}`);
    const limit = (RECIPIENTS / (performance.now() - t0)) * 1000;
    limits.push(limit);
    const parts = [`limit ${limit.toFixed(0)}/s`];
    // Alternate which one goes first.
    for (const tree of rep % 2 ? trees : [...trees].reverse()) {
      const m = await child(tree, 'mailroom');
      const messages = m['messages'] ?? 0;
      const rate = (messages / (m['wallMs'] ?? 1)) * 1000;
      const r = { rate, cpuMsPerMessage: (m['cpuMs'] ?? 0) / messages, overLimit: rate / limit };
      tree.reps.push(r);
      parts.push(`${tree.name} ${rate.toFixed(0)}/s, ${r.cpuMsPerMessage.toFixed(3)} CPU ms/msg, / limit ${r.overLimit.toFixed(2)}`);
    }
    console.log(`rep ${rep}/${REPS}: ${parts.join(' | ')}`);
  }
  const [base, self] = trees as [Tree, Tree];
  console.log(`\nmedians of ${REPS}: limit ${median(limits).toFixed(0)}/s`);
  for (const tree of trees) {
    const ratios = tree.reps.map((r) => r.overLimit.toFixed(2)).join(', ');
    console.log(`  ${tree.name.padEnd(4)}: ${median(tree.reps.map((r) => r.rate)).toFixed(0)}/s, ${median(tree.reps.map((r) => r.cpuMsPerMessage)).toFixed(3)} CPU ms/msg, mailroom / limit ${median(tree.reps.map((r) => r.overLimit)).toFixed(2)} (${ratios})`);
  }
  const cpuRatios = self.reps.map((r, i) => r.cpuMsPerMessage / (base.reps[i]?.cpuMsPerMessage ?? Number.NaN));
  console.log(`  CPU per message, this / base, per repetition: ${cpuRatios.map((x) => x.toFixed(2)).join(', ')} (median ${median(cpuRatios).toFixed(2)})`);
} finally {
  sink.kill('SIGTERM');
  for (const tree of trees) rmSync(tree.dir, { recursive: true, force: true });
}
