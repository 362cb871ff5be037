/** Safe fetching: the SSRF guard (after DNS, on every redirect), timeouts, the size cap, content types, charsets, conditional GET, the user agent. */
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLoopbackUrl } from '../src/config.ts';
import { checkAddress, isLoopbackAddress, parsePrivateAccess, type PrivateAccess } from '../src/net/address-policy.ts';
import { loadFetchSettings } from '../src/net/fetch-settings.ts';
import { FetchError, safeFetch, type FetchPolicy, type Resolver } from '../src/net/safe-fetch.ts';
import { startFixtureServer, type FixtureServer } from './helpers/fixture-server.ts';

const NONE: PrivateAccess = { kind: 'none' };
/** The relaxed guard these tests use to reach their own server: 127.0.0.1 only. */
const LOCAL_ONLY = parsePrivateAccess('127.0.0.1');

function policy(overrides: Partial<FetchPolicy> = {}): FetchPolicy {
  return { userAgent: 'Mailroom/0.1 (+https://news.example.com)', timeoutMs: 2000, maxBytes: 64 * 1024, access: LOCAL_ONLY, ...overrides };
}

async function fetchError(promise: Promise<unknown>): Promise<FetchError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(FetchError);
    return error as FetchError;
  }
  throw new Error('expected the fetch to fail');
}

/** A server that answers each path with raw bytes written by hand, for responses Node's HTTP server would not send. */
async function startRawServer(routes: Record<string, (socket: Socket) => void>): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const raw = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let head = '';
    socket.on('data', (chunk: Buffer) => {
      if (head.includes('\r\n\r\n')) return;
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      const path = /^GET (\S+)/.exec(head)?.[1] ?? '/';
      const route = routes[path];
      if (route) route(socket);
      else socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    });
  });
  await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', () => resolve()));
  const { port } = raw.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        raw.close(() => resolve());
      }),
  };
}

const PAGE = '<!doctype html><html><head><title>Hi</title></head><body><p>Hello</p></body></html>';

let server: FixtureServer;

beforeAll(async () => {
  server = await startFixtureServer();
  server.set('/page', { headers: { 'content-type': 'text/html; charset=utf-8' }, body: PAGE });
});

afterAll(async () => {
  await server.close();
});

