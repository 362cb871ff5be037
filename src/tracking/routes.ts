/** The tracking endpoints: `/t/c/…` click redirects (targets only from the campaign's stored links) and `/t/o/….gif` open pixels. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TrackingStore } from '../store/tracking-store.ts';
import { isMachineHit, PIXEL_GIF, verifyClick, verifyOpen } from './tracking.ts';

function whoIs(request: FastifyRequest): { method: string; userAgent: string; ip: string } {
  const ua = request.headers['user-agent'];
  return { method: request.method, userAgent: typeof ua === 'string' ? ua : '', ip: request.ip };
}

function notFound(reply: FastifyReply): FastifyReply {
  return reply.code(404).type('text/plain; charset=utf-8').send('not found');
}

export function trackingRoutes(deps: { store: TrackingStore; secret: string; log?: (line: string) => void }) {
  return async (scope: FastifyInstance): Promise<void> => {
    const click = async (request: FastifyRequest<{ Params: { c: string; p: string; sig: string } }>, reply: FastifyReply) => {
      const campaignId = Number(request.params.c);
      const position = Number(request.params.p);
      if (!Number.isSafeInteger(campaignId) || !Number.isSafeInteger(position) || !verifyClick(deps.secret, campaignId, position, request.params.sig)) return notFound(reply);
      const url = await deps.store.link(campaignId, position);
      if (!url) return notFound(reply);
      await deps.store.hit(campaignId, 'click', position, isMachineHit('click', whoIs(request)));
      return reply.code(302).header('location', url).header('cache-control', 'no-store').header('referrer-policy', 'no-referrer').send();
    };
    // GET, and HEAD (fastify answers it with the same handler; link scanners send it).
    scope.get('/t/c/:c/:p/:sig', click);
    const open = async (request: FastifyRequest<{ Params: { c: string; file: string } }>, reply: FastifyReply) => {
      const campaignId = Number(request.params.c);
      const m = /^([A-Za-z0-9_-]+)\.gif$/.exec(request.params.file);
      if (!Number.isSafeInteger(campaignId) || !m || !verifyOpen(deps.secret, campaignId, m[1]!)) return notFound(reply);
      await deps.store.hit(campaignId, 'open', -1, isMachineHit('open', whoIs(request)));
      return reply.code(200).type('image/gif').header('cache-control', 'no-store, private').send(PIXEL_GIF);
    };
    scope.get('/t/o/:c/:file', open);
  };
}
