import type { Request, RequestHandler, Response } from 'express';
import { GatewayError, NotFoundError } from '@ccg/contracts';
import type { ApiKeyStore, Principal } from './key-store.js';
import { accessFor, servedInternally, type Listener } from './route-roles.js';

/** Actor of requests on the internal listener (trusted by network placement, no key). */
export const INTERNAL_ACTOR = 'internal';
/** Actor of requests when AUTH_DISABLED=true. */
export const ANONYMOUS_ACTOR = 'anonymous';

export interface AuthGateOptions {
  listener: Listener;
  disabled: boolean;
  store: ApiKeyStore;
}

class UnauthenticatedError extends GatewayError {
  constructor(message: string, invalidToken: boolean, offerBasic: boolean) {
    const bearer = invalidToken ? 'Bearer realm="ccg", error="invalid_token"' : 'Bearer realm="ccg"';
    super(401, 'UNAUTHENTICATED', message, undefined, { 'WWW-Authenticate': offerBasic ? `${bearer}, Basic realm="ccg"` : bearer });
  }
}

/**
 * The token of a request: `Authorization: Bearer <token>`, or Basic with the token as the
 * password (browsers send that for every asset of a UI page such as /admin/queues).
 */
export function tokenOf(req: Request): string | undefined {
  const header = req.get('Authorization');
  if (!header) return undefined;
  const m = /^(\w+)\s+(\S+)\s*$/.exec(header);
  if (!m) return undefined;
  const scheme = m[1].toLowerCase();
  if (scheme === 'bearer') return m[2];
  if (scheme === 'basic') {
    const decoded = Buffer.from(m[2], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon >= 0 && colon < decoded.length - 1 ? decoded.slice(colon + 1) : undefined;
  }
  return undefined;
}

function setActor(req: Request, res: Response, actor: string, principal?: Principal): void {
  (req as Request & { actor?: string }).actor = actor;
  if (principal) res.locals.principal = principal;
}

/**
 * First middleware after the request context. On the internal listener: routes not marked
 * internal answer 404, the rest pass without a token. On the external listener: the route
 * table decides (public, or the roles allowed); no or an unknown/revoked token is 401, a role
 * not allowed is 403.
 */
export function authGate(opts: AuthGateOptions): RequestHandler {
  if (opts.listener === 'internal') {
    return (req, res, next) => {
      if (!servedInternally(req.method, req.path)) {
        return next(new NotFoundError(`no route ${req.method} ${req.path} on the internal listener`, { method: req.method, path: req.path, listener: 'internal' }));
      }
      setActor(req, res, INTERNAL_ACTOR);
      next();
    };
  }
  return (req, res, next) => {
    if (opts.disabled) {
      setActor(req, res, ANONYMOUS_ACTOR);
      return next();
    }
    const { access, browser } = accessFor(req.method, req.path);
    if (access === 'public') return next();
    const token = tokenOf(req);
    if (!token) return next(new UnauthenticatedError('authentication required: send Authorization: Bearer <API key>', false, browser));
    const admit = (principal: Principal | undefined): void => {
      if (!principal) return next(new UnauthenticatedError('the API key is unknown or revoked', true, browser));
      if (!access.includes(principal.role)) {
        return next(new GatewayError(403, 'FORBIDDEN', `role ${principal.role} may not call ${req.method} ${req.path}`, { role: principal.role, allowed_roles: access }));
      }
      setActor(req, res, principal.actor, principal);
      next();
    };
    // A cached key is admitted synchronously (most requests): no promise per request.
    const cached = opts.store.cached(token);
    if (cached) return admit(cached);
    opts.store.verify(token).then(admit, next);
  };
}
