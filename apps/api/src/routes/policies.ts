import { Router } from 'express';
import { decisionListQuerySchema, listQuerySchema, policyEvalSchema, scopeQuerySchema, validate, type JsonObject } from '@ccg/contracts';
import { parseLimit } from '@ccg/db';
import type { PolicySystem } from '@ccg/policy';
import { actorOf, ok, param, queryStrings, route } from '../http.js';
import type { PolicyAdmin } from '../policy-admin.js';

/** Policy registry (`/policies`) and the pre-check map and its decision log (`/pre-check-policies`). */
export function policyRoutes(policy: PolicySystem, admin: PolicyAdmin): Router {
  const r = Router();

  r.post('/policies', route(async (req, res) => {
    const { policy: view, created } = await policy.registry.register(req.body, actorOf(req));
    ok(res, { ...view, created });
  }));

  r.get('/policies', route(async (req, res) => {
    const q = validate<{ limit?: string; cursor?: string }>(listQuerySchema, queryStrings(req), 'query');
    ok(res, await policy.registry.list({ limit: parseLimit(q.limit), cursor: q.cursor }));
  }));

  r.get('/policies/:uri', route(async (req, res) => ok(res, await policy.registry.get(param(req, 'uri')))));

  r.delete('/policies/:uri', route(async (req, res) => {
    await policy.registry.delete(param(req, 'uri'));
    ok(res, { message: 'Policy deleted', uri: param(req, 'uri') });
  }));

  r.post('/policies/:uri/eval', route(async (req, res) => {
    const body = validate<{ input: unknown; parameters?: JsonObject; context?: JsonObject; timeoutMs?: number }>(policyEvalSchema, req.body, 'body');
    ok(res, await admin.evaluate(param(req, 'uri'), body));
  }));

  const readMap = route(async (req, res) => {
    const q = validate<{ cluster_id?: string }>(scopeQuerySchema, queryStrings(req), 'query');
    ok(res, await admin.describeMap(q.cluster_id));
  });
  r.get('/pre-check-policies', readMap);
  r.get('/pre-check-policies/get', readMap);

  r.post('/pre-check-policies/update', route(async (req, res) => {
    const q = validate<{ cluster_id?: string }>(scopeQuerySchema, queryStrings(req), 'query');
    await policy.actionMap.update(req.body, q.cluster_id, actorOf(req), res.locals.requestId ?? null);
    ok(res, await admin.describeMap(q.cluster_id));
  }));

  r.get('/pre-check-policies/history', route(async (req, res) => {
    const q = validate<{ cluster_id?: string; limit?: string; cursor?: string }>(scopeQuerySchema, queryStrings(req), 'query');
    ok(res, await admin.history(q.cluster_id, { limit: parseLimit(q.limit), cursor: q.cursor }));
  }));

  r.get('/pre-check-policies/decisions', route(async (req, res) => {
    const q = validate<Record<string, string | undefined>>(decisionListQuerySchema, queryStrings(req), 'query');
    const { limit, cursor, ...filter } = q;
    ok(res, await admin.decisions(filter, { limit: parseLimit(limit), cursor }));
  }));

  return r;
}