describe('the SSRF guard', () => {
  it('refuses loopback, private, link-local, metadata and unique-local addresses by default, without connecting', async () => {
    const before = server.requests.length;
    const port = new URL(server.url).port;
    const cases: [string, RegExp][] = [
      [`http://127.0.0.1:${port}/page`, /127\.0\.0\.1 is a loopback address/],
      ['http://10.1.2.3/feed.xml', /10\.1\.2\.3 is a private address/],
      ['http://192.168.1.1/', /192\.168\.1\.1 is a private address/],
      ['http://172.16.5.4/', /private address/],
      ['http://169.254.169.254/latest/meta-data/', /169\.254\.169\.254 is a cloud metadata address/],
      ['http://[::1]:8080/', /::1 is a loopback address/],
      ['http://[::ffff:127.0.0.1]/', /127\.0\.0\.1 is a loopback address/],
      ['http://[fd00:ec2::254]/', /cloud metadata address/],
      ['http://0.0.0.0/', /unspecified address/],
      ['http://2130706433/', /127\.0\.0\.1 is a loopback address/],
    ];
    for (const [url, reason] of cases) {
      const error = await fetchError(safeFetch(url, policy({ access: NONE }), { accept: ['html'] }));
      expect(error.problem, url).toBe('refused');
      expect(error.message, url).toMatch(reason);
      expect(error.message, url).toMatch(/FETCH_ALLOW_PRIVATE/);
    }
    expect(server.requests.length).toBe(before);
  });

  it('checks the addresses a host name resolves to, all of them', async () => {
    const resolve: Resolver = async (host) =>
      host === 'intranet.example.com' ? [{ address: '10.0.0.7', family: 4 }] : [{ address: '93.184.215.14', family: 4 }, { address: '127.0.0.1', family: 4 }];
    const inside = await fetchError(safeFetch('https://intranet.example.com/feed', policy({ access: NONE, resolve }), { accept: ['feed'] }));
    expect(inside.message).toMatch(/intranet\.example\.com resolves to 10\.0\.0\.7/);
    const mixed = await fetchError(safeFetch('https://rebind.example.com/', policy({ access: NONE, resolve }), { accept: ['html'] }));
    expect(mixed.message).toMatch(/rebind\.example\.com resolves to 127\.0\.0\.1/);
  });

  it('connects to the address it checked, not to a second lookup', async () => {
    let lookups = 0;
    const resolve: Resolver = async () => {
      lookups += 1;
      return [{ address: '127.0.0.1', family: 4 }];
    };
    const port = new URL(server.url).port;
    const page = await safeFetch(`http://feeds.test:${port}/page`, policy({ resolve }), { accept: ['html'] });
    expect(page.text).toContain('Hello');
    expect(lookups).toBe(1);
    expect(server.hits('/page').at(-1)?.headers.host).toBe(`feeds.test:${port}`);
  });

  it('is relaxed by FETCH_ALLOW_PRIVATE for the listed addresses only', async () => {
    const page = await safeFetch(`${server.url}/page`, policy({ access: LOCAL_ONLY }), { accept: ['html'] });
    expect(page.status).toBe(200);
    const other = await fetchError(safeFetch('http://10.9.9.9/', policy({ access: LOCAL_ONLY }), { accept: ['html'] }));
    expect(other.message).toMatch(/10\.9\.9\.9 is a private address; not allowed by FETCH_ALLOW_PRIVATE=127\.0\.0\.1/);
    // "1" opens private ranges for local development, but never the metadata endpoint.
    expect(checkAddress('10.0.0.1', parsePrivateAccess('1'))).toEqual({ allowed: true });
    expect(checkAddress('169.254.169.254', parsePrivateAccess('1')).allowed).toBe(false);
    expect(checkAddress('8.8.8.8', NONE)).toEqual({ allowed: true });
    expect(checkAddress('2606:4700:4700::1111', NONE)).toEqual({ allowed: true });
  });

  it('judges an IPv6 address that embeds an IPv4 address by that IPv4 address: every form, refused or allowed like the IPv4 itself', () => {
    // [address, the IPv4 it carries (the one refused, for Teredo)].
    const refused: [string, RegExp][] = [
      ['::7f00:1', /::7f00:1 embeds 127\.0\.0\.1 \(IPv4-compatible\): 127\.0\.0\.1 is a loopback address/],
      ['::a9fe:a9fe', /embeds 169\.254\.169\.254 \(IPv4-compatible\): 169\.254\.169\.254 is a cloud metadata address/],
      ['::a00:1', /embeds 10\.0\.0\.1 \(IPv4-compatible\): 10\.0\.0\.1 is a private address/],
      ['::ffff:a9fe:a9fe', /169\.254\.169\.254 is a cloud metadata address/],
      ['::ffff:0:7f00:1', /embeds 127\.0\.0\.1 \(IPv4-translated\): 127\.0\.0\.1 is a loopback address/],
      ['64:ff9b::7f00:1', /embeds 127\.0\.0\.1 \(NAT64\): 127\.0\.0\.1 is a loopback address/],
      ['64:ff9b::a9fe:a9fe', /embeds 169\.254\.169\.254 \(NAT64\): 169\.254\.169\.254 is a cloud metadata address/],
      // Local-use NAT64 (RFC 8215): the IPv4 address sits where the operator's prefix length puts it; every layout is checked.
      ['64:ff9b:1::7f00:1', /embeds 127\.0\.0\.1 \(local-use NAT64\): 127\.0\.0\.1 is a loopback address/],
      // Public in the /96, /64 and /56 layouts (8.8.8.8, 8.8.8.8, 168.8.8.8), private in the /48 one.
      ['64:ff9b:1:c0a8:8:808:808:808', /embeds 192\.168\.8\.8 \(local-use NAT64\): 192\.168\.8\.8 is a private address/],
      ['2002:7f00:1::1', /embeds 127\.0\.0\.1 \(6to4\): 127\.0\.0\.1 is a loopback address/],
      ['2002:a9fe:a9fe:1::1', /embeds 169\.254\.169\.254 \(6to4\)/],
      // Teredo: the server is bits 32-63, the client the last 32 bits inverted (0x80fffffe is 127.0.0.1 inverted).
      ['2001:0:4136:e378:8000:63bf:80ff:fffe', /embeds 127\.0\.0\.1 \(Teredo client\): 127\.0\.0\.1 is a loopback address/],
      ['2001:0:a00:1:8000:63bf:f7f7:f7f7', /embeds 10\.0\.0\.1 \(Teredo server\): 10\.0\.0\.1 is a private address/],
    ];
    for (const [address, reason] of refused) {
      const verdict = checkAddress(address, NONE);
      expect(verdict.allowed, address).toBe(false);
      expect(verdict.allowed ? '' : verdict.reason, address).toMatch(reason);
    }
    // The same forms carrying public IPv4 addresses are public (a NAT64 network reaches every IPv4 site this way).
    for (const address of ['::ffff:808:808', '64:ff9b::808:808', '64:ff9b::5db8:d70e', '2002:808:808::1', '2001:0:4136:e378:8000:63bf:f7f7:f7f7']) {
      expect(checkAddress(address, NONE), address).toEqual({ allowed: true });
    }
    // The rules are the IPv4 address's own: FETCH_ALLOW_PRIVATE=1 opens the loopback one, never the metadata endpoint.
    expect(checkAddress('::7f00:1', parsePrivateAccess('1'))).toEqual({ allowed: true });
    expect(checkAddress('::a9fe:a9fe', parsePrivateAccess('1')).allowed).toBe(false);
    expect(checkAddress('64:ff9b::a9fe:a9fe', parsePrivateAccess('1')).allowed).toBe(false);
    // A listed IPv4 address is allowed in every form; an unlisted one in none.
    expect(checkAddress('::7f00:1', LOCAL_ONLY)).toEqual({ allowed: true });
    expect(checkAddress('2002:7f00:1::1', LOCAL_ONLY)).toEqual({ allowed: true });
    expect(checkAddress('::a00:1', LOCAL_ONLY).allowed).toBe(false);
    // An IPv4-mapped range in the list is the IPv4 range it maps.
    const mappedRange = parsePrivateAccess('::ffff:10.0.0.0/104');
    expect(checkAddress('10.1.2.3', mappedRange)).toEqual({ allowed: true });
    expect(checkAddress('::ffff:10.1.2.3', mappedRange)).toEqual({ allowed: true });
    expect(checkAddress('2002:a01:203::1', mappedRange)).toEqual({ allowed: true });
    expect(checkAddress('192.168.0.1', mappedRange).allowed).toBe(false);
    // ::1 and :: stay what they are (they are inside ::/96 too).
    expect(checkAddress('::1', NONE)).toEqual({ allowed: false, reason: '::1 is a loopback address' });
    expect(checkAddress('::', NONE)).toEqual({ allowed: false, reason: ':: is the unspecified address' });
  });

  it('knows every form of this machine (the check PUBLIC_URL and insecure_auth=local rely on)', () => {
    for (const host of ['127.0.0.1', '127.8.9.10', '::1', '[::1]', '::ffff:127.0.0.1', '::127.0.0.1', '::7f00:1']) expect(isLoopbackAddress(host), host).toBe(true);
    for (const host of ['10.0.0.1', '::', '64:ff9b::127.0.0.1', '2002:7f00:1::1', 'localhost', 'example.com']) expect(isLoopbackAddress(host), host).toBe(false);
    expect(isLoopbackUrl('http://[::127.0.0.1]:3000')).toBe(true);
    expect(isLoopbackUrl('http://[::ffff:127.0.0.1]:3000')).toBe(true);
    expect(isLoopbackUrl('http://[64:ff9b::127.0.0.1]:3000')).toBe(false);
  });

  it('refuses every embedded form in a URL and on a redirect, without connecting', async () => {
    const before = server.requests.length;
    const direct = await fetchError(safeFetch('http://[::127.0.0.1]/', policy({ access: NONE }), { accept: ['html'] }));
    expect(direct.problem).toBe('refused');
    expect(direct.message).toBe('http://[::7f00:1]/: refused: ::7f00:1 embeds 127.0.0.1 (IPv4-compatible): 127.0.0.1 is a loopback address; set FETCH_ALLOW_PRIVATE=1 (or a list of addresses) to allow private and local addresses for local development');
    // Each form carrying the metadata endpoint or a private address (the test server's 127.0.0.1 is allowed here, so not that one).
    const forms = ['[::a9fe:a9fe]', '[::ffff:169.254.169.254]', '[::ffff:0:10.0.0.1]', '[64:ff9b::169.254.169.254]', '[64:ff9b:1::a9fe:a9fe]', '[2002:a00:1::1]', '[2001:0:a9fe:a9fe:8000:63bf:f7f7:f7f7]', '[2001:0:4136:e378:8000:63bf:f5ff:fffe]'];
    for (const [i, host] of forms.entries()) {
      const url = `http://${host}/latest/meta-data/`;
      const refused = await fetchError(safeFetch(url, policy({ access: NONE }), { accept: ['html'] }));
      expect(refused.problem, host).toBe('refused');
      expect(refused.message, host).toMatch(/refused: \S+ embeds (10\.0\.0\.1|169\.254\.169\.254) \(/);
      server.set(`/to-${i}`, { status: 302, headers: { location: url } });
      const redirected = await fetchError(safeFetch(`${server.url}/to-${i}`, policy(), { accept: ['html'] }));
      expect(redirected.problem, host).toBe('refused');
      expect(redirected.message, host).toMatch(new RegExp(`^${server.url}/to-${i} \\(redirected to http://\\[[0-9a-f:]+\\]/latest/meta-data/\\): refused: \\S+ embeds (10\\.0\\.0\\.1|169\\.254\\.169\\.254) \\(`));
    }
    // Only the redirecting hops reached a server.
    expect(server.requests.slice(before).map((r) => r.path)).toEqual(forms.map((_, i) => `/to-${i}`));
    // A host name whose AAAA record is an embedded form is refused the same way.
    const resolve: Resolver = async () => [{ address: '::7f00:1', family: 6 }];
    const named = await fetchError(safeFetch('http://sneaky.example.com/', policy({ access: NONE, resolve }), { accept: ['html'] }));
    expect(named.message).toMatch(/sneaky\.example\.com resolves to ::7f00:1\): ::7f00:1 embeds 127\.0\.0\.1 \(IPv4-compatible\): 127\.0\.0\.1 is a loopback address/);
  });

  it('checks every redirect: a redirect to a private address is refused', async () => {
    server.set('/to-private', { status: 302, headers: { location: 'http://10.0.0.1/admin' } });
    server.set('/to-metadata', { status: 301, headers: { location: 'http://169.254.169.254/latest/meta-data/iam' } });
    server.set('/to-ftp', { status: 302, headers: { location: 'ftp://files.example.com/x' } });
    const toPrivate = await fetchError(safeFetch(`${server.url}/to-private`, policy(), { accept: ['html'] }));
    expect(toPrivate.problem).toBe('refused');
    expect(toPrivate.message).toContain(`${server.url}/to-private (redirected to http://10.0.0.1/admin): refused: 10.0.0.1 is a private address`);
    const toMetadata = await fetchError(safeFetch(`${server.url}/to-metadata`, policy({ access: parsePrivateAccess('1') }), { accept: ['html'] }));
    expect(toMetadata.message).toMatch(/redirected to http:\/\/169\.254\.169\.254\/latest\/meta-data\/iam\): refused: 169\.254\.169\.254 is a cloud metadata address/);
    const toFtp = await fetchError(safeFetch(`${server.url}/to-ftp`, policy(), { accept: ['html'] }));
    expect(toFtp.message).toMatch(/only http:\/\/ and https:\/\/ are followed/);
  });

  it('follows at most five redirects, relative ones included', async () => {
    for (let i = 1; i <= 7; i += 1) server.set(`/hop${i}`, { status: 302, headers: { location: `/hop${i + 1}` } });
    server.set('/hop8', { headers: { 'content-type': 'text/html' }, body: PAGE });
    server.set('/hop3-ok', { status: 307, headers: { location: 'hop4-ok' } });
    server.set('/hop4-ok', { status: 308, headers: { location: `${server.url}/page` } });
    const ok = await safeFetch(`${server.url}/hop3-ok`, policy(), { accept: ['html'] });
    expect(ok.url).toBe(`${server.url}/page`);
    expect(ok.redirects).toEqual([`${server.url}/hop4-ok`, `${server.url}/page`]);
    const tooMany = await fetchError(safeFetch(`${server.url}/hop1`, policy(), { accept: ['html'] }));
    expect(tooMany.problem).toBe('redirects');
    expect(tooMany.message).toBe(`${server.url}/hop1: more than 5 redirects (last to ${server.url}/hop7)`);
  });

  it('reads FETCH_ALLOW_PRIVATE, FETCH_TIMEOUT_SECONDS, FETCH_MAX_MB and FEED_POLL_MINUTES', () => {
    const cwd = '/nonexistent-dir-without-env';
    const defaults = loadFetchSettings({ publicUrl: 'https://news.example.com' }, {}, cwd);
    expect(defaults).toMatchObject({ access: { kind: 'none' }, timeoutMs: 15_000, maxBytes: 5 * 1024 * 1024, userAgent: 'Mailroom/0.1 (+https://news.example.com)', feedPollMinutes: 30 });
    const set = loadFetchSettings({ publicUrl: 'https://x.example' }, { FETCH_ALLOW_PRIVATE: '127.0.0.1, 10.0.0.0/8', FETCH_TIMEOUT_SECONDS: '3', FETCH_MAX_MB: '0.5', FEED_POLL_MINUTES: '0' }, cwd);
    expect(set.access.kind).toBe('list');
    expect(checkAddress('10.200.1.1', set.access).allowed).toBe(true);
    expect(checkAddress('192.168.0.1', set.access).allowed).toBe(false);
    expect(set).toMatchObject({ timeoutMs: 3000, maxBytes: 512 * 1024, feedPollMinutes: 0 });
    expect(() => loadFetchSettings({ publicUrl: 'https://x.example' }, { FETCH_ALLOW_PRIVATE: 'localhost' }, cwd)).toThrow(/FETCH_ALLOW_PRIVATE: "localhost" is not an IP address or a CIDR range/);
    expect(() => loadFetchSettings({ publicUrl: 'https://x.example' }, { FETCH_TIMEOUT_SECONDS: 'soon' }, cwd)).toThrow(/FETCH_TIMEOUT_SECONDS="soon" \(from the environment\): expected a number from 1 to 300/);
  });
});

