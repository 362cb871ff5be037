/** Users, API tokens and the effective settings: the owner's routes. */
import { z } from 'zod';
import { publicUser } from '../../../accounts/account-service.ts';
import { ROLES } from '../../../accounts/roles.ts';
import { ApiProblem } from '../problem.ts';
import type { ApiDeps } from '../api-deps.ts';
import { defineRoute, idParam, type ApiRoute } from '../define-route.ts';
import { userSchema } from './auth.ts';

const tokenSchema = z
  .object({ id: z.number().int(), name: z.string(), role: z.enum(ROLES), prefix: z.string(), createdAt: z.string(), lastUsedAt: z.string().nullable(), revokedAt: z.string().nullable() })
  .meta({ id: 'ApiToken' });

export function accountRoutes(deps: ApiDeps): ApiRoute[] {
  const { accounts } = deps;
  return [
    defineRoute({
      method: 'GET',
      path: '/users',
      operationId: 'listUsers',
      summary: 'List users',
      tag: 'users',
      role: 'owner',
      response: { status: 200, schema: z.object({ items: z.array(userSchema) }) },
      handler: async () => ({ items: await accounts.listUsers() }),
    }),
    defineRoute({
      method: 'POST',
      path: '/users',
      operationId: 'createUser',
      summary: 'Create a user; returns a one-time link where they choose a password',
      tag: 'users',
      role: 'owner',
      body: z.object({ email: z.string().min(3).max(320), role: z.enum(ROLES) }),
      response: { status: 201, schema: z.object({ user: userSchema, link: z.string() }) },
      handler: async ({ body }) => accounts.createUser(body.email, body.role),
    }),
    defineRoute({
      method: 'PATCH',
      path: '/users/:id',
      operationId: 'updateUser',
      summary: 'Change a user\'s role, or disable or enable them',
      tag: 'users',
      role: 'owner',
      params: z.object({ id: idParam }),
      body: z.object({ role: z.enum(ROLES).optional(), disabled: z.boolean().optional() }),
      response: { status: 200, schema: userSchema },
      handler: async ({ params, body }) => {
        if (body.role === undefined && body.disabled === undefined) throw new ApiProblem(422, 'INVALID_INPUT', 'body: nothing to change (give role or disabled)', [{ field: 'body', value: body, message: 'give role or disabled' }]);
        if (body.role !== undefined) await accounts.setRole(params.id, body.role);
        if (body.disabled !== undefined) await accounts.setDisabled(params.id, body.disabled);
        return publicUser(await accounts.findUser(params.id));
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/users/:id/reset-password',
      operationId: 'resetPassword',
      summary: 'A one-time link (24 hours) where the user chooses a new password',
      tag: 'users',
      role: 'owner',
      params: z.object({ id: idParam }),
      response: { status: 200, schema: z.object({ user: userSchema, link: z.string() }) },
      handler: async ({ params }) => accounts.resetPassword(params.id),
    }),
    defineRoute({
      method: 'GET',
      path: '/tokens',
      operationId: 'listTokens',
      summary: 'List API tokens (never their value)',
      tag: 'tokens',
      role: 'owner',
      response: { status: 200, schema: z.object({ items: z.array(tokenSchema) }) },
      handler: async () => ({ items: await accounts.listTokens() }),
    }),
    defineRoute({
      method: 'POST',
      path: '/tokens',
      operationId: 'createToken',
      summary: 'Create an API token; its value is in this response only',
      tag: 'tokens',
      role: 'owner',
      body: z.object({ name: z.string().min(1).max(64), role: z.enum(ROLES) }),
      response: { status: 201, schema: z.object({ token: tokenSchema, secret: z.string().describe('mr_…: shown once, only its hash is stored') }) },
      handler: async ({ body }) => accounts.createToken(body.name, body.role),
    }),
    defineRoute({
      method: 'DELETE',
      path: '/tokens/:id',
      operationId: 'revokeToken',
      summary: 'Revoke an API token',
      tag: 'tokens',
      role: 'owner',
      params: z.object({ id: idParam }),
      response: { status: 200, schema: tokenSchema },
      handler: async ({ params }) => accounts.revokeToken(String(params.id)),
    }),
    defineRoute({
      method: 'GET',
      path: '/settings',
      operationId: 'getSettings',
      summary: 'The effective settings, secrets hidden',
      tag: 'settings',
      role: 'owner',
      response: { status: 200, schema: z.object({ settings: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])) }) },
      handler: async () => ({ settings: deps.options.settings ? deps.options.settings() : { PUBLIC_URL: deps.publicUrl } }),
    }),
  ];
}
