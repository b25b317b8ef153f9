import { Router } from 'express';
import type { InfraService } from '@ccg/kube';
import { actorOf, idempotencyKey, ok, route } from '../http.js';

/**
 * Cluster infrastructure (spec API §4): both answer 200 with the new task (`data.task_id`), which
 * the spec's sample scripts test for; the work runs in a worker.
 */
export function infraRoutes(infra: InfraService): Router {
  const r = Router();
  const meta = (req: Parameters<typeof actorOf>[0], res: { locals: Record<string, unknown> }) => ({
    actor: actorOf(req),
    requestId: (res.locals.requestId as string | undefined) ?? null,
    idempotencyKey: idempotencyKey(req),
  });

  r.post('/create-cluster-infra', route(async (req, res) => ok(res, await infra.create(req.body, meta(req, res)))));
  r.post('/remove-cluster-infra', route(async (req, res) => ok(res, await infra.remove(req.body, meta(req, res)))));

  return r;
}
