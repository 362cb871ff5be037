/** Closing a server for good: Node's server.close() waits for connections that never sent a request; this ends them. */

import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';

/**
 * Browsers and HTTP clients open spare connections they may never use (Chromium's preconnects, undici after a
 * stream was cancelled). Node's server.close() closes idle keep-alive connections but waits for these, so a
 * `serve` told to stop could wait minutes. When `app` closes, they are destroyed, as is any that opens meanwhile.
 */
export function closeSilentConnectionsOnClose(app: FastifyInstance): void {
  const silent = new Set<Socket>();
  let closing = false;
  app.server.on('connection', (socket: Socket) => {
    if (closing) {
      socket.destroy();
      return;
    }
    silent.add(socket);
    socket.once('data', () => silent.delete(socket));
    socket.once('close', () => silent.delete(socket));
  });
  app.addHook('preClose', async () => {
    closing = true;
    for (const socket of silent) socket.destroy();
    silent.clear();
  });
}
