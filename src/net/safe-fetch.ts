/**
 * Fetching pages and feeds from the web, safely: every hop's host is resolved and checked against the SSRF guard and the
 * connection goes to the checked address only; redirects are followed by hand (at most 5); one deadline covers the whole
 * fetch; the body is streamed and cut off past a size cap (after decompression); the content type must be what the
 * caller expects; conditional requests (ETag / Last-Modified) are supported.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { pipeline, type Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { MailroomError } from '../core/errors.ts';
import { checkAddress, describeAccessHint, type PrivateAccess } from './address-policy.ts';

/** What a caller wants back: a web page, a feed (RSS/Atom/RDF XML), or plain text. */
export type ContentKind = 'html' | 'feed' | 'text';

export interface ResolvedAddress {
  readonly address: string;
  readonly family: number;
}

/** Resolves a host name to every address it has (tests inject one to simulate DNS). */
export type Resolver = (hostname: string) => Promise<readonly ResolvedAddress[]>;

export interface FetchPolicy {
  /** e.g. "Mailroom/0.1 (+https://news.example.com)". */
  readonly userAgent: string;
  /** Deadline for the whole fetch: every redirect, the headers and the body. */
  readonly timeoutMs: number;
  /** Largest body accepted, counted after decompression. */
  readonly maxBytes: number;
  readonly access: PrivateAccess;
  /** At most this many redirects (default 5). */
  readonly maxRedirects?: number;
  readonly resolve?: Resolver;
}

export interface FetchOptions {
  /** The kinds of content accepted; anything else is an error naming the content type. */
  readonly accept: readonly ContentKind[];
  /** Validators from the previous fetch, for a conditional request; a 304 answer gives `notModified`. */
  readonly etag?: string | null;
  readonly lastModified?: string | null;
  readonly signal?: AbortSignal;
}

export interface FetchedResource {
  readonly requestedUrl: string;
  /** The URL after redirects. */
  readonly url: string;
  readonly status: number;
  /** True on a 304 answer to a conditional request: `text` is empty. */
  readonly notModified: boolean;
  /** What the body is (by content type, or sniffed when the type is missing or generic); null when not modified. */
  readonly kind: ContentKind | null;
  readonly mimeType: string;
  /** The body decoded to text (charset from the header, a BOM, a meta tag or the XML declaration; UTF-8 otherwise). */
  readonly text: string;
  readonly bytes: number;
  readonly etag: string | null;
  readonly lastModified: string | null;
  /** Every URL redirected through, in order. */
  readonly redirects: readonly string[];
}

export type FetchProblem = 'invalid-url' | 'refused' | 'dns' | 'network' | 'timeout' | 'too-large' | 'http' | 'content-type' | 'redirects';

/** A fetch that failed; the message names the URL (and the redirect it failed on). */
export class FetchError extends MailroomError {
  readonly problem: FetchProblem;
  readonly url: string;
  readonly status: number | null;

