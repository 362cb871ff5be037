/**
 * POSTing to an operator-given URL (outbound webhooks) behind the same SSRF guard as fetching pages and feeds:
 * the host is resolved and every address checked (src/net/address-policy.ts, via safe-fetch's resolveChecked), the
 * connection goes to the checked address only, redirects are not followed, one deadline covers the request, and only
 * the first bytes of the answer are kept.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { parseHttpUrl, resolveChecked, type FetchPolicy } from './safe-fetch.ts';

export interface PostResult {
  readonly status: number;
  /** The first 1 KB of the answer, for the delivery log. */
  readonly body: string;
}

export async function safePost(rawUrl: string, policy: Pick<FetchPolicy, 'access' | 'resolve' | 'timeoutMs' | 'userAgent'>, headers: Record<string, string>, body: string): Promise<PostResult> {
  const url = parseHttpUrl(rawUrl, 'webhook URL');
  const address = await resolveChecked(url, { ...policy, maxBytes: 1024 }, rawUrl);
  const secure = url.protocol === 'https:';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const pinned = ((_hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options.all) callback(null, [{ address: address.address, family: address.family }]);
    else callback(null, address.address, address.family);
  }) as unknown as LookupFunction;
  const signal = AbortSignal.timeout(policy.timeoutMs);
  return new Promise<PostResult>((resolve, reject) => {
    const request = (secure ? httpsRequest : httpRequest)(
      {
        protocol: url.protocol,
        host: isIP(host) ? address.address : host,
        port: url.port === '' ? (secure ? 443 : 80) : Number(url.port),
        path: `${url.pathname}${url.search}`,
        method: 'POST',
        headers: { 'user-agent': policy.userAgent, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...headers },
        agent: false,
        lookup: pinned,
        signal,
        ...(secure && !isIP(host) ? { servername: host } : {}),
      },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          if (size < 1024) chunks.push(chunk);
          size += chunk.length;
          if (size > 64 * 1024) response.destroy();
        });
        response.on('close', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8').slice(0, 1024) }));
        response.on('error', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8').slice(0, 1024) }));
      },
    );
    request.once('error', reject);
    request.end(body);
  });
}
