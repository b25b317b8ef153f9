import { Router } from 'express';
import { actorOf, ok, param, queryStrings, route } from '../http.js';
import type { Principal } from './key-store.js';
import type { ApiKeyService } from './key-service.js';

/** Key administration (admin) and `whoami` (any key). */
export function authRoutes(keys: ApiKeyService): Router {
  const r = Router();

  r.post('/auth/keys', route(async (req, res) => {
    ok(res, await keys.create(req.body, actorOf(req)), 201);
  }));

  r.get('/auth/keys', route(async (req, res) => ok(res, await keys.list(queryStrings(req)))));

  r.delete('/auth/keys/:id', route(async (req, res) => ok(res, await keys.revoke(param(req, 'id'), actorOf(req)))));

  r.get('/auth/whoami', route(async (req, res) => {
    const p = res.locals.principal as Principal | undefined;
    ok(res, p ? { key_id: p.keyId, name: p.name, role: p.role, actor: p.actor } : { key_id: null, name: null, role: null, actor: actorOf(req) });
  }));

  return r;
}
