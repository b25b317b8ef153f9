import { Router } from 'express';
import type { TaskService } from '@ccg/tasks';
import { actorOf, idempotencyKey, ok, route } from '../http.js';

export function adminRoutes(tasks: TaskService): Router {
  const r = Router();

  /** Starts the diagnostic task: checks queue and workers end to end. */
  r.post('/admin/diagnostics/tasks', route(async (req, res) => {
    const { task } = await tasks.submit('diagnostic', req.body ?? {}, { idempotencyKey: idempotencyKey(req), actor: actorOf(req) });
    ok(res, task);
  }));

  return r;
}
