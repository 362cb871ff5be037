/**
 * `npm run bench`: Mailroom's sending speed next to a naive React Email script and the wire's limit, in one run, on
 * one Postfix smtp-sink on loopback.
 *
 *   npm run bench                              # naive / limit / mailroom / build, 3 repetitions, medians
 *   npm run bench -- --recipients 50000 --reps 5 --json bench-results/today.json
 *   npm run bench -- --scale 1000000           # + import, fix and send a 1,000,000-recipient campaign
 *
 * Options: --recipients N (mailroom, limit, build; default 20000), --naive-recipients N (default 300: the naive
 * script is slow), --reps N (default 3), --connections N (SMTP connections of mailroom and smtp-source; default 5,
 * Mailroom's SMTP_POOL_SIZE default), --scale N (the scale run; 0 = none), --skip-base (only the scale run),
 * --json FILE (default bench-results/bench.json), --keep (keep the temporary workspace), --profile DIR (each Node
 * child writes a CPU profile there: node --cpu-prof; profiling slows them, so do not read the figures of that run).
 *
 * Needs smtp-sink and smtp-source from Debian's `postfix` package. When they are missing and we are root, the
 * package is installed with a policy-rc.d that forbids starting services, so the Postfix daemon never runs;
 * otherwise the script says what to install and stops.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runCommand, type CommandRun } from './lib/run-command.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const { values: args } = parseArgs({
  options: {
    recipients: { type: 'string', default: '20000' },
    'naive-recipients': { type: 'string', default: '300' },
    reps: { type: 'string', default: '3' },
    connections: { type: 'string', default: '5' },
    scale: { type: 'string', default: '0' },
    'skip-base': { type: 'boolean', default: false },
    json: { type: 'string', default: join(ROOT, 'bench-results', 'bench.json') },
    keep: { type: 'boolean', default: false },
    profile: { type: 'string' },
  },
});

function positive(name: string, raw: string | undefined, allowZero = false): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < (allowZero ? 0 : 1)) {
    console.error(`--${name} ${JSON.stringify(raw)}: expected a whole number${allowZero ? '' : ' of 1 or more'}`);
    process.exit(2);
  }
  return n;
}
const RECIPIENTS = positive('recipients', args.recipients);
const NAIVE = Math.min(positive('naive-recipients', args['naive-recipients']), RECIPIENTS);
const REPS = positive('reps', args.reps);
const CONNECTIONS = positive('connections', args.connections);
const SCALE = positive('scale', args.scale, true);

// ------------------------------------------------------------------------------------------------- tools

function which(tool: string): string | null {
  for (const dir of [...(process.env['PATH'] ?? '').split(':'), '/usr/sbin', '/usr/bin', '/sbin']) {
    const path = join(dir, tool);
    if (dir && existsSync(path)) return path;
  }
  return null;
}

/** smtp-sink and smtp-source (Debian package postfix). Installs them as root without ever starting Postfix. */
function ensurePostfixTools(): { sink: string; source: string } {
  let sink = which('smtp-sink');
  let source = which('smtp-source');
  if (sink && source) return { sink, source };
  const isRoot = process.getuid?.() === 0;
  if (!isRoot || !which('apt-get')) {
    console.error(
      'npm run bench needs smtp-sink and smtp-source, from Debian\'s "postfix" package:\n' +
        '  sudo apt-get update && sudo apt-get install -y postfix\n' +
        'The benchmark never starts the Postfix mail server; after installing you may stop and disable it\n' +
        '(systemctl disable --now postfix) if your system started it.',
    );
    process.exit(1);
  }
  console.log('installing Debian package postfix for smtp-sink and smtp-source (the Postfix daemon is not started)…');
  // invoke-rc.d asks policy-rc.d whether a package may start its service; exit 101 means no.
  const policy = '/usr/sbin/policy-rc.d';
  const ownPolicy = !existsSync(policy);
  if (ownPolicy) writeFileSync(policy, '#!/bin/sh\n# written by mailroom npm run bench while installing postfix: start no service\nexit 101\n', { mode: 0o755 });
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    for (const cmd of [['apt-get', 'update', '-qq'], ['apt-get', 'install', '-y', '-q', '--no-install-recommends', 'postfix']]) {
      const r = spawnSync(cmd[0] as string, cmd.slice(1), { stdio: 'inherit', env });
      if (r.status !== 0) throw new Error(`${cmd.join(' ')} failed (exit ${r.status})`);
    }
    // Keep it from starting at the next boot too, where systemd is in use.
    if (which('systemctl')) spawnSync('systemctl', ['disable', 'postfix'], { stdio: 'ignore' });
  } finally {
    if (ownPolicy) rmSync(policy, { force: true });
  }
  sink = which('smtp-sink');
  source = which('smtp-source');
  if (!sink || !source) {
    console.error('postfix installed, but smtp-sink / smtp-source are still missing');
    process.exit(1);
  }
  return { sink, source };
}

