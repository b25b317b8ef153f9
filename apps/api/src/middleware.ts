import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Logger } from 'pino';
import { GatewayError } from '@ccg/contracts';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Echoes a caller's X-Request-Id (when sane) or makes one; logs every request on completion
 * (at LOG_LEVEL=trace with its headers and body, secrets redacted by the logger).
 */
export function requestContext(log: Logger): RequestHandler {
  return (req, res, next) => {
    const incoming = req.get('X-Request-Id');
    const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.locals.requestId = requestId;
    res.set('X-Request-Id', requestId);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const level = res.statusCode >= 500 ? 'warn' : 'info';
      log[level]({ request_id: requestId, method: req.method, path: req.path, status: res.statusCode, ms: Math.round(ms * 10) / 10 }, 'request');
      // Debugging aid: headers and the parsed JSON body; the logger redacts tokens and kubeconfigs in them.
      if (log.isLevelEnabled('trace')) log.trace({ request_id: requestId, headers: req.headers, body: req.body }, 'request detail');
    });
    next();
  };
}

/** Bodies must be JSON; anything else with a body gets 415 rather than being silently ignored. */
export const requireJsonBody: RequestHandler = (req, _res, next) => {
  const hasBody = Number(req.get('Content-Length') ?? 0) > 0 || req.get('Transfer-Encoding') !== undefined;
  if (hasBody && !req.is(['application/json', 'application/*+json'])) {
    return next(new GatewayError(415, 'UNSUPPORTED_MEDIA_TYPE', 'request body must be JSON (Content-Type: application/json)', { field: 'Content-Type' }));
  }
  next();
};
