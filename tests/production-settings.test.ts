/**
 * `mailroom` outside local development: every command that sends or builds links for readers applies the rule `serve`
 * applies (a SECRET, a PUBLIC_URL readers can open, and for sending an SMTP_URL), names the setting, its value and
 * where it came from, and changes nothing when it refuses. The setup and the last send run the real binary; the
 * refusals run in-process (runInProcess: the same main(), environment and exit code, no process start).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { runBin, runInProcess as runMailroom, showRun, type BinRun } from './helpers/mailroom.ts';
import { startSmtpSink, type SmtpSink } from './helpers/smtp-sink.ts';

vi.setConfig({ testTimeout: 300_000 });

const SECRET = 'production-settings-secret-0123456789abcdef';

let sink: SmtpSink;
let cwd: string;
let dataDir: string;
let good: Record<string, string>;

function counts(): Record<string, number> {
  const db = new BetterSqlite3(join(dataDir, 'mailroom.db'), { readonly: true, fileMustExist: true });
  try {
    const n = (table: string) => Number((db.prepare(`select count(*) as n from ${table}`).get() as { n: number }).n);
    return { issues: n('issues'), campaigns: n('campaigns'), sends: n('sends'), sent: Number((db.prepare("select count(*) as n from sends where status = 'sent'").get() as { n: number }).n) };
  } finally {
    db.close();
  }
}

function expectOk(run: BinRun): void {
  expect(run.code, showRun(run)).toBe(0);
}

beforeAll(async () => {
  sink = await startSmtpSink();
  cwd = mkdtempSync(join(tmpdir(), 'mailroom-production-'));
  dataDir = join(cwd, 'data');
  mkdirSync(dataDir);
  good = { NODE_ENV: 'production', DATA_DIR: dataDir, PUBLIC_URL: 'https://news.example.com', SECRET, SMTP_URL: sink.url };
  // The demo, asked for, and one campaign sent with complete settings.
  expectOk(await runBin(cwd, ['demo'], good));
  const sent = await runBin(cwd, ['send', 'weekly'], good);
  expectOk(sent);
  expect(sink.messages.length).toBeGreaterThan(0);
});

afterAll(async () => {
  await sink.close();
  rmSync(cwd, { recursive: true, force: true });
});

/** Every command that sends or builds links for readers. */
const LINK_COMMANDS: readonly (readonly string[])[] = [
  ['send', 'weekly'],
  ['send', 'weekly', '--test', 'me@example.com'],
  ['send', 'weekly', '--dry-run'],
  ['send', 'weekly', '--at', '2031-01-06 09:00', '--tz', 'UTC'],
  ['send', 'weekly', '--issue', '1', '--force'],
  ['issue', 'build', 'weekly'],
  ['preview', 'weekly', '--out', 'preview.html'],
  ['preview', 'weekly/1', '--out', 'preview.html'],
  ['campaigns', 'resume', '1'],
  ['campaigns', 'retry-failed', '1', '--now'],
  ['lists', 'form', 'demo'],
];

describe('outside local development, the rule serve applies holds for every command that sends or builds links', () => {
  test('a loopback PUBLIC_URL under NODE_ENV=production is refused by each of them, naming the setting, its value and its source; nothing is written or sent', async () => {
    const before = counts();
    const delivered = sink.messages.length;
    for (const args of LINK_COMMANDS) {
      const run = await runMailroom(cwd, args, { ...good, PUBLIC_URL: 'http://localhost:3000' });
      const where = `mailroom ${args.join(' ')}\n${showRun(run)}`;
      expect(run.code, where).toBe(1);
      expect(run.stderr, where).toContain('outside local development (NODE_ENV=production)');
      expect(run.stderr, where).toContain('PUBLIC_URL="http://localhost:3000" (from the environment) points at this machine');
      expect(run.stdout, where).toBe('');
    }
    expect(counts()).toEqual(before);
    expect(sink.messages.length).toBe(delivered);
    expect(existsSync(join(cwd, 'preview.html'))).toBe(false);
  });

  test('the same settings in .env are named as coming from .env', async () => {
    writeFileSync(join(cwd, '.env'), 'PUBLIC_URL=http://127.0.0.1:8080\n');
    try {
      const { PUBLIC_URL: _unused, ...rest } = good;
      const run = await runMailroom(cwd, ['send', 'weekly'], rest);
      expect(run.code, showRun(run)).toBe(1);
      expect(run.stderr).toContain('PUBLIC_URL="http://127.0.0.1:8080" (from .env) points at this machine');
    } finally {
      rmSync(join(cwd, '.env'));
    }
  });

  test('a missing SECRET, PUBLIC_URL or SMTP_URL is named with what would be used instead', async () => {
    const { SECRET: _secret, ...noSecret } = good;
    const secret = await runMailroom(cwd, ['send', 'weekly'], noSecret);
    expect(secret.code, showRun(secret)).toBe(1);
    expect(secret.stderr).toMatch(/SECRET is not set \(a secret generated into .*\.secret would sign the links\)/);

    const { PUBLIC_URL: _url, ...noUrl } = good;
    const url = await runMailroom(cwd, ['issue', 'build', 'weekly'], noUrl);
    expect(url.code, showRun(url)).toBe(1);
    expect(url.stderr).toContain('PUBLIC_URL is not set (links would start with the default http://localhost:3000)');

    const { SMTP_URL: _smtp, ...noSmtp } = good;
    const smtp = await runMailroom(cwd, ['send', 'weekly', '--test', 'me@example.com'], noSmtp);
    expect(smtp.code, showRun(smtp)).toBe(1);
    expect(smtp.stderr).toContain('SMTP_URL is not set');
    // Building links needs no SMTP server: the check asks only for what the command uses.
    const preview = await runMailroom(cwd, ['preview', 'weekly/1', '--out', 'ok.html'], noSmtp);
    expectOk(preview);

    // Not local development either: a public PUBLIC_URL without NODE_ENV, but no SECRET.
    const { NODE_ENV: _env, SECRET: _s, ...publicHost } = good;
    const host = await runMailroom(cwd, ['send', 'weekly', '--dry-run'], publicHost);
    expect(host.code, showRun(host)).toBe(1);
    expect(host.stderr).toContain('outside local development (PUBLIC_URL=https://news.example.com is not on this machine)');
    expect(host.stderr).toContain('SECRET is not set');
  });

  test('commands that neither send nor build links still work, and complete settings still send', async () => {
    const bad = { ...good, PUBLIC_URL: 'http://localhost:3000' };
    for (const args of [['campaigns', 'list'], ['campaigns', 'show', '1'], ['subscribers', 'list'], ['issue', 'list', 'weekly'], ['newsletter', 'list']]) {
      expectOk(await runMailroom(cwd, args, bad));
    }
    const delivered = sink.messages.length;
    expectOk(await runBin(cwd, ['send', 'weekly', '--issue', '1', '--test', 'me@example.com'], good));
    expect(sink.messages.length).toBe(delivered + 1);
    expect(sink.messages.at(-1)?.parsed.html).toContain('https://news.example.com/u/');
  });
});
