import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { loadConfig } from '../src/config.ts';

function dir(): string {
  return mkdtempSync(join(tmpdir(), 'mailroom-config-'));
}

describe('loadConfig', () => {
  test('defaults: SQLite in data/, local inbox, a generated secret kept in data/.secret', () => {
    const cwd = dir();
    const config = loadConfig({}, cwd);
    expect(config.databaseUrl).toBe(join(cwd, 'data', 'mailroom.db'));
    expect(config.smtpUrl).toBeNull();
    expect(config.port).toBe(3000);
    expect(config.publicUrl).toBe('http://localhost:3000');
    expect(config.secret).toHaveLength(64);
    expect(readFileSync(join(cwd, 'data', '.secret'), 'utf8').trim()).toBe(config.secret);
    expect(loadConfig({}, cwd).secret).toBe(config.secret);
  });

  test('.env is read and the environment wins over it', () => {
    const cwd = dir();
    writeFileSync(join(cwd, '.env'), 'PORT=4000\nPUBLIC_URL=https://from-file.example/\nSMTP_URL=smtp://u:p@mail.example:587\n');
    const config = loadConfig({ PORT: '5000' }, cwd);
    expect(config.port).toBe(5000);
    expect(config.publicUrl).toBe('https://from-file.example');
    expect(config.smtpUrl).toBe('smtp://u:p@mail.example:587');
    expect(config.sources.PUBLIC_URL).toBe('.env');
    expect(config.sources.PORT).toBe('environment');
  });

  test.each([
    [{ SMTP_URL: 'http://mail.example' }, /SMTP_URL="http:\/\/mail.example" \(from the environment\): scheme "http:"/],
    [{ SMTP_URL: 'not a url' }, /SMTP_URL="not a url".*is not a URL/],
    [{ SMTP_URL: 'smtp://user:hunter2@:25' }, /SMTP_URL/],
    [{ PORT: 'eighty' }, /PORT="eighty"/],
    [{ PUBLIC_URL: 'ftp://x' }, /PUBLIC_URL="ftp:\/\/x".*absolute http/],
    [{ SECRET: 'short' }, /SECRET=\(5 bytes, not shown\).*at least 32 bytes/],
    [{ DKIM_DOMAIN: 'example.com' }, /DKIM signing needs/],
  ])('%o is refused with a message naming it', (env, message) => {
    expect(() => loadConfig(env, dir())).toThrow(message);
  });

  test('a password in SMTP_URL is never printed', () => {
    expect(() => loadConfig({ SMTP_URL: 'ftp://user:hunter2@mail.example' }, dir())).toThrow(/user:\*\*\*@/);
    expect(() => loadConfig({ SMTP_URL: 'ftp://user:hunter2@mail.example' }, dir())).not.toThrow(/hunter2/);
  });
});
