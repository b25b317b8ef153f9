import { Router } from 'express';
import type { BlockActionsService } from '@ccg/placement';
import { actorOf, idempotencyKey, ok, param, route } from '../http.js';

/**
 * Block allocation (spec "Block allocator, dry run modules"; original-gateway §1.5, §2): the dry
 * run and cluster selection answer synchronously; allocate and de-allocate start tasks.
 */
export function blockActionRoutes(s: BlockActionsService): Router {
  const r = Router();
  const submitMeta = (req: Parameters<typeof actorOf>[0]) => ({ idempotencyKey: idempotencyKey(req), actor: actorOf(req) });

  r.post('/blockActions/dryRun', route(async (req, res) => ok(res, await s.dryRun(req.body))));
  r.post('/blockActions/selectClusters', route(async (req, res) => ok(res, await s.selectClusters(req.body))));
  r.post('/blockActions/allocate', route(async (req, res) => ok(res, await s.allocate(req.body, submitMeta(req)))));
  r.post('/blockActions/deallocate', route(async (req, res) => ok(res, await s.deallocate(req.body, submitMeta(req)))));
  r.delete('/blocks/:id', route(async (req, res) => ok(res, await s.deallocate({ block_id: param(req, 'id') }, submitMeta(req)))));

  return r;
}
