/**
 * Every API route is declared once, here in its shape: method, path, zod schemas of its parameters, query, body and
 * response, and the least role it requires. The same declaration validates requests, types the handler and
 * generates the OpenAPI document (openapi.ts), so a route cannot exist without its schema and its role.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Principal } from '../../accounts/account-service.ts';
import type { Role } from '../../accounts/roles.ts';
import { ApiProblem, describeFieldProblems, fieldProblems } from './problem.ts';

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
/** `public` routes need no credentials (login, the OpenAPI document). */
export type RouteRole = Role | 'public';

export interface RouteContext<P, Q, B> {
  readonly params: P;
  readonly query: Q;
  readonly body: B;
  /** Null only on public routes. */
  readonly principal: Principal | null;
  readonly request: FastifyRequest;
  readonly reply: FastifyReply;
}

export interface RouteResponse {
  readonly status: 200 | 201 | 202 | 204;
  readonly schema: z.ZodType;
  /** Default application/json; others (text/csv, text/event-stream, text/html) are written by the handler through `reply`. */
  readonly contentType?: string;
  readonly description?: string;
}

/** Limits: a smaller or larger body than the API's default, and a per-minute rate (per credential, or per IP on public routes). */
export interface RouteLimits {
  readonly bodyBytes?: number;
  readonly perMinute?: number;
}

interface RouteMeta {
  readonly method: HttpMethod;
  /** Under /api/v1, Fastify style: `/campaigns/:id`. */
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  readonly tag: string;
  readonly role: RouteRole;
  readonly response: RouteResponse;
  readonly limits?: RouteLimits;
  /** The body's media type when it is not JSON (e.g. text/csv for an import). */
  readonly bodyType?: string;
}

export interface ApiRoute extends RouteMeta {
  readonly params: z.ZodObject | null;
  readonly query: z.ZodObject | null;
  readonly body: z.ZodType | null;
  /** Parses the request with the route's schemas (422 naming the field and value) and runs the handler. */
  run(principal: Principal | null, request: FastifyRequest, reply: FastifyReply): Promise<unknown>;
}

function parsePart<S extends z.ZodType>(schema: S, input: unknown, where: string): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = fieldProblems(where, result.error, input);
  throw new ApiProblem(422, 'INVALID_INPUT', describeFieldProblems(problems), problems);
}

const NONE = z.object({});

export function defineRoute<P extends z.ZodObject = typeof NONE, Q extends z.ZodObject = typeof NONE, B extends z.ZodType = z.ZodUndefined, R extends z.ZodType = z.ZodType>(
  spec: RouteMeta & {
    readonly params?: P;
    readonly query?: Q;
    readonly body?: B;
    readonly handler: (context: RouteContext<z.output<P>, z.output<Q>, z.output<B>>) => Promise<z.input<R> | undefined>;
  },
): ApiRoute {
  const { handler, params, query, body, ...meta } = spec;
  return {
    ...meta,
    params: params ?? null,
    query: query ?? null,
    body: body ?? null,
    async run(principal, request, reply) {
      const parsed = {
        params: parsePart(params ?? NONE, request.params ?? {}, 'params') as z.output<P>,
        query: parsePart(query ?? NONE, request.query ?? {}, 'query') as z.output<Q>,
        body: (body ? parsePart(body, request.body, 'body') : undefined) as z.output<B>,
      };
      return handler({ ...parsed, principal, request, reply });
    },
  };
}

// ----------------------------------------------------------- shared pieces of schemas

/** A whole number from a path or query string. */
export const idParam = z.coerce.number().int().positive();
export const limitQuery = z.coerce.number().int().min(1).max(500).default(50);
