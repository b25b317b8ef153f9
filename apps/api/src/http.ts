import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { InputError } from '@ccg/contracts';

/** The success envelope the Parser and the spec's scripts expect. */
export function ok(res: Response, data: unknown, status = 200): void {
  res.status(status).json({ success: true, data });
}

/**
 * `ok` for data that is already JSON text (e.g. serialised by Postgres): sent as it is, with the
 * headers and the 304 `res.json` would give, without Express's generic `send`.
 */
export function okJson(res: Response, dataJson: string, status = 200): void {
  const body = `{"success":true,"data":${dataJson}}`;
  res.statusCode = status;
  // A conditional GET whose If-None-Match names the ETag set: 304, as res.json answers.
  if (res.req.fresh) {
    res.statusCode = 304;
    res.end();
    return;
  }
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

/** Express 5 forwards rejected promises to the error middleware; this only narrows the type. */
export const route = (fn: (req: Request, res: Response, next: NextFunction) => Promise<void>): RequestHandler => fn;

/** Postgres text cannot hold NUL: a `%00` in a path or query is the caller's mistake, not a 500. */
function refuseNul(value: string, name: string, where: 'path' | 'query'): string {
  if (value.includes('\u0000')) throw new InputError(`invalid ${where}: ${name} must not contain a NUL character`, { field: name });
  return value;
}

export function param(req: Request, name: string): string {
  const v = req.params[name];
  return refuseNul(Array.isArray(v) ? v.join('/') : String(v), name, 'path');
}

/** Query string as plain strings; repeated parameters are a client mistake. */
export function queryStrings(req: Request): Record<string, string> {
  // No prototype: a `__proto__` parameter stays a key (and fails schemas that list their keys)
  // instead of vanishing in an assignment to the prototype.
  const out: Record<string, string> = Object.create(null);
  for (const [k, v] of Object.entries(req.query)) {
    if (typeof v !== 'string') throw new InputError(`invalid query: ${k} must be given once, as a plain value`, { field: k });
    out[k] = refuseNul(v, k, 'query');
  }
  return out;
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

export function idempotencyKey(req: Request): string | undefined {
  const key = req.get('Idempotency-Key');
  if (key === undefined) return undefined;
  if (!IDEMPOTENCY_KEY.test(key)) throw new InputError('invalid header: Idempotency-Key must be 1-200 visible ASCII characters', { field: 'Idempotency-Key' });
  return key;
}

/** Who asked, for the pre-check and its decision log. */
export function writeMeta(req: Request, res: Response): { actor: string | null; requestId: string | null } {
  return { actor: actorOf(req), requestId: (res.locals.requestId as string | undefined) ?? null };
}

/** Who is calling; authentication (a later issue) replaces this with the key's owner. */
export function actorOf(req: Request): string | null {
  return (req as Request & { actor?: string }).actor ?? null;
}
