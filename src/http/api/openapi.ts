/** The OpenAPI 3.1 document, generated from the route declarations (define-route.ts) with zod's own JSON Schema output. */
import { z } from 'zod';
import type { ApiRoute } from './define-route.ts';
import { PROBLEM_TYPE, problemSchema } from './problem.ts';

type JsonSchema = Record<string, unknown>;

export const API_PREFIX = '/api/v1';

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const out = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as JsonSchema;
  delete out['$schema'];
  return out;
}

/** `/campaigns/:id/events` → `/campaigns/{id}/events`. */
export function openApiPath(path: string): string {
  return `${API_PREFIX}${path.replace(/:(\w+)/g, '{$1}')}`;
}

function parameters(schema: z.ZodObject | null, where: 'path' | 'query'): JsonSchema[] {
  if (!schema) return [];
  return Object.entries(schema.shape).map(([name, field]) => {
    const s = jsonSchema(field as z.ZodType, 'input');
    const optional = (field as z.ZodType).safeParse(undefined).success;
    return { name, in: where, required: where === 'path' || !optional, schema: s, ...(typeof s['description'] === 'string' ? { description: s['description'] } : {}) };
  });
}

const problemResponse = (description: string) => ({ description, content: { [PROBLEM_TYPE]: { schema: { $ref: '#/components/schemas/Problem' } } } });

export function buildOpenApi(routes: readonly ApiRoute[], info: { version: string; serverUrl: string }): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of routes) {
    const path = openApiPath(route.path);
    const responses: Record<string, JsonSchema> = {
      [String(route.response.status)]:
        route.response.status === 204
          ? { description: route.response.description ?? 'Done' }
          : { description: route.response.description ?? 'OK', content: { [route.response.contentType ?? 'application/json']: { schema: jsonSchema(route.response.schema, 'output') } } },
    };
    if (route.role !== 'public') {
      responses['401'] = problemResponse('No credentials, or an unknown token or expired session');
      responses['403'] = problemResponse(`The caller's role is below ${route.role}, or a cookie request without its CSRF token`);
    }
    if (route.params || route.query || route.body) responses['422'] = problemResponse('A parameter or field is invalid: the problem names it and its value');
    if (route.limits?.perMinute) responses['429'] = problemResponse(`More than ${route.limits.perMinute} requests a minute`);
    const operation: JsonSchema = {
      operationId: route.operationId,
      summary: route.summary,
      ...(route.description ? { description: route.description } : {}),
      tags: [route.tag],
      'x-required-role': route.role,
      security: route.role === 'public' ? [] : [{ bearerToken: [] }, { sessionCookie: [] }],
      parameters: [...parameters(route.params, 'path'), ...parameters(route.query, 'query')],
      responses,
    };
    if (route.body) operation['requestBody'] = { required: true, content: { [route.bodyType ?? 'application/json']: { schema: jsonSchema(route.body, 'input') } } };
    (paths[path] ??= {})[route.method.toLowerCase()] = operation;
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Mailroom API', version: info.version, description: 'Newsletters, lists, subscribers, articles, issues, campaigns, schedules, feeds, users and tokens. Errors are RFC 9457 problem details.' },
    servers: [{ url: info.serverUrl }],
    paths,
    components: {
      schemas: { Problem: jsonSchema(problemSchema, 'output') },
      securitySchemes: {
        bearerToken: { type: 'http', scheme: 'bearer', description: 'An API token from `mailroom tokens create NAME --role R` (mr_…)' },
        sessionCookie: { type: 'apiKey', in: 'cookie', name: 'mailroom_session', description: 'A browser session from POST /api/v1/auth/login; state-changing requests also need X-CSRF-Token' },
      },
    },
  };
}
