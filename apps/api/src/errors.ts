import type { ErrorRequestHandler } from 'express';
import type { Logger } from 'pino';
import { GatewayError } from '@ccg/contracts';

/** The body of every failure (`send` below writes it); the OpenAPI document references it. */
export const errorEnvelopeSchema = {
  type: 'object',
  required: ['success', 'message', 'error'],
  properties: {
    success: { const: false },
    message: { type: 'string' },
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', description: 'stable machine-readable code, e.g. INVALID_INPUT, NOT_FOUND, PRECHECK_DENIED' },
        message: { type: 'string' },
        details: { description: 'code-specific; for 400s `field` names the offending field' },
      },
    },
  },
} as const;

const PG_UNAVAILABLE = new Set(['57P01', '57P02', '57P03', '53300', '08000', '08001', '08003', '08004', '08006']);

interface HttpishError {
  type?: string;
  status?: number;
  code?: string;
  message?: string;
}

/** Recognises "the database or queue is down" errors so clients get 503 + Retry-After, not 500. */
function isDependencyDown(err: HttpishError): boolean {
  if (err.code && (PG_UNAVAILABLE.has(err.code) || err.code === 'ECONNREFUSED' || err.code === 'ECONNRESET' || err.code === 'ETIMEDOUT')) return true;
  const msg = err.message ?? '';
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(msg);
}

function send(res: Parameters<ErrorRequestHandler>[2], status: number, code: string, message: string, details?: unknown, headers?: Record<string, string>) {
  if (headers) res.set(headers);
  res.status(status).json({ success: false, message, error: details === undefined ? { code, message } : { code, message, details } });
}

/** One place turns errors into the error envelope; only 5xx are logged as errors. */
export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    if (res.headersSent) return;
    if (err instanceof GatewayError) {
      if (err.status >= 500) log.warn({ err: err.message, code: err.code, request_id: res.locals.requestId }, 'request failed');
      return send(res, err.status, err.code, err.message, err.details, err.headers);
    }
    const e = err as HttpishError;
    switch (e.type) {
      case 'entity.too.large':
        return send(res, 413, 'PAYLOAD_TOO_LARGE', 'request body is larger than the configured limit (BODY_LIMIT)');
      case 'entity.parse.failed':
        return send(res, 400, 'INVALID_JSON', `request body is not valid JSON: ${e.message}`, { field: '(body)' });
      case 'encoding.unsupported':
      case 'charset.unsupported':
        return send(res, 415, 'UNSUPPORTED_MEDIA_TYPE', e.message ?? 'unsupported body encoding');
      case 'request.aborted':
        return send(res, 400, 'REQUEST_ABORTED', 'the client aborted the request');
    }
    if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
      return send(res, e.status, 'BAD_REQUEST', e.message ?? 'bad request');
    }
    if (isDependencyDown(e)) {
      log.warn({ err: e.message, request_id: res.locals.requestId }, 'dependency unavailable');
      return send(res, 503, 'SERVICE_UNAVAILABLE', 'a dependency of the gateway is unavailable; retry shortly', undefined, { 'Retry-After': '2' });
    }
    log.error({ err, request_id: res.locals.requestId }, 'unhandled error');
    return send(res, 500, 'INTERNAL', 'internal error');
  };
}
