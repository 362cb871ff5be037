/** Errors of the API as RFC 9457 problem details (application/problem+json), each naming the field and the value at fault. */
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { isMailroomError, type MailroomErrorCode } from '../../core/errors.ts';

export const PROBLEM_TYPE = 'application/problem+json';

export interface FieldProblem {
  /** Where the bad value came from: `body.email`, `query.limit`, `params.id`. */
  readonly field: string;
  readonly value?: unknown;
  readonly message: string;
}

export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly code: string;
  readonly errors?: readonly FieldProblem[];
}

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string(),
    errors: z.array(z.object({ field: z.string(), value: z.unknown().optional(), message: z.string() })).optional(),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details' });

const STATUS_OF: Readonly<Record<MailroomErrorCode, number>> = {
  INVALID_INPUT: 422,
  NOT_FOUND: 404,
  CONFLICT: 409,
  TEMPLATE: 422,
  PLACEHOLDER_NOT_ALLOWED: 422,
  MESSAGE_TOO_LARGE: 422,
  SMTP_UNAVAILABLE: 503,
  CONFIG: 500,
  TOKEN: 410,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  LOCKED: 423,
  RATE_LIMITED: 429,
};

const TITLES: Readonly<Record<number, string>> = {
  400: 'Bad request',
  401: 'Authentication required',
  403: 'Forbidden',
  404: 'Not found',
  409: 'Conflict',
  410: 'Gone',
  413: 'Request body too large',
  415: 'Unsupported media type',
  422: 'Invalid request',
  423: 'Locked',
  429: 'Too many requests',
  500: 'Internal error',
  503: 'Service unavailable',
};

export class ApiProblem extends Error {
  readonly status: number;
  readonly code: string;
  readonly errors: readonly FieldProblem[];
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: number, code: string, detail: string, errors: readonly FieldProblem[] = [], headers: Readonly<Record<string, string>> = {}) {
    super(detail);
    this.status = status;
    this.code = code;
    this.errors = errors;
    this.headers = headers;
  }
}

export function problemOf(status: number, code: string, detail: string, errors: readonly FieldProblem[] = []): Problem {
  return {
    type: `https://mailroom.dev/problems/${code.toLowerCase().replace(/_/g, '-')}`,
    title: TITLES[status] ?? 'Error',
    status,
    detail,
    code,
    ...(errors.length > 0 ? { errors } : {}),
  };
}

/** A zod failure as field problems: `body.email`, with the value that was sent. */
export function fieldProblems(where: string, error: z.ZodError, input: unknown): FieldProblem[] {
  return error.issues.map((issue) => {
    const path = issue.path.map(String);
    let value: unknown = input;
    for (const key of path) value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
    const shown = typeof value === 'string' && value.length > 200 ? `${value.slice(0, 200)}…` : value;
    return { field: [where, ...path].join('.'), ...(shown === undefined ? {} : { value: shown }), message: issue.message };
  });
}

export function describeFieldProblems(problems: readonly FieldProblem[]): string {
  return problems.map((p) => `${p.field}${p.value === undefined ? '' : ` ${JSON.stringify(p.value)}`}: ${p.message}`).join('; ');
}

/** Anything thrown by a handler or by Fastify, as the problem the client gets. */
export function toProblem(error: unknown): { problem: Problem; headers: Readonly<Record<string, string>> } {
  if (error instanceof ApiProblem) return { problem: problemOf(error.status, error.code, error.message, error.errors), headers: error.headers };
  if (isMailroomError(error)) {
    const status = STATUS_OF[error.code];
    return { problem: problemOf(status, error.code, [error.message, ...error.details].join('\n')), headers: {} };
  }
  const fastifyError = error as { statusCode?: number; code?: string; message?: string };
  if (typeof fastifyError.statusCode === 'number' && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    const detail = fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? 'the request body is larger than this route accepts' : (fastifyError.message ?? 'bad request');
    return { problem: problemOf(fastifyError.statusCode, fastifyError.code ?? 'BAD_REQUEST', detail), headers: {} };
  }
  return { problem: problemOf(500, 'INTERNAL', 'an unexpected error happened; it was logged'), headers: {} };
}

export function sendProblem(reply: FastifyReply, problem: Problem, headers: Readonly<Record<string, string>> = {}): FastifyReply {
  for (const [name, value] of Object.entries(headers)) reply.header(name, value);
  return reply.code(problem.status).type(PROBLEM_TYPE).send(JSON.stringify(problem));
}