  constructor(problem: FetchProblem, url: string, message: string, options: { status?: number; cause?: unknown } = {}) {
    super(problem === 'http' && options.status === 404 ? 'NOT_FOUND' : 'INVALID_INPUT', message, [], options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FetchError';
    this.problem = problem;
    this.url = url;
    this.status = options.status ?? null;
  }
}

export const DEFAULT_MAX_REDIRECTS = 5;

const MIME_KINDS: Readonly<Record<string, ContentKind>> = {
  'text/html': 'html',
  'application/xhtml+xml': 'html',
  'application/rss+xml': 'feed',
  'application/atom+xml': 'feed',
  'application/rdf+xml': 'feed',
  'application/x-rss+xml': 'feed',
  'application/x-atom+xml': 'feed',
  'application/xml': 'feed',
  'text/xml': 'feed',
  'text/plain': 'text',
};

/** Types that say nothing about the content: the body is sniffed instead. */
const GENERIC_TYPES = new Set(['', 'application/octet-stream', 'binary/octet-stream', 'application/unknown', 'text/plain']);

const ACCEPT_HEADERS: Readonly<Record<ContentKind, string>> = {
  html: 'text/html, application/xhtml+xml;q=0.9',
  feed: 'application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, application/xml;q=0.8, text/xml;q=0.8',
  text: 'text/plain;q=0.5',
};

const KIND_NAMES: Readonly<Record<ContentKind, string>> = { html: 'a web page', feed: 'an RSS or Atom feed', text: 'plain text' };

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** A URL as shown in messages: without a user name or password. */
export function showUrl(url: string | URL): string {
  try {
    const parsed = new URL(String(url));
    if (parsed.username || parsed.password) {
      parsed.username = '';
      parsed.password = '';
    }
    return parsed.href;
  } catch {
    return String(url);
  }
}

/** Parses and checks a URL given by a user: absolute, http or https. */
export function parseHttpUrl(raw: string, what = 'URL'): URL {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new FetchError('invalid-url', raw, `${raw}: not a valid ${what} (expected an absolute http:// or https:// URL)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new FetchError('invalid-url', raw, `${showUrl(url)}: only http:// and https:// ${what}s can be fetched, not ${url.protocol}`);
  }
  if (!url.hostname) throw new FetchError('invalid-url', raw, `${raw}: the ${what} has no host`);
  return url;
}

const defaultResolver: Resolver = async (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

/** Fetches one URL under the policy. Throws FetchError naming the URL for every problem. */
export async function safeFetch(rawUrl: string, policy: FetchPolicy, options: FetchOptions): Promise<FetchedResource> {
  const requested = parseHttpUrl(rawUrl);
  const requestedUrl = showUrl(requested);
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), policy.timeoutMs);
  const onExternalAbort = () => deadline.abort();
  options.signal?.addEventListener('abort', onExternalAbort, { once: true });
  const timedOut = () => deadline.signal.aborted && !options.signal?.aborted;
  const redirects: string[] = [];
  // Every message names the URL asked for, and the hop it failed on when that is another one.
  const where = (url: URL): string => (redirects.length === 0 ? requestedUrl : `${requestedUrl} (redirected to ${showUrl(url)})`);

  try {
    let url = requested;
    for (let hop = 0; ; hop += 1) {
      const address = await abortable(resolveChecked(url, policy, where(url)), deadline.signal);
      const response = await openRequest(url, address, requestHeaders(policy, options, hop === 0 || sameOrigin(url, requested)), deadline.signal).catch((error: unknown) => {
        throw describeNetworkError(error, where(url), timedOut(), policy.timeoutMs);
      });
      const status = response.statusCode ?? 0;

      if (REDIRECT_STATUSES.has(status)) {
        const location = response.headers.location;
        response.destroy();
        if (!location) throw new FetchError('http', where(url), `${where(url)}: HTTP ${status} redirect without a Location header`, { status });
        let next: URL;
        try {
          next = new URL(location, url);
        } catch {
          throw new FetchError('http', where(url), `${where(url)}: HTTP ${status} redirect to an invalid URL ${JSON.stringify(location)}`, { status });
        }
        if (next.protocol !== 'http:' && next.protocol !== 'https:') {
          throw new FetchError('refused', where(url), `${where(url)}: redirect to ${showUrl(next)} refused: only http:// and https:// are followed`);
        }
        if (redirects.length >= (policy.maxRedirects ?? DEFAULT_MAX_REDIRECTS)) {
          throw new FetchError('redirects', requestedUrl, `${requestedUrl}: more than ${policy.maxRedirects ?? DEFAULT_MAX_REDIRECTS} redirects (last to ${showUrl(next)})`);
        }
        redirects.push(showUrl(next));
        url = next;
        continue;
      }

      const etag = headerValue(response.headers.etag);
      const lastModified = headerValue(response.headers['last-modified']);
      if (status === 304) {
        response.destroy();
        return { requestedUrl, url: showUrl(url), status, notModified: true, kind: null, mimeType: '', text: '', bytes: 0, etag: etag ?? options.etag ?? null, lastModified: lastModified ?? options.lastModified ?? null, redirects };
      }
      if (status < 200 || status > 299) {
        response.destroy();
        throw new FetchError('http', where(url), `${where(url)}: HTTP ${status}${response.statusMessage ? ` ${response.statusMessage}` : ''}`, { status });
      }

      const { mimeType, charset } = parseContentType(headerValue(response.headers['content-type']) ?? '');
      const declaredKind = MIME_KINDS[mimeType];
      if (!GENERIC_TYPES.has(mimeType) && (declaredKind === undefined || !options.accept.includes(declaredKind))) {
        response.destroy();
        throw new FetchError('content-type', where(url), `${where(url)}: the server sent ${mimeType}, not ${expectedKinds(options.accept)}`);
      }
      const length = Number(headerValue(response.headers['content-length']) ?? NaN);
      if (Number.isFinite(length) && length > policy.maxBytes && !response.headers['content-encoding']) {
        response.destroy();
        throw new FetchError('too-large', where(url), `${where(url)}: the body is ${length} bytes, over the ${formatBytes(policy.maxBytes)} limit (FETCH_MAX_MB)`);
      }

      const body = await readBody(response, policy.maxBytes, where(url), deadline.signal).catch((error: unknown) => {
        if (error instanceof FetchError) throw error;
        throw describeNetworkError(error, where(url), timedOut(), policy.timeoutMs);
      });
      const kind = GENERIC_TYPES.has(mimeType) ? sniffKind(body, mimeType) : (declaredKind as ContentKind);
      if (!options.accept.includes(kind)) {
        throw new FetchError('content-type', where(url), `${where(url)}: the server sent ${mimeType || 'no content type'} and the body does not look like ${expectedKinds(options.accept)}`);
      }
      return {
        requestedUrl,
        url: showUrl(url),
        status,
        notModified: false,
        kind,
        mimeType: mimeType || (kind === 'html' ? 'text/html' : kind === 'feed' ? 'application/xml' : 'text/plain'),
        text: decodeText(body, charset, kind),
        bytes: body.length,
        etag,
        lastModified,
        redirects,
      };
    }
  } catch (error) {
    if (error instanceof FetchError) throw error;
    throw describeNetworkError(error, requestedUrl, timedOut(), policy.timeoutMs);
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onExternalAbort);
  }
}

