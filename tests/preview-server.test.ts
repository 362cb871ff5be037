/**
 * `npm run dev`: React Email's real preview server, started on a free port, serves every template with its preview
 * props and the images shipped in emails/static (a link to data/media), nothing from another host; then it stops.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/workspace.ts';

let server: ChildProcess | null = null;
let origin = '';
let output = '';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

beforeAll(async () => {
  const port = await freePort();
  // Its own process group, so stopping it stops the Next.js server it runs too.
  server = spawn(process.execPath, [join(REPO_ROOT, 'node_modules/.bin/email'), 'dev', '--dir', 'emails', '--port', String(port)], {
    cwd: REPO_ROOT,
    detached: true,
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
  };
  server.stdout?.on('data', collect);
  server.stderr?.on('data', collect);
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    // It moves to the next port when this one was taken in the meantime: read the one it says.
    const match = /Running preview at:\s+(http:\/\/localhost:\d+)/.exec(output);
    if (match?.[1] && /Ready in/.test(output)) {
      origin = match[1];
      return;
    }
    if (server.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`the preview server did not start:\n${output}`);
}, 120_000);

afterAll(async () => {
  if (server?.pid !== undefined && server.exitCode === null) {
    const exited = new Promise((resolve) => server?.once('exit', resolve));
    process.kill(-server.pid, 'SIGTERM');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
    if (server.exitCode === null && server.signalCode === null) process.kill(-server.pid, 'SIGKILL');
  }
});

describe('the React Email preview server (npm run dev)', () => {
  it.each(['digest', 'article', 'confirm'])('serves the %s preview with shipped images only', async (name) => {
    const response = await fetch(`${origin}/preview/${name}`, { signal: AbortSignal.timeout(120_000) });
    const page = await response.text();
    expect(response.status, output).toBe(200);
    expect(page).toContain('/static/logo.png');
    expect(page).not.toContain('placehold.co');
    // The sample issue is dated today.
    const today = new Intl.DateTimeFormat('en', { year: 'numeric', month: 'long', day: 'numeric', timeZone: 'UTC' }).format(new Date());
    if (name !== 'confirm') expect(page).toContain(today);
  }, 150_000);

  it('serves the images from emails/static, byte for byte the shipped ones', async () => {
    const response = await fetch(`${origin}/static/logo.png`, { signal: AbortSignal.timeout(30_000) });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await response.arrayBuffer()).equals(readFileSync(join(REPO_ROOT, 'data/media/logo.png')))).toBe(true);
  }, 60_000);
});