async function freePort(): Promise<number> {
  return new Promise((ok) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => ok(port));
    });
  });
}

async function waitForPort(port: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((done) => {
      const socket = createConnection({ port, host: '127.0.0.1' }, () => {
        socket.destroy();
        done(true);
      });
      socket.on('error', () => done(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`smtp-sink did not listen on 127.0.0.1:${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// ------------------------------------------------------------------------------------------------- children

interface Measured {
  messages: number;
  wallMs: number;
  cpuMs: number;
  peakRssMb: number;
  [key: string]: unknown;
}

function runNode(script: string, scriptArgs: string[], env: Record<string, string>, options: { timeMe?: boolean } = {}): Promise<CommandRun> {
  const profile = args.profile ? ['--cpu-prof', `--cpu-prof-dir=${resolve(args.profile)}`] : [];
  const node = [process.execPath, ...profile, '--import', 'tsx', script, ...scriptArgs];
  return runCommand(node, env, options);
}

async function child(mode: string, env: Record<string, string>): Promise<Measured> {
  const r = await runNode(join(ROOT, 'scripts', 'bench-child.ts'), [mode], env);
  const line = r.stdout.split('\n').reverse().find((l) => l.startsWith('BENCH_RESULT '));
  if (r.code !== 0 || !line) throw new Error(`bench-child ${mode} failed (exit ${r.code}):\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
  return JSON.parse(line.slice('BENCH_RESULT '.length)) as Measured;
}

// ------------------------------------------------------------------------------------------------- figures

const median = (xs: number[]): number => {
  const s = [...xs].filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

interface Row {
  name: string;
  what: string;
  messages: number;
  rate: number;
  cpuMsPerMessage: number;
  peakRssMb: number;
  reps: Measured[];
}

function summarize(name: string, what: string, reps: Measured[], perCore = false): Row {
  const rates = reps.map((r) => (r.messages / (perCore ? r.cpuMs : r.wallMs)) * 1000);
  return {
    name,
    what,
    messages: reps[0]?.messages ?? 0,
    rate: median(rates),
    cpuMsPerMessage: median(reps.map((r) => r.cpuMs / r.messages)),
    peakRssMb: median(reps.map((r) => r.peakRssMb)),
    reps,
  };
}

const fmt = (n: number, digits = 0): string => (Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : 'n/a');

function printTable(rows: Row[]): void {
  const header = ['variant', 'messages', 'messages/s', 'CPU ms/msg', 'peak RSS MB', 'what'];
  const body = rows.map((r) => [r.name, fmt(r.messages), fmt(r.rate), fmt(r.cpuMsPerMessage, 3), fmt(r.peakRssMb), r.what]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const b of body) console.log(line(b));
}

// ------------------------------------------------------------------------------------------------- main

async function main(): Promise<void> {
  const tools = ensurePostfixTools();
  const port = await freePort();
  const sinkArgs = [...(process.getuid?.() === 0 ? ['-u', 'nobody'] : []), `127.0.0.1:${port}`, '1024'];
  const sink = spawn(tools.sink, sinkArgs, { stdio: ['ignore', 'ignore', 'pipe'] });
  let sinkErr = '';
  sink.stderr.on('data', (d: Buffer) => (sinkErr += d.toString()));
  const stopSink = () => {
    if (sink.exitCode === null) sink.kill('SIGTERM');
  };
  process.on('exit', stopSink);
  process.on('SIGINT', () => {
    stopSink();
    process.exit(130);
  });

  const dir = mkdtempSync(join(tmpdir(), 'mailroom-bench-'));
  try {
    await waitForPort(port).catch((e: Error) => {
      throw new Error(`${e.message}\n${sinkErr}`);
    });
    // The demo content comes from the package; DATA_DIR starts empty, as on a fresh install.
    const dataDir = join(dir, 'data');
    mkdirSync(dataDir, { recursive: true });
    const messageFile = join(dir, 'message.eml');
    const env: Record<string, string> = {
      ...(process.env as Record<string, string>),
      NODE_ENV: 'production',
      BENCH_DIR: dir,
      DATA_DIR: dataDir,
      DATABASE_URL: join(dir, 'bench.db'),
      SMTP_URL: `smtp://127.0.0.1:${port}`,
      SMTP_POOL_SIZE: String(CONNECTIONS),
      PUBLIC_URL: 'https://news.example.com',
      SECRET: 'bench-secret-that-is-long-enough-0123456789abcdef',
      BENCH_MESSAGE_FILE: messageFile,
    };
    const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? '?', memoryGb: Math.round(totalmem() / 2 ** 30), node: process.version };
    console.log(`mailroom bench: ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGb} GB, Node ${machine.node}; smtp-sink on 127.0.0.1:${port}; workspace ${dir}`);

    const output: Record<string, unknown> = { date: new Date().toISOString(), machine, command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(), recipients: RECIPIENTS, naiveRecipients: NAIVE, reps: REPS, connections: CONNECTIONS };

    if (!args['skip-base']) {
      const setup = await child('setup', { ...env, BENCH_RECIPIENTS: String(RECIPIENTS) });
      // smtp-source appends CRLF to each line it reads: give it LF line ends.
      writeFileSync(messageFile, readFileSync(messageFile, 'utf8').replace(/\r\n/g, '\n'));
      console.log(`setup: ${fmt(RECIPIENTS)} subscribers, demo digest issue #${setup['issue']}: ${fmt(Number(setup['messageBytes']) / 1024, 1)} KB as MIME (HTML ${fmt(Number(setup['htmlBytes']) / 1024, 1)} KB, text ${fmt(Number(setup['textBytes']) / 1024, 1)} KB)`);
      output['messageBytes'] = setup['messageBytes'];

      const runs: Record<'naive' | 'limit' | 'mailroom' | 'build', Measured[]> = { naive: [], limit: [], mailroom: [], build: [] };
      for (let rep = 1; rep <= REPS; rep += 1) {
        const naive = await child('naive', { ...env, BENCH_RECIPIENTS: String(NAIVE) });
        runs.naive.push(naive);
        const source = await runCommand([tools.source, '-d', '-s', String(CONNECTIONS), '-m', String(RECIPIENTS), '-F', messageFile, '-f', 'news@mailroom.example', '-t', 'reader@bench.example', `127.0.0.1:${port}`], env, { timeMe: true });
        if (source.code !== 0 || !source.time) throw new Error(`smtp-source failed (exit ${source.code}): ${source.stderr}`);
        const limit = { messages: RECIPIENTS, ...source.time };
        runs.limit.push(limit);
        const mailroom = await child('mailroom', env);
        runs.mailroom.push(mailroom);
        const build = await child('build', { ...env, BENCH_RECIPIENTS: String(RECIPIENTS) });
        runs.build.push(build);
        const r = (m: Measured) => fmt((m.messages / m.wallMs) * 1000);
        console.log(`rep ${rep}/${REPS}: naive ${r(naive)}/s, limit ${r(limit)}/s, mailroom ${r(mailroom)}/s, build ${fmt((build.messages / build.cpuMs) * 1000)}/s per core`);
      }
      const rows = [
        summarize('naive', `React render per recipient + sendMail, non-pooled (${fmt(NAIVE)} recipients)`, runs.naive),
        summarize('limit', `smtp-source -d -s ${CONNECTIONS}: the same message, C, same sink`, runs.limit),
        summarize('mailroom', `campaign from the database via sendNewsletter, ${CONNECTIONS} connections, statuses recorded`, runs.mailroom),
        summarize('build', 'personalization + MIME only, one thread (messages/s per core)', runs.build, true),
      ];
      const [naive, limit, mailroom] = rows as [Row, Row, Row, Row];
      const ratios = { mailroomOverNaive: mailroom.rate / naive.rate, mailroomOverLimit: mailroom.rate / limit.rate };
      console.log('');
      console.log(`medians of ${REPS} repetition(s), ${fmt(RECIPIENTS)} recipients, one ${fmt(Number(setup['messageBytes']) / 1024, 1)} KB message each:`);
      printTable(rows);
      console.log('');
      console.log(`mailroom / naive = ${fmt(ratios.mailroomOverNaive, 1)}×   (target ≥ 20×)`);
      console.log(`mailroom / limit = ${fmt(ratios.mailroomOverLimit, 2)}    (target ≥ 0.5)`);
      console.log(`build            = ${fmt(rows[3]?.rate ?? Number.NaN)} messages/s per core (target ≥ 5,000)`);
      output['results'] = Object.fromEntries(rows.map((r) => [r.name, r]));
      output['ratios'] = ratios;
    }

    if (SCALE > 0) output['scale'] = await scaleRun(env, SCALE);

    mkdirSync(dirname(resolve(args.json)), { recursive: true });
    writeFileSync(resolve(args.json), `${JSON.stringify(output, null, 2)}\n`);
    console.log(`\nfigures written to ${resolve(args.json)}`);
  } finally {
    stopSink();
    if (args.keep) console.log(`workspace kept: ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

/** 1,000,000 rows: CSV import through the CLI, the campaign's recipients fixed, everything sent to the sink. */
async function scaleRun(env: Record<string, string>, rows: number): Promise<Record<string, unknown>> {
  const dir = env['BENCH_DIR'] as string;
  const scaleEnv = { ...env, DATABASE_URL: join(dir, 'scale.db') };
  const csv = join(dir, `subscribers-${rows}.csv`);
  console.log(`\nscale run: ${fmt(rows)} subscribers`);
  const gen = await runNode(join(ROOT, 'scripts', 'gen-subscribers-csv.ts'), ['--rows', String(rows), '--out', csv], scaleEnv);
  if (gen.code !== 0) throw new Error(`gen-subscribers-csv failed: ${gen.stderr}`);
  console.log(`  CSV: ${fmt(statSync(csv).size / 2 ** 20, 1)} MB`);

  const imported = await runCommand([process.execPath, join(ROOT, 'bin', 'mailroom.js'), 'subscribers', 'import', csv, '--list', 'big', '--create-list'], scaleEnv, { timeMe: true });
  if (imported.code !== 0 || !imported.time) throw new Error(`mailroom subscribers import failed (exit ${imported.code}):\n${imported.stdout}\n${imported.stderr.slice(-3000)}`);
  const importLine = imported.stdout.trim().split('\n').pop() ?? '';
  console.log(`  import (mailroom subscribers import, one process): ${fmt(imported.time.wallMs / 1000, 1)} s, peak RSS ${fmt(imported.time.peakRssMb)} MB, CPU ${fmt(imported.time.cpuMs / 1000, 1)} s`);
  console.log(`    ${importLine}`);

  await child('scale-setup', scaleEnv);
  const send = (await child('scale-send', scaleEnv)) as unknown as Record<string, number>;
  const n = send['recipients'] ?? 0;
  console.log(`  campaign: ${fmt(n)} recipients fixed in ${fmt((send['fixMs'] ?? 0) / 1000, 2)} s`);
  console.log(`  sending: ${fmt(send['sent'] ?? 0)} sent in ${fmt((send['wallMs'] ?? 0) / 1000, 1)} s; ${fmt(send['overallRate'] ?? 0)}/s overall, first 10% ${fmt(send['first10Rate'] ?? 0)}/s, last 10% ${fmt(send['last10Rate'] ?? 0)}/s (${fmt(((send['last10Rate'] ?? 0) / (send['first10Rate'] ?? 1)) * 100)}%)`);
  console.log(`  peak RSS of the sending process: ${fmt(send['peakRssMb'] ?? 0)} MB; CPU ${fmt((send['cpuMs'] ?? 0) / (send['sent'] || 1), 3)} ms per message`);
  return {
    rows,
    csvBytes: statSync(csv).size,
    import: { ...imported.time, report: importLine },
    campaign: send,
    targets: {
      importUnder60s: imported.time.wallMs <= 60_000,
      importRssUnder256Mb: imported.time.peakRssMb <= 256,
      fixUnder20s: (send['fixMs'] ?? Infinity) <= 20_000,
      last10AtLeast90PercentOfFirst10: (send['last10Rate'] ?? 0) >= 0.9 * (send['first10Rate'] ?? Infinity),
      sendRssUnder300Mb: (send['peakRssMb'] ?? Infinity) <= 300,
    },
  };
}

await main();