/** Settles with the promise, or rejects as soon as the signal aborts (DNS lookups cannot be cancelled). */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new DOMException('aborted', 'AbortError'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new DOMException('aborted', 'AbortError'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** Resolves the URL's host and checks every address it has; returns the address to connect to. */
export async function resolveChecked(url: URL, policy: FetchPolicy, where: string): Promise<ResolvedAddress> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let addresses: readonly ResolvedAddress[];
  if (isIP(host)) {
    addresses = [{ address: host, family: isIP(host) }];
  } else {
    try {
      addresses = await (policy.resolve ?? defaultResolver)(host);
    } catch (error) {
      const code = (error as { code?: string }).code;
      const why = code === 'ENOTFOUND' || code === 'ENODATA' ? 'no such host' : `DNS lookup failed (${code ?? (error as Error).message})`;
      throw new FetchError('dns', where, `${where}: cannot resolve ${host}: ${why}`, { cause: error });
    }
    if (addresses.length === 0) throw new FetchError('dns', where, `${where}: cannot resolve ${host}: no addresses`);
  }
  // Every address must pass: a name that also points inside the network is refused outright.
  for (const { address } of addresses) {
    const verdict = checkAddress(address, policy.access);
    if (!verdict.allowed) {
      const named = isIP(host) ? '' : ` (${host} resolves to ${address})`;
      throw new FetchError('refused', where, `${where}: refused${named}: ${verdict.reason}; ${describeAccessHint(policy.access)}`);
    }
  }
  return addresses[0] as ResolvedAddress;
}

function requestHeaders(policy: FetchPolicy, options: FetchOptions, conditional: boolean): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {
    'user-agent': policy.userAgent,
    accept: [...options.accept.map((kind) => ACCEPT_HEADERS[kind]), '*/*;q=0.1'].join(', '),
    'accept-encoding': 'gzip, deflate, br',
    'accept-language': 'en;q=0.9, *;q=0.5',
  };
  if (conditional && options.etag) headers['if-none-match'] = options.etag;
  if (conditional && options.lastModified) headers['if-modified-since'] = options.lastModified;
  return headers;
}

function sameOrigin(a: URL, b: URL): boolean {
  return a.origin === b.origin;
}

