/**
 * A real IMAP server for tests: Debian's Dovecot (`apt-get install dovecot-imapd`, .ci/run installs it) started in
 * the foreground with a throwaway config on 127.0.0.1 and a random port, one user with a Maildir. `available` is
 * false when Dovecot is not installed or cannot run here; the tests that need it are then skipped, saying why.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const DOVECOT_BIN = '/usr/sbin/dovecot';

export function dovecotAvailable(): boolean {
  return existsSync(DOVECOT_BIN) && typeof process.getuid === 'function';
}

export interface Dovecot {
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** imap://user:password@127.0.0.1:port/INBOX */
  readonly url: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, log: () => string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`dovecot exited (${child.exitCode}): ${log()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ port, host: '127.0.0.1' });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`dovecot did not listen on ${port}: ${log()}`);
}

function idOf(name: string, flag: '-u' | '-g'): number {
  const r = spawnSync('id', [flag, name], { encoding: 'utf8' });
  return r.status === 0 ? Number(r.stdout.trim()) : NaN;
}

export async function startDovecot(): Promise<Dovecot> {
  const dir = mkdtempSync(join(tmpdir(), 'mr-dc-'));
  chmodSync(dir, 0o755);
  const port = await freePort();
  const user = 'bounces';
  const password = 'bounce-mailbox-password';
  const asRoot = process.getuid?.() === 0;
  // Dovecot never gives mail access to UID 0: as root the mailbox belongs to nobody; otherwise to whoever runs the tests.
  const uid = asRoot ? idOf('nobody', '-u') : (process.getuid?.() ?? 0);
  const gid = asRoot ? idOf('nogroup', '-g') || idOf('nobody', '-g') : (process.getgid?.() ?? 0);
  const home = join(dir, 'home');
  mkdirSync(join(dir, 'run'), { recursive: true });
  mkdirSync(join(dir, 'state'), { recursive: true });
  mkdirSync(home, { recursive: true });
  if (asRoot) chownSync(home, uid, gid);
  writeFileSync(join(dir, 'passwd'), `${user}:{PLAIN}${password}:${uid}:${gid}::${home}\n`);
  const internal = asRoot ? 'dovecot' : (process.env.USER ?? 'root');
  writeFileSync(
    join(dir, 'dovecot.conf'),
    [
      `base_dir = ${join(dir, 'run')}`,
      `state_dir = ${join(dir, 'state')}`,
      `log_path = ${join(dir, 'dovecot.log')}`,
      'protocols = imap',
      'listen = 127.0.0.1',
      'ssl = no',
      'disable_plaintext_auth = no',
      'auth_mechanisms = plain login',
      `first_valid_uid = ${Math.min(uid, 1)}`,
      `default_internal_user = ${internal}`,
      `default_login_user = ${asRoot ? 'dovenull' : internal}`,
      `passdb {\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u ${join(dir, 'passwd')}\n}`,
      `userdb {\n  driver = passwd-file\n  args = username_format=%u ${join(dir, 'passwd')}\n}`,
      'mail_location = maildir:~/Maildir',
      `service imap-login {\n  inet_listener imap {\n    address = 127.0.0.1\n    port = ${port}\n  }\n  inet_listener imaps {\n    port = 0\n  }\n}`,
      'service anvil {\n  chroot =\n}',
      'service imap-login {\n  chroot =\n}',
      '',
    ].join('\n'),
  );
  const child = spawn(DOVECOT_BIN, ['-F', '-c', join(dir, 'dovecot.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const log = (): string => {
    let file = '';
    try {
      file = spawnSync('cat', [join(dir, 'dovecot.log')], { encoding: 'utf8' }).stdout;
    } catch {
      file = '';
    }
    return `${output}\n${file}`.trim().slice(-2000);
  };
  try {
    await waitForPort(port, child, log);
  } catch (error) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    port,
    user,
    password,
    url: `imap://${user}:${password}@127.0.0.1:${port}/INBOX`,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
