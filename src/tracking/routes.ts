/**
 * The tracking endpoints: `/t/c/…` click redirects (targets only from the campaign's stored links) and `/t/o/….gif` open
 * pixels; with a trailing signed person token where the newsletter keeps per-subscriber data (kept only while it still does).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isMachineHit, PIXEL_GIF, verifyClick, verifyOpen, verifyPerson } from './tracking.ts';

function whoIs(request: FastifyRequest): { method: string; userAgent: string; ip: string } {
  const ua = request.headers['user-agent'];
  return { method: request.method, userAgent: typeof ua === 'string' ? ua : '', ip: request.ip };
}

function notFound(reply: FastifyReply): FastifyReply {
  return reply.code(404).type('text/plain; charset=utf-8').send('not found');
}

/** What the tracking endpoints need of the store (app.stores.tracking has it). */
export interface TrackingHits {
  keepsPeople(campaignId: number): Promise<boolean>;
  link(campaignId: number, position: number): Promise<string | null>;
  hit(campaignId: number, kind: 'open' | 'click', position: number, machine: boolean, subscriberId?: number | null): Promise<void>;
}

export function trackingRoutes(deps: { store: TrackingHits; secret: string; log?: (line: string) => void }) {
  return async (scope: FastifyInstance): Promise<void> => {
    /** undefined: no person token; null: a token that does not verify (404); a number: the person, if still kept. */
    const personOf = async (campaignId: number, token: string | undefined): Promise<number | null | undefined> => {
      if (token === undefined) return undefined;
      const subscriberId = verifyPerson(deps.secret, campaignId, token);
      if (subscriberId === null) return null;
      return (await deps.store.keepsPeople(campaignId)) ? subscriberId : undefined;
    };
    const click = async (request: FastifyRequest<{ Params: { c: string; p: string; sig: string; who?: string } }>, reply: FastifyReply) => {
      const campaignId = Number(request.params.c);
      const position = Number(request.params.p);
      if (!Number.isSafeInteger(campaignId) || !Number.isSafeInteger(position) || !verifyClick(deps.secret, campaignId, position, request.params.sig)) return notFound(reply);
      const person = await personOf(campaignId, request.params.who);
      if (person === null) return notFound(reply);
      const url = await deps.store.link(campaignId, position);
      if (!url) return notFound(reply);
      await deps.store.hit(campaignId, 'click', position, isMachineHit('click', whoIs(request)), person ?? null);
      return reply.code(302).header('location', url).header('cache-control', 'no-store').header('referrer-policy', 'no-referrer').send();
    };
    // GET, and HEAD (fastify answers it with the same handler; link scanners send it).
    scope.get('/t/c/:c/:p/:sig', click);
    scope.get('/t/c/:c/:p/:sig/:who', click);
    const open = async (request: FastifyRequest<{ Params: { c: string; file: string; sig?: string } }>, reply: FastifyReply) => {
      const campaignId = Number(request.params.c);
      const m = /^([A-Za-z0-9_.-]+)\.gif$/.exec(request.params.file);
      // /t/o/<c>/<sig>.gif, or /t/o/<c>/<sig>/<person>.gif
      const signature = request.params.sig ?? m?.[1];
      if (!Number.isSafeInteger(campaignId) || !m || signature === undefined || !verifyOpen(deps.secret, campaignId, signature)) return notFound(reply);
      const person = await personOf(campaignId, request.params.sig === undefined ? undefined : m[1]);
      if (person === null) return notFound(reply);
      await deps.store.hit(campaignId, 'open', -1, isMachineHit('open', whoIs(request)), person ?? null);
      return reply.code(200).type('image/gif').header('cache-control', 'no-store, private').send(PIXEL_GIF);
    };
    scope.get('/t/o/:c/:file', open);
    scope.get('/t/o/:c/:sig/:file', open);
  };
}
