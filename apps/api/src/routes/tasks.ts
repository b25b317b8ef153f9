import { Router } from 'express';
import { taskListQuerySchema, validate, type TaskStatus } from '@ccg/contracts';
import { parseLimit } from '@ccg/db';
import type { TaskService } from '@ccg/tasks';
import { actorOf, ok, param, queryStrings, route } from '../http.js';

/** The task registry: our `/tasks/:id` and the AIOS tasks-DB path `/task/:id`. */
export function taskRoutes(tasks: TaskService): Router {
  const r = Router();

  const read = route(async (req, res) => ok(res, await tasks.get(param(req, 'id'))));
  r.get('/tasks/:id', read);
  r.get('/task/:id', read);

  r.get('/tasks', route(async (req, res) => {
    const q = validate<{ limit?: string; cursor?: string; task_type?: string; task_status?: TaskStatus; cluster_id?: string }>(taskListQuerySchema, queryStrings(req), 'query');
    ok(res, await tasks.list({ task_type: q.task_type, task_status: q.task_status, cluster_id: q.cluster_id }, { limit: parseLimit(q.limit), cursor: q.cursor }));
  }));

  r.post('/tasks/:id/cancel', route(async (req, res) => ok(res, await tasks.cancel(param(req, 'id'), actorOf(req)))));
  r.post('/tasks/:id/retry', route(async (req, res) => ok(res, await tasks.retry(param(req, 'id'), req.body))));

  return r;
}
