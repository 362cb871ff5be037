/**
 * web/src/api.ts mirrors the API's zod schemas by hand. This test keeps the mirror honest: every field the web app's
 * interfaces declare must be in the matching response of /api/openapi.json (generated from those zod schemas), so a
 * field renamed or removed on the server fails here instead of silently reading `undefined` in the browser. (The
 * other way round is not checked: the web app may leave out fields it does not use.)
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { startService, type Service } from '../src/service.ts';
import { makeDataDir } from './helpers/workspace.ts';

type Schema = { $ref?: string; $defs?: Record<string, Schema>; type?: string | string[]; properties?: Record<string, Schema>; items?: Schema; anyOf?: Schema[]; oneOf?: Schema[]; allOf?: Schema[] };
interface Doc {
  paths: Record<string, Record<string, { responses?: Record<string, { content?: Record<string, { schema?: Schema }> }> }>>;
  components?: { schemas?: Record<string, Schema> };
}

/** Interface in web/src/api.ts → the operation whose 2xx answer carries it, and the path to it inside (`[]` steps into an array). */
const MIRRORS: Readonly<Record<string, { method: string; path: string; at: readonly string[] }>> = {
  Newsletter: { method: 'get', path: '/api/v1/newsletters', at: ['items', '[]'] },
  MailingList: { method: 'get', path: '/api/v1/lists', at: ['items', '[]'] },
  Article: { method: 'get', path: '/api/v1/articles', at: ['items', '[]'] },
  Issue: { method: 'get', path: '/api/v1/newsletters/{slug}/issues', at: ['items', '[]'] },
  IssueWarnings: { method: 'get', path: '/api/v1/newsletters/{slug}/issues/{number}/warnings', at: [] },
  ListGrowth: { method: 'get', path: '/api/v1/growth', at: [] },
  Problems: { method: 'get', path: '/api/v1/problems', at: [] },
  Campaign: { method: 'get', path: '/api/v1/campaigns/{id}', at: ['campaign'] },
  Progress: { method: 'get', path: '/api/v1/campaigns/{id}', at: [] },
  Counts: { method: 'get', path: '/api/v1/campaigns/{id}', at: ['counts'] },
  Subscriber: { method: 'get', path: '/api/v1/subscribers/{id}', at: [] },
  Schedule: { method: 'get', path: '/api/v1/schedules', at: ['items', '[]'] },
  Feed: { method: 'get', path: '/api/v1/feeds', at: ['items', '[]'] },
  Token: { method: 'get', path: '/api/v1/tokens', at: ['items', '[]'] },
  User: { method: 'get', path: '/api/v1/users', at: ['items', '[]'] },
};

let service: Service;
let dir: string;
let doc: Doc;

beforeAll(async () => {
  dir = makeDataDir();
  const config = loadConfig(
    { DATA_DIR: join(dir, 'data'), PUBLIC_URL: 'https://news.example.com', SECRET: 'a-web-api-drift-secret-that-is-long-enough-0123', SMTP_URL: 'smtp://127.0.0.1:9', NODE_ENV: 'production', FEED_POLL_MINUTES: '0' },
    dir,
  );
  service = await startService({ ...config, port: 0, host: '127.0.0.1' }, { loadDemo: false, log: () => undefined });
  doc = (await (await fetch(`${service.httpUrl}/api/openapi.json`)).json()) as Doc;
});

afterAll(async () => {
  await service?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Each exported interface of web/src/api.ts and its own property names. */
function webInterfaces(): Map<string, string[]> {
  const file = new URL('../web/src/api.ts', import.meta.url);
  const source = ts.createSourceFile('api.ts', readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const out = new Map<string, string[]>();
  for (const statement of source.statements) {
    if (!ts.isInterfaceDeclaration(statement)) continue;
    out.set(
      statement.name.text,
      statement.members.filter(ts.isPropertySignature).map((m) => m.name.getText(source).replace(/^['"]|['"]$/g, '')),
    );
  }
  return out;
}

/** A schema with its references followed (`#/$defs/…` of the answer's own root, or `#/components/schemas/…`) and its unions spread. */
function resolve(schema: Schema | undefined, root: Schema): Schema[] {
  if (!schema) return [];
  if (schema.$ref) {
    const name = schema.$ref.replace(/^#\/(\$defs|components\/schemas)\//, '');
    return resolve(schema.$ref.startsWith('#/$defs/') ? root.$defs?.[name] : doc.components?.schemas?.[name], root);
  }
  const parts = [...(schema.anyOf ?? []), ...(schema.oneOf ?? []), ...(schema.allOf ?? [])];
  return parts.length > 0 ? [schema, ...parts.flatMap((part) => resolve(part, root))] : [schema];
}

function walk(root: Schema | undefined, at: readonly string[]): Schema[] {
  if (!root) return [];
  let current = resolve(root, root);
  for (const step of at) current = current.flatMap((s) => resolve(step === '[]' ? s.items : s.properties?.[step], root));
  return current;
}

function responseSchema(method: string, path: string): Schema | undefined {
  const operation = doc.paths[path]?.[method];
  const ok = Object.entries(operation?.responses ?? {}).find(([code]) => code.startsWith('2'))?.[1];
  return ok?.content?.['application/json']?.schema;
}

describe("web/src/api.ts against the API's OpenAPI document", () => {
  test('every mirrored interface exists in api.ts and its operation in the document', () => {
    const interfaces = webInterfaces();
    for (const [name, { method, path }] of Object.entries(MIRRORS)) {
      expect(interfaces.has(name), `interface ${name} in web/src/api.ts`).toBe(true);
      expect(responseSchema(method, path), `${method.toUpperCase()} ${path} with a JSON answer in /api/openapi.json`).toBeDefined();
    }
  });

  test('every field the web app declares is in the API answer it mirrors', () => {
    const interfaces = webInterfaces();
    const missing: string[] = [];
    for (const [name, { method, path, at }] of Object.entries(MIRRORS)) {
      const schemas = walk(responseSchema(method, path), at);
      const known = new Set(schemas.flatMap((s) => Object.keys(s.properties ?? {})));
      for (const field of interfaces.get(name) ?? []) if (!known.has(field)) missing.push(`${name}.${field} (${method.toUpperCase()} ${path}${at.length ? ` at ${at.join('.')}` : ''})`);
    }
    expect(missing).toEqual([]);
  });
});
