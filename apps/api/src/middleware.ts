import { randomUUID } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { GatewayError } from '@ccg/contracts';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Called once a request's answer is finished, with its duration in seconds. */
export type FinishObserver = (req: Request, res: Response, seconds: number) => void;

/**
 * Echoes a caller's X-Request-Id (when sane) or makes one; logs every request on completion
 * (at LOG_LEVEL=trace with its headers and body, secrets redacted by the logger) and hands its
 * duration to `observe` (the HTTP metrics), from the one 'finish' listener per request.
 */
export function requestContext(log: Logger, observe?: FinishObserver): RequestHandler {
  return (req, res, next) => {
    const incoming = req.headers['x-request-id'];
    const requestId = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.locals.requestId = requestId;
    res.setHeader('X-Request-Id', requestId);
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      observe?.(req, res, seconds);
      const level = res.statusCode >= 500 ? 'warn' : 'info';
      log[level]({ request_id: requestId, method: req.method, path: req.path, status: res.statusCode, ms: Math.round(seconds * 10_000) / 10 }, 'request');
      // Debugging aid: headers and the parsed JSON body; the logger redacts tokens and kubeconfigs in them.
      if (log.isLevelEnabled('trace')) log.trace({ request_id: requestId, headers: req.headers, body: req.body }, 'request detail');
    });
    next();
  };
}

/** Whether a request may carry a body: a Transfer-Encoding or a Content-Length (even 0), as body-parser decides. */
export function hasBody(req: Request): boolean {
  return req.headers['transfer-encoding'] !== undefined || req.headers['content-length'] !== undefined;
}

/** Runs `handler` only for requests with a body. */
export function whenBody(handler: RequestHandler): RequestHandler {
  return (req, res, next) => (hasBody(req) ? handler(req, res, next) : next());
}

/** Bodies must be JSON; anything else with a body gets 415 rather than being silently ignored. */
export const requireJsonBody: RequestHandler = (req, _res, next) => {
  const hasBody = Number(req.get('Content-Length') ?? 0) > 0 || req.get('Transfer-Encoding') !== undefined;
  if (hasBody && !req.is(['application/json', 'application/*+json'])) {
    return next(new GatewayError(415, 'UNSUPPORTED_MEDIA_TYPE', 'request body must be JSON (Content-Type: application/json)', { field: 'Content-Type' }));
  }
  next();
};

/**
 * Runs `handlers` in order as one Express layer: the same as `app.use(a, b, c)` for handlers that
 * only call `next()` or `next(err)`, without Express's per-layer dispatch (path matching, param
 * processing) for each, which every request would pay for every front middleware.
 */
export function chain(...handlers: RequestHandler[]): RequestHandler {
  return (req, res, next) => {
    let i = 0;
    const step = (err?: unknown): void => {
      if (err) return next(err);
      const handler = handlers[i++];
      if (!handler) return next();
      try {
        const result = handler(req, res, step) as unknown;
        if (result instanceof Promise) result.catch(next);
      } catch (e) {
        next(e);
      }
    };
    step();
  };
}

