/**
 * Every failure of the API as `{ error: { code, message } }`, never a stack trace: 400 for
 * bad input (the library's INVALID_ARGUMENT and the checks here), 401, 404/405, 429, 503 when
 * the backend fails, 500 (message withheld, logged) for anything unexpected.
 */
import { BackendError, PorpoiseError } from '@porpoise/analytics';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { UsageError } from '../errors.js';
import { ExpressionError } from './expression.js';

export type ApiErrorCode =
  | 'INVALID_PARAMETER'
  | 'INVALID_EXPRESSION'
  | 'RANGE_TOO_LARGE'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN_HOST'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'RATE_LIMITED'
  | 'INTERNAL';

/** A refusal decided by the server itself. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ApiErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface ErrorBody {
  error: { code: string; message: string };
}

interface ValidationIssue {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
}

/** Ajv's first complaint, phrased with the parameter's name. */
function validationMessage(issues: readonly ValidationIssue[]): string {
  const issue = issues[0];
  if (issue === undefined) return 'invalid query parameters';
  const parameter = issue.instancePath.replace(/^\//, '').replace(/\/(\d+)$/, '[$1]');
  switch (issue.keyword) {
    case 'additionalProperties':
      return `unknown parameter "${String(issue.params.additionalProperty)}"`;
    case 'required':
      return `missing parameter "${String(issue.params.missingProperty)}"`;
    case 'enum':
      return `parameter "${parameter}" must be one of ${(issue.params.allowedValues as unknown[]).join(', ')}`;
    default:
      return `parameter "${parameter}" ${issue.message ?? 'is invalid'}`;
  }
}

export function statusAndBody(error: unknown): { status: number; body: ErrorBody } {
  const of = (status: number, code: string, message: string) => ({
    status,
    body: { error: { code, message } },
  });
  if (error instanceof ApiError) return of(error.status, error.code, error.message);
  if (error instanceof ExpressionError) return of(400, error.code, error.message);
  if (error instanceof UsageError) return of(400, 'INVALID_PARAMETER', error.message);
  const validation = (error as { validation?: ValidationIssue[] }).validation;
  if (Array.isArray(validation)) return of(400, 'INVALID_PARAMETER', validationMessage(validation));
  // BackendError first: it is a PorpoiseError too, but the fault is not the caller's.
  if (BackendError.isInstance(error)) return of(503, error.code, error.message);
  if (PorpoiseError.isInstance(error)) return of(400, error.code, error.message);
  const fastify = error as Partial<FastifyError>;
  if (typeof fastify.statusCode === 'number' && fastify.statusCode >= 400 && fastify.statusCode < 500) {
    return of(fastify.statusCode, fastify.code ?? 'BAD_REQUEST', fastify.message ?? 'bad request');
  }
  return of(500, 'INTERNAL', 'internal error: the server printed the details on its standard error');
}

/** Told about each 500, whose details the client does not get. */
export type InternalErrorListener = (error: unknown, request: string) => void;

export function sendError(
  request: FastifyRequest,
  reply: FastifyReply,
  error: unknown,
  onInternalError?: InternalErrorListener,
): FastifyReply {
  const { status, body } = statusAndBody(error);
  if (status === 500) onInternalError?.(error, `${request.method} ${request.url}`);
  return reply.code(status).type('application/json; charset=utf-8').send(body);
}