describe('limits', () => {
  it('gives up after the timeout when the server never answers', async () => {
    server.set('/silent', { handler: () => undefined });
    const started = Date.now();
    const error = await fetchError(safeFetch(`${server.url}/silent`, policy({ timeoutMs: 300 }), { accept: ['html'] }));
    expect(error.problem).toBe('timeout');
    expect(error.message).toBe(`${server.url}/silent: timed out after 0.3 s (FETCH_TIMEOUT_SECONDS)`);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('gives up after the timeout when the body stalls halfway', async () => {
    server.set('/stall', {
      handler: (_request, response) => {
        response.writeHead(200, { 'content-type': 'text/html' });
        response.write('<html><body><p>Half a page');
      },
    });
    const error = await fetchError(safeFetch(`${server.url}/stall`, policy({ timeoutMs: 300 }), { accept: ['html'] }));
    expect(error.problem).toBe('timeout');
  });

  it('a body cut short is an error, never a shorter page: the timeout, fewer bytes than Content-Length, an unfinished chunked or gzip body', async () => {
    const half = '<!doctype html><html><head><title>Half</title></head><body><article><p>The first half of the article';
    const raw = await startRawServer({
      // HTTP/1.0 without Content-Length: the body ends when the connection closes; this one stalls until the timeout.
      '/stall-1.0': (socket) => socket.write(`HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n${half}`),
      '/feed-stall-1.0': (socket) => socket.write('HTTP/1.0 200 OK\r\nContent-Type: application/rss+xml\r\n\r\n<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><item><title>One</title>'),
      '/short-length': (socket) => socket.end(`HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: ${half.length * 2}\r\nConnection: close\r\n\r\n${half}`),
      '/short-chunked': (socket) => socket.end(`HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${half.length.toString(16)}\r\n${half}\r\n`),
      '/short-gzip-1.0': (socket) => {
        const zipped = gzipSync(`${half} and the second half.</p></article></body></html>`);
        socket.write('HTTP/1.0 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\n\r\n');
        socket.end(zipped.subarray(0, zipped.length - 12));
      },
      // A whole HTTP/1.0 body, ended by closing the connection, is still a page.
      '/whole-1.0': (socket) => socket.end(`HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n${PAGE}`),
    });
    try {
      const stalled = await fetchError(safeFetch(`${raw.url}/stall-1.0`, policy({ timeoutMs: 300 }), { accept: ['html'] }));
      expect(stalled.problem).toBe('timeout');
      expect(stalled.message).toBe(`${raw.url}/stall-1.0: timed out after 0.3 s (FETCH_TIMEOUT_SECONDS)`);
      const feed = await fetchError(safeFetch(`${raw.url}/feed-stall-1.0`, policy({ timeoutMs: 300 }), { accept: ['feed'] }));
      expect(feed.problem).toBe('timeout');
      const shortLength = await fetchError(safeFetch(`${raw.url}/short-length`, policy(), { accept: ['html'] }));
      expect(shortLength.problem).toBe('network');
      expect(shortLength.message).toBe(`${raw.url}/short-length: the connection closed before the whole body arrived (${half.length} of ${half.length * 2} bytes)`);
      const shortChunked = await fetchError(safeFetch(`${raw.url}/short-chunked`, policy(), { accept: ['html'] }));
      expect(shortChunked.message).toBe(`${raw.url}/short-chunked: the connection closed before the whole body arrived (the chunked body was not finished)`);
      const shortGzip = await fetchError(safeFetch(`${raw.url}/short-gzip-1.0`, policy(), { accept: ['html'] }));
      expect(shortGzip.message).toBe(`${raw.url}/short-gzip-1.0: the compressed body is truncated`);
      expect((await safeFetch(`${raw.url}/whole-1.0`, policy(), { accept: ['html'] })).text).toBe(PAGE);
    } finally {
      await raw.close();
    }
  });

  it('refuses a body over the size cap, by Content-Length or while streaming, and after decompression', async () => {
    const big = `<html><body>${'x'.repeat(200 * 1024)}</body></html>`;
    server.set('/big', { headers: { 'content-type': 'text/html', 'content-length': String(Buffer.byteLength(big)) }, body: big });
    let streamedBytes = 0;
    server.set('/big-stream', {
      handler: (_request, response) => {
        response.writeHead(200, { 'content-type': 'text/html' });
        const timer = setInterval(() => {
          if (response.destroyed || streamedBytes > 10 * 1024 * 1024) {
            clearInterval(timer);
            response.end();
            return;
          }
          response.write('x'.repeat(16 * 1024));
          streamedBytes += 16 * 1024;
        }, 1);
      },
    });
    server.set('/bomb', { headers: { 'content-type': 'text/html', 'content-encoding': 'gzip' }, body: gzipSync(Buffer.alloc(20 * 1024 * 1024, 0x41)) });
    const byLength = await fetchError(safeFetch(`${server.url}/big`, policy(), { accept: ['html'] }));
    expect(byLength.problem).toBe('too-large');
    expect(byLength.message).toMatch(/the body is \d+ bytes, over the 64 KB limit \(FETCH_MAX_MB\)/);
    const streamed = await fetchError(safeFetch(`${server.url}/big-stream`, policy(), { accept: ['html'] }));
    expect(streamed.problem).toBe('too-large');
    expect(streamed.message).toMatch(/over the 64 KB limit.*stopped reading/);
    expect(streamedBytes).toBeLessThan(5 * 1024 * 1024);
    const bomb = await fetchError(safeFetch(`${server.url}/bomb`, policy(), { accept: ['html'] }));
    expect(bomb.problem).toBe('too-large');
  });
});

describe('content', () => {
  it('checks the content type against what the caller expects, sniffing when the server does not say', async () => {
    server.set('/image', { headers: { 'content-type': 'image/png' }, body: Buffer.from([0x89, 0x50, 0x4e, 0x47]) });
    server.set('/json-feed', { headers: { 'content-type': 'application/feed+json' }, body: '{"version":"https://jsonfeed.org/version/1.1"}' });
    server.set('/untyped-feed', { headers: { 'content-type': 'application/octet-stream' }, body: '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title></channel></rss>' });
    server.set('/text-page', { headers: { 'content-type': 'text/plain' }, body: 'just text' });
    const image = await fetchError(safeFetch(`${server.url}/image`, policy(), { accept: ['html'] }));
    expect(image.message).toBe(`${server.url}/image: the server sent image/png, not a web page`);
    const json = await fetchError(safeFetch(`${server.url}/json-feed`, policy(), { accept: ['feed'] }));
    expect(json.message).toMatch(/sent application\/feed\+json, not an RSS or Atom feed/);
    const untyped = await safeFetch(`${server.url}/untyped-feed`, policy(), { accept: ['feed'] });
    expect(untyped.kind).toBe('feed');
    const text = await fetchError(safeFetch(`${server.url}/text-page`, policy(), { accept: ['html'] }));
    expect(text.problem).toBe('content-type');
    const page = await safeFetch(`${server.url}/page`, policy(), { accept: ['feed', 'html'] });
    expect(page.kind).toBe('html');
  });

  it('decodes the charset from the header, a meta tag or the XML declaration', async () => {
    const latin = Buffer.from('<html><head><meta charset="windows-1252"></head><body><p>caf\xe9 \x96 \x93quoted\x94</p></body></html>', 'latin1');
    server.set('/latin-meta', { headers: { 'content-type': 'text/html' }, body: latin });
    server.set('/latin-header', { headers: { 'content-type': 'text/html; charset=ISO-8859-1' }, body: Buffer.from('<p>na\xefve</p>', 'latin1') });
    server.set('/xml-decl', { headers: { 'content-type': 'application/rss+xml' }, body: Buffer.from('<?xml version="1.0" encoding="ISO-8859-1"?><rss><channel><title>Gr\xfc\xdfe</title></channel></rss>', 'latin1') });
    expect((await safeFetch(`${server.url}/latin-meta`, policy(), { accept: ['html'] })).text).toContain('café – “quoted”');
    expect((await safeFetch(`${server.url}/latin-header`, policy(), { accept: ['html'] })).text).toContain('naïve');
    expect((await safeFetch(`${server.url}/xml-decl`, policy(), { accept: ['feed'] })).text).toContain('Grüße');
  });

  it('sends a clear user agent and honors a conditional GET', async () => {
    server.set('/feed.xml', { etag: '"v1"', headers: { 'content-type': 'application/rss+xml', 'last-modified': 'Wed, 15 Apr 2026 10:00:00 GMT' }, body: '<rss version="2.0"><channel><title>T</title></channel></rss>' });
    const first = await safeFetch(`${server.url}/feed.xml`, policy(), { accept: ['feed'] });
    expect(first).toMatchObject({ status: 200, notModified: false, etag: '"v1"', lastModified: 'Wed, 15 Apr 2026 10:00:00 GMT' });
    const request = server.hits('/feed.xml')[0];
    expect(request?.headers['user-agent']).toBe('Mailroom/0.1 (+https://news.example.com)');
    expect(request?.headers['accept-encoding']).toMatch(/gzip/);
    const second = await safeFetch(`${server.url}/feed.xml`, policy(), { accept: ['feed'], etag: first.etag, lastModified: first.lastModified });
    expect(second).toMatchObject({ status: 304, notModified: true, text: '', etag: '"v1"' });
    expect(server.hits('/feed.xml')[1]?.headers['if-none-match']).toBe('"v1"');
    expect(server.hits('/feed.xml')[1]?.headers['if-modified-since']).toBe('Wed, 15 Apr 2026 10:00:00 GMT');
  });

  it('reads gzip bodies and names the URL and the status of an HTTP error', async () => {
    server.set('/gz', { headers: { 'content-type': 'text/html', 'content-encoding': 'gzip' }, body: gzipSync(PAGE) });
    expect((await safeFetch(`${server.url}/gz`, policy(), { accept: ['html'] })).text).toBe(PAGE);
    const missing = await fetchError(safeFetch(`${server.url}/missing`, policy(), { accept: ['html'] }));
    expect(missing.message).toBe(`${server.url}/missing: HTTP 404 Not Found`);
    expect(missing.code).toBe('NOT_FOUND');
    const invalid = await fetchError(safeFetch('file:///etc/passwd', policy(), { accept: ['html'] }));
    expect(invalid.problem).toBe('invalid-url');
    const closed = await fetchError(safeFetch('http://127.0.0.1:9/', policy(), { accept: ['html'] }));
    expect(closed.message).toBe('http://127.0.0.1:9/: connection refused');
  });
});
