/**
 * SQLite: how long another process's write waits while a CSV import runs. A writer (this process) runs a small
 * BEGIN IMMEDIATE / INSERT / COMMIT every 20 ms against the same file while `mailroom subscribers import` runs in a
 * child; prints the longest wait and the import's wall time. `--base DIR` runs another checkout's CLI too (before/after).
 *
 *   node --import tsx scripts/measure-import-writer-wait.ts --rows 200000 --base /work/main
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import BetterSqlite3 from 'better-sqlite3';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({ options: { rows: { type: 'string', default: '200000' }, base: { type: 'string' } } });
const rows = Number(args.rows);
const csv = `/tmp/mailroom-writer-wait-${rows}.csv`;

function node(cwd: string, argv: string[], env: Record<string, string | undefined>): Promise<number> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, argv, { cwd, env, stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('error', fail);
    child.on('close', (code) => done(code ?? -1));
  });
}

if (!existsSync(csv)) await node(ROOT, ['--import', 'tsx', join(ROOT, 'scripts', 'gen-subscribers-csv.ts'), '--rows', String(rows), '--out', csv], process.env);

async function measure(checkout: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mailroom-wait-'));
  const file = join(dir, 'mailroom.db');
  const env = { ...process.env, DATABASE_URL: file };
  await node(checkout, [join(checkout, 'bin', 'mailroom.js'), 'migrate'], env);
  const db = new BetterSqlite3(file);
  db.pragma('busy_timeout = 60000');
  db.exec('CREATE TABLE IF NOT EXISTS writer_probe (at TEXT)');
  const insert = db.prepare('INSERT INTO writer_probe VALUES (?)');
  let longest = 0;
  let writes = 0;
  let done = false;
  const started = performance.now();
  const importing = node(checkout, [join(checkout, 'bin', 'mailroom.js'), 'subscribers', 'import', csv, '--list', 'big', '--create-list'], env).then((code) => {
    done = true;
    return code;
  });
  while (!done) {
    await new Promise((r) => setTimeout(r, 20));
    const t = performance.now();
    db.exec('BEGIN IMMEDIATE'); // waits (synchronously, up to busy_timeout) while another process writes
    insert.run(new Date().toISOString());
    db.exec('COMMIT');
    longest = Math.max(longest, performance.now() - t);
    writes += 1;
  }
  const code = await importing;
  const wall = (performance.now() - started) / 1000;
  db.close();
  rmSync(dir, { recursive: true, force: true });
  console.log(`${checkout}: import exit ${code}, ${wall.toFixed(1)} s; concurrent writer: ${writes} writes, longest wait ${(longest / 1000).toFixed(2)} s; load average ${loadavg()[0]?.toFixed(2)}`);
}

console.log(`SQLite, ${rows.toLocaleString('en-US')} rows`);
if (args.base) await measure(resolve(args.base));
await measure(ROOT);
