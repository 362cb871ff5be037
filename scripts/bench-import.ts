/**
 * The import figure (issue 11): a generated N-row subscribers CSV imported into a fresh Postgres database through the
 * real CLI (`node bin/mailroom.js subscribers import`), wall time and peak RSS from GNU time, next to a baseline in the
 * same run: psql's `\copy` of the same file into a bare table (what the wire and the server do with no checks at all).
 *
 *   npm run bench:import -- --rows 1000000
 *
 * Postgres at POSTGRES_TEST_URL (default postgres://postgres@127.0.0.1:5432/test); the databases are dropped after.
 */
import { existsSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runCommand } from './lib/run-command.ts';
import { createScratchDatabase } from './lib/scratch-database.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({ options: { rows: { type: 'string', default: '1000000' }, csv: { type: 'string' } } });
const rows = Number(args.rows);
if (!Number.isInteger(rows) || rows <= 0) throw new Error(`--rows must be a positive integer, got ${JSON.stringify(args.rows)}`);
const csv = args.csv ?? `/tmp/mailroom-bench-import-${rows}.csv`;
const TIME = '/usr/bin/time';
if (!existsSync(TIME)) throw new Error('GNU time (/usr/bin/time) is needed for peak RSS: apt-get install time');

/** Under GNU time: wall seconds and peak RSS. */
async function run(command: string[], env: Record<string, string | undefined> = process.env): Promise<{ code: number; stdout: string; stderr: string; wallS: number; peakRssMb: number }> {
  const r = await runCommand(command, env, { timeMe: true });
  return { ...r, wallS: (r.time?.wallMs ?? Number.NaN) / 1000, peakRssMb: r.time?.peakRssMb ?? Number.NaN };
}

const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');

if (!existsSync(csv)) {
  const gen = await run([process.execPath, '--import', 'tsx', join(ROOT, 'scripts', 'gen-subscribers-csv.ts'), '--rows', String(rows), '--out', csv]);
  if (gen.code !== 0) throw new Error(`gen-subscribers-csv failed:\n${gen.stderr}`);
}
const header = readFileSync(csv, 'utf8').slice(0, 200).split('\n')[0] ?? '';
console.log(`import bench: ${rows.toLocaleString('en-US')} rows (${csv}); load average ${load()}`);

// Baseline: psql \copy into a bare table of text columns.
const copyDb = await createScratchDatabase('mailroom_bench_copy');
const baseUrl = copyDb.url;
const columns = header.split(',').map((c) => `${c} text`).join(', ');
const createBase = await run(['psql', baseUrl, '-qc', `CREATE TABLE raw (${columns})`]);
if (createBase.code !== 0) throw new Error(createBase.stderr);
console.log(`  load average before the baseline: ${load()}`);
const base = await run(['psql', baseUrl, '-qc', `\\copy raw FROM '${csv}' CSV HEADER`]);
if (base.code !== 0) throw new Error(`psql \\copy failed:\n${base.stderr}`);
console.log(`  baseline (psql \\copy into a bare table): ${base.wallS.toFixed(1)} s, psql peak RSS ${base.peakRssMb.toFixed(0)} MB`);

// Mailroom: the CLI against a fresh, migrated database.
const importDb = await createScratchDatabase('mailroom_bench_import');
const url = importDb.url;
const env = { ...process.env, DATABASE_URL: url, MAILROOM_IMPORT_TRACE: '1' };
const migrate = await run([process.execPath, join(ROOT, 'bin', 'mailroom.js'), 'migrate'], env);
if (migrate.code !== 0) throw new Error(`mailroom migrate failed:\n${migrate.stderr}`);
console.log(`  load average before the import: ${load()}`);
const imported = await run([process.execPath, join(ROOT, 'bin', 'mailroom.js'), 'subscribers', 'import', csv, '--list', 'big', '--create-list'], env);
if (imported.code !== 0) throw new Error(`mailroom subscribers import failed (exit ${imported.code}):\n${imported.stderr.slice(-3000)}`);
const phases = imported.stderr.split('\n').filter((l) => l.startsWith('[import]') && !/ read \d/.test(l));
console.log(`  mailroom subscribers import: ${imported.wallS.toFixed(1)} s, peak RSS ${imported.peakRssMb.toFixed(0)} MB (${(imported.wallS / base.wallS).toFixed(1)}× the baseline)`);
for (const p of phases) console.log(`    ${p}`);
console.log(`    ${imported.stdout.trim().split('\n').pop() ?? ''}`);
console.log(`  targets: <= 60 s ${imported.wallS <= 60 ? 'met' : 'NOT met'}, <= 256 MB ${imported.peakRssMb <= 256 ? 'met' : 'NOT met'}; load average after: ${load()}`);

await copyDb.drop();
await importDb.drop();
