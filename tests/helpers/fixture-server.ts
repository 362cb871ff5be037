/** A local HTTP server for fetching tests: routes by path on 127.0.0.1 with a random port, requests recorded, ETags honored. */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

export const FIXTURES_DIR = fileURLToPath(new URL('../fixtures/', import.meta.url));

export interface Route {
  readonly status?: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Buffer;
  /** Answered 304 when the request's If-None-Match carries it. */
  readonly etag?: string;
  /** Takes over the response entirely. */
  readonly handler?: (request: IncomingMessage, response: ServerResponse) => void;
}

export interface RecordedRequest {
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
}

export interface FixtureServer {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  readonly requests: RecordedRequest[];
  set(path: string, route: Route): void;
  /** Requests made to one path. */
  hits(path: string): RecordedRequest[];
  close(): Promise<void>;
}

/** A fixture file's text with {{BASE}} replaced by the server's URL. */
export function fixture(name: string, base = ''): string {
  return readFileSync(`${FIXTURES_DIR}${name}`, 'utf8').replaceAll('{{BASE}}', base);
}

export async function startFixtureServer(): Promise<FixtureServer> {
  const routes = new Map<string, Route>();
  const requests: RecordedRequest[] = [];
  const sockets = new Set<import('node:net').Socket>();
  const server = createServer((request, response) => {
    const path = request.url ?? '/';
    requests.push({ path, headers: request.headers });
    const route = routes.get(path) ?? routes.get(path.replace(/\?.*$/, ''));
    if (!route) {
      response.writeHead(404, { 'content-type': 'text/html' }).end('<h1>Not found</h1>');
      return;
    }
    if (route.handler) {
      route.handler(request, response);
      return;
    }
    if (route.etag && request.headers['if-none-match'] === route.etag) {
      response.writeHead(304, { etag: route.etag }).end();
      return;
    }
    response.writeHead(route.status ?? 200, { ...(route.etag ? { etag: route.etag } : {}), ...route.headers });
    response.end(route.body ?? '');
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    set: (path, route) => {
      routes.set(path, route);
    },
    hits: (path) => requests.filter((request) => request.path === path),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