/** Opens one HTTP(S) request to the checked address only: the host name is kept for the Host header, SNI and the certificate. */
function openRequest(url: URL, address: ResolvedAddress, headers: OutgoingHttpHeaders, signal: AbortSignal): Promise<IncomingMessage> {
  const secure = url.protocol === 'https:';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  // Node asks the lookup for every address when it may race IPv4 and IPv6; either way it only ever gets the checked one.
  const pinned = ((_hostname: string, lookupOptions: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (lookupOptions.all) callback(null, [{ address: address.address, family: address.family }]);
    else callback(null, address.address, address.family);
  }) as unknown as LookupFunction;
  return new Promise<IncomingMessage>((resolve, reject) => {
    const request = (secure ? httpsRequest : httpRequest)({
      protocol: url.protocol,
      host: isIP(host) ? address.address : host,
      port: url.port === '' ? (secure ? 443 : 80) : Number(url.port),
      path: `${url.pathname}${url.search}`,
      method: 'GET',
      headers,
      agent: false,
      lookup: pinned,
      signal,
      ...(secure && !isIP(host) ? { servername: host } : {}),
    });
    request.once('response', resolve);
    request.once('error', reject);
    request.end();
  });
}

/**
 * Reads and decompresses the body, aborting as soon as it grows past the cap. Only a body known to be whole is
 * returned: the full Content-Length, a finished chunked body, or (HTTP/1.0, no length) a connection the server closed
 * itself. A deadline or a cancellation that cut the connection is an error, even where the HTTP parser would call
 * what arrived a complete close-delimited body.
 */
async function readBody(response: IncomingMessage, maxBytes: number, where: string, signal: AbortSignal): Promise<Buffer> {
  const encoding = (headerValue(response.headers['content-encoding']) ?? 'identity').trim().toLowerCase();
  let stream: Readable = response;
  const identity = encoding === 'identity' || encoding === '';
  if (encoding === 'gzip' || encoding === 'x-gzip' || encoding === 'deflate' || encoding === 'br') {
    const decoder = encoding === 'br' ? createBrotliDecompress() : encoding === 'deflate' ? createInflate() : createGunzip();
    stream = pipeline(response, decoder, () => undefined) as unknown as Readable;
  } else if (!identity) {
    response.destroy();
    throw new FetchError('http', where, `${where}: unsupported content encoding ${JSON.stringify(encoding)}`);
  }
  const length = Number(headerValue(response.headers['content-length']) ?? NaN);
  const chunked = /chunked/i.test(headerValue(response.headers['transfer-encoding']) ?? '');
  const chunks: Buffer[] = [];
  let total = 0;
  const cutShort = (): Error => {
    if (signal.aborted) return signal.reason instanceof Error ? signal.reason : new DOMException('aborted', 'AbortError');
    const detail = chunked ? ' (the chunked body was not finished)' : identity && Number.isFinite(length) ? ` (${total} of ${length} bytes)` : '';
    return new FetchError('network', where, `${where}: the connection closed before the whole body arrived${detail}`);
  };
  try {
    for await (const chunk of stream) {
      const buffer = chunk as Buffer;
      total += buffer.length;
      if (total > maxBytes) {
        throw new FetchError('too-large', where, `${where}: the body is over the ${formatBytes(maxBytes)} limit (FETCH_MAX_MB); stopped reading`);
      }
      chunks.push(buffer);
    }
  } catch (error) {
    if (error instanceof FetchError) throw error;
    // Node reports a body cut short as a reset ("aborted"); a decoder error on a whole body is the decoder's.
    if (signal.aborted || (!response.complete && (error as { code?: string }).code === 'ECONNRESET')) throw cutShort();
    throw error;
  } finally {
    if (total > maxBytes || !response.complete || signal.aborted) response.destroy();
  }
  // Aborting destroys the socket, which ends a body delimited by the connection closing as if the server had finished it.
  const closeDelimited = !chunked && !Number.isFinite(length);
  if (!response.complete || (closeDelimited && signal.aborted)) throw cutShort();
  return Buffer.concat(chunks);
}

function describeNetworkError(error: unknown, where: string, timedOut: boolean, timeoutMs: number): FetchError {
  if (error instanceof FetchError) return error;
  if (timedOut) return new FetchError('timeout', where, `${where}: timed out after ${formatSeconds(timeoutMs)} (FETCH_TIMEOUT_SECONDS)`, { cause: error });
  const code = (error as { code?: string }).code;
  const name = (error as { name?: string }).name;
  if (name === 'AbortError' || code === 'ABORT_ERR') return new FetchError('network', where, `${where}: cancelled`, { cause: error });
  const reasons: Readonly<Record<string, string>> = {
    ECONNREFUSED: 'connection refused',
    ECONNRESET: 'connection reset by the server',
    ETIMEDOUT: 'connection timed out',
    EHOSTUNREACH: 'host unreachable',
    ENETUNREACH: 'network unreachable',
    EPROTO: 'TLS handshake failed',
    CERT_HAS_EXPIRED: 'its TLS certificate has expired',
    DEPTH_ZERO_SELF_SIGNED_CERT: 'its TLS certificate is self-signed',
    ERR_TLS_CERT_ALTNAME_INVALID: 'its TLS certificate is for another host',
    UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'its TLS certificate cannot be verified',
    Z_DATA_ERROR: 'the compressed body is corrupt',
    Z_BUF_ERROR: 'the compressed body is truncated',
  };
  const reason = (code && reasons[code]) ?? (error instanceof Error ? error.message : String(error));
  return new FetchError('network', where, `${where}: ${reason}`, { cause: error });
}

