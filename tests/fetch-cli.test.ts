/**
 * Fetching through `mailroom` (in-process, and the real binary for the page that imports): a page or a feed whose body is cut short (the fetch timeout on an
 * HTTP/1.0 body that ends when the connection closes, fewer bytes than Content-Length, an unfinished chunked body) is
 * an error that imports nothing; an IPv6 address that embeds a refused IPv4 address is refused, directly and on a
 * redirect.
 */
import { rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { runBin, runInProcess, type Run } from './helpers/mailroom.ts';
import { makeDataDir } from './helpers/workspace.ts';

vi.setConfig({ testTimeout: 120_000 });

const HALF_PAGE = '<!doctype html><html><head><title>Harbor ferries go electric</title></head><body><article><h1>Harbor ferries go electric</h1><p>The city will replace its diesel ferries with electric ones by 2028, the transit authority said on Tuesday. The first of';
const WHOLE_PAGE = `${HALF_PAGE} six boats arrives next spring.</p><p>Charging happens at the two main piers, overnight and between runs, from the harbor's own solar roofs and the grid.</p></article></body></html>`;
const feed = (base: string) =>
  `<?xml version="1.0"?><rss version="2.0"><channel><title>Harbor news</title><link>${base}/</link><item><title>Ferries go electric</title><link>${base}/whole</link><guid>ferries</guid><description><![CDATA[<p>${'The city will replace its diesel ferries with electric ones. '.repeat(12)}</p>]]></description></item></channel></rss>`;

/** How the server answers each path, as raw bytes, switchable during a test. */
const routes = new Map<string, (socket: Socket) => void>();
let server: Server;
let base = '';
const sockets = new Set<Socket>();
let dir = '';

/** Runs `mailroom …args` in-process, or as the real binary with `bin`. */
function mailroom(args: readonly string[], extra: Record<string, string | undefined> = {}, bin = false): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) if (/^(DATABASE_URL|SMTP_|DKIM_|SEND_|INBOX_|FETCH_|PORT$|HOST$|TSX_)/.test(key)) delete env[key];
  Object.assign(env, {
    DATA_DIR: join(dir, 'data'),
    PUBLIC_URL: 'https://news.example.com',
    SECRET: 'fetch-cli-test-secret-0123456789abcdefghij',
    FETCH_ALLOW_PRIVATE: '127.0.0.1',
    FETCH_TIMEOUT_SECONDS: '1',
  });
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return (bin ? runBin : runInProcess)(dir, args, env);
}

const show = (run: Run): string => `exit ${run.code}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`;