function headerValue(value: string | string[] | undefined): string | null {
  if (value === undefined) return null;
  const text = Array.isArray(value) ? value[0] : value;
  return text === undefined || text === '' ? null : text;
}

export function parseContentType(header: string): { mimeType: string; charset: string | null } {
  const [type = '', ...params] = header.split(';');
  let charset: string | null = null;
  for (const param of params) {
    const match = /^\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(param);
    if (match?.[1]) charset = match[1].toLowerCase();
  }
  return { mimeType: type.trim().toLowerCase(), charset };
}

/** Guesses what a body is when the server did not say. */
function sniffKind(body: Buffer, mimeType: string): ContentKind {
  const head = body.subarray(0, 1024).toString('latin1').replace(/^\uFEFF|^\xEF\xBB\xBF/, '').trimStart().toLowerCase();
  if (/^<\?xml[\s\S]*?<(rss|feed|rdf:rdf)\b/.test(head) || /^<(rss|feed|rdf:rdf)\b/.test(head)) return 'feed';
  if (/^(<!--[\s\S]*?-->\s*)*<(!doctype html|html|head|body)\b/.test(head)) return 'html';
  if (head.startsWith('<?xml')) return 'feed';
  return mimeType === 'text/plain' ? 'text' : 'text';
}

/** Decodes a body: BOM, then the header's charset, then a meta tag or the XML declaration, then UTF-8. */
export function decodeText(body: Buffer, headerCharset: string | null, kind: ContentKind): string {
  let label: string | null = null;
  if (body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) label = 'utf-8';
  else if (body[0] === 0xff && body[1] === 0xfe) label = 'utf-16le';
  else if (body[0] === 0xfe && body[1] === 0xff) label = 'utf-16be';
  label ??= headerCharset;
  if (label === null) {
    const head = body.subarray(0, 2048).toString('latin1');
    const declared =
      kind === 'html'
        ? /<meta[^>]+charset\s*=\s*["']?\s*([\w-]+)/i.exec(head)?.[1]
        : /^\s*<\?xml[^>]*encoding\s*=\s*["']([\w.-]+)["']/i.exec(head)?.[1];
    label = declared?.toLowerCase() ?? 'utf-8';
  }
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(label);
  } catch {
    decoder = new TextDecoder('utf-8');
  }
  // The WHATWG "windows-1252" (also meant by latin1, iso-8859-1 and ascii) maps 0x80-0x9F to “smart” punctuation;
  // Node 20's TextDecoder decodes it as plain ISO-8859-1, so those bytes are mapped here.
  if (decoder.encoding === 'windows-1252') return decodeWindows1252(body).replace(/^\uFEFF/, '');
  return decoder.decode(body).replace(/^\uFEFF/, '');
}

const WINDOWS_1252_HIGH = '€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008DŽ\u008F\u0090‘’“”•–—˜™š›œ\u009DžŸ';

function decodeWindows1252(body: Buffer): string {
  let text = '';
  for (let start = 0; start < body.length; start += 8192) {
    const chunk = body.subarray(start, start + 8192);
    text += Array.from(chunk, (byte) => (byte >= 0x80 && byte <= 0x9f ? WINDOWS_1252_HIGH[byte - 0x80] : String.fromCharCode(byte))).join('');
  }
  return text;
}

function expectedKinds(kinds: readonly ContentKind[]): string {
  return kinds.map((kind) => KIND_NAMES[kind]).join(' or ');
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${Number((bytes / (1024 * 1024)).toFixed(1))} MB`;
  if (bytes >= 1024) return `${Number((bytes / 1024).toFixed(1))} KB`;
  return `${bytes} bytes`;
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