function articleUrls(): string[] {
  const db = new BetterSqlite3(join(dir, 'data', 'mailroom.db'), { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('select canonical_url as url from articles order by id').all() as { url: string }[]).map((r) => r.url);
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  dir = makeDataDir();
  server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let head = '';
    socket.on('data', (chunk: Buffer) => {
      if (head.includes('\r\n\r\n')) return;
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      const path = /^GET (\S+)/.exec(head)?.[1] ?? '/';
      const route = routes.get(path);
      if (route) route(socket);
      else socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // HTTP/1.0, no Content-Length: the body ends when the server closes the connection.
  routes.set('/whole', (socket) => socket.end(`HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n${WHOLE_PAGE}`));
  routes.set('/stalls', (socket) => socket.write(`HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n${HALF_PAGE}`));
  routes.set('/closes-early', (socket) => socket.end(`HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: ${WHOLE_PAGE.length}\r\nConnection: close\r\n\r\n${HALF_PAGE}`));
  routes.set('/chunks-unfinished', (socket) =>
    socket.end(`HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${HALF_PAGE.length.toString(16)}\r\n${HALF_PAGE}\r\n`),
  );
  routes.set('/to-metadata', (socket) => socket.end('HTTP/1.1 302 Found\r\nLocation: http://[::a9fe:a9fe]/latest/meta-data/\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'));
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

describe('articles import URL', () => {
  test('a page cut off by the fetch timeout, or by the server closing early, is rejected and nothing is added', async () => {
    const stalled = await mailroom(['articles', 'import', `${base}/stalls`]);
    expect(stalled.code, show(stalled)).toBe(1);
    expect(stalled.stderr).toContain(`rejected  ${base}/stalls: timed out after 1 s (FETCH_TIMEOUT_SECONDS)`);
    expect(stalled.stdout).not.toMatch(/^added/m);
    expect(stalled.stdout).toContain('0 added, 0 updated, 0 unchanged, 1 rejected');

    const early = await mailroom(['articles', 'import', `${base}/closes-early`]);
    expect(early.code, show(early)).toBe(1);
    expect(early.stderr).toContain(`rejected  ${base}/closes-early: the connection closed before the whole body arrived (${HALF_PAGE.length} of ${WHOLE_PAGE.length} bytes)`);

    const chunks = await mailroom(['articles', 'import', `${base}/chunks-unfinished`]);
    expect(chunks.code, show(chunks)).toBe(1);
    expect(chunks.stderr).toContain(`rejected  ${base}/chunks-unfinished: the connection closed before the whole body arrived (the chunked body was not finished)`);
    expect(articleUrls().filter((url) => url.startsWith(base))).toEqual([]);

    // The same page, whole, ended by the server closing the connection (HTTP/1.0): imported.
    const whole = await mailroom(['articles', 'import', `${base}/whole`], {}, true);
    expect(whole.code, show(whole)).toBe(0);
    expect(whole.stdout).toMatch(/^added {5}harbor-ferries-go-electric/m);
  });

  test('an IPv6 address that embeds a loopback or metadata IPv4 address is refused, directly and on a redirect', async () => {
    // With the default guard (this test's server aside, 127.0.0.1 is allowed elsewhere in this file).
    const direct = await mailroom(['articles', 'import', 'http://[::127.0.0.1]/'], { FETCH_ALLOW_PRIVATE: undefined });
    expect(direct.code, show(direct)).toBe(1);
    expect(direct.stderr).toContain('http://[::7f00:1]/: refused: ::7f00:1 embeds 127.0.0.1 (IPv4-compatible): 127.0.0.1 is a loopback address');
    const redirected = await mailroom(['articles', 'import', `${base}/to-metadata`]);
    expect(redirected.code, show(redirected)).toBe(1);
    expect(redirected.stderr).toContain(
      `rejected  ${base}/to-metadata (redirected to http://[::a9fe:a9fe]/latest/meta-data/): refused: ::a9fe:a9fe embeds 169.254.169.254 (IPv4-compatible): 169.254.169.254 is a cloud metadata address`,
    );
  });
});

describe('feeds', () => {
  test('a feed cut off by the timeout or by the server closing early is an error naming it, and imports nothing', async () => {
    for (const args of [
      ['lists', 'create', 'harbor'],
      ['newsletter', 'create', 'harbor', '--name', 'Harbor', '--from', 'Harbor <news@example.com>', '--list', 'harbor', '--postal-address', '1 Pier Rd'],
    ]) {
      const run = await mailroom(args);
      expect(run.code, show(run)).toBe(0);
    }
    const before = articleUrls();
    const whole = feed(base);
    routes.set('/feed.xml', (socket) => socket.write(`HTTP/1.0 200 OK\r\nContent-Type: application/rss+xml\r\n\r\n${whole.slice(0, whole.length / 2)}`));
    const stalled = await mailroom(['feeds', 'add', 'harbor', `${base}/feed.xml`]);
    expect(stalled.code, show(stalled)).not.toBe(0);
    expect(stalled.stderr).toContain(`${base}/feed.xml: timed out after 1 s (FETCH_TIMEOUT_SECONDS)`);
    expect(articleUrls()).toEqual(before);

    // Added while whole, then cut short on the next poll.
    routes.set('/feed.xml', (socket) => socket.end(`HTTP/1.0 200 OK\r\nContent-Type: application/rss+xml\r\n\r\n${whole}`));
    const added = await mailroom(['feeds', 'add', 'harbor', `${base}/feed.xml`, '--no-poll']);
    expect(added.code, show(added)).toBe(0);
    routes.set('/feed.xml', (socket) => socket.end(`HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nContent-Length: ${whole.length}\r\nConnection: close\r\n\r\n${whole.slice(0, whole.length / 2)}`));
    const polled = await mailroom(['feeds', 'poll']);
    expect(polled.code, show(polled)).toBe(1);
    expect(polled.stderr).toContain(`${base}/feed.xml: the connection closed before the whole body arrived (${Math.floor(whole.length / 2)} of ${whole.length} bytes)`);
    expect(articleUrls()).toEqual(before);
  });
});
