import { Router, type Request, type Response } from 'express';
import { TERMINAL_TASK_STATUSES } from '@ccg/contracts';
import type { TaskService, TaskView } from '@ccg/tasks';
import { param, route } from '../http.js';

export interface TaskEventsOptions {
  /** How often each stream reads its task. @defaultValue 400 */
  pollMs?: number;
  /** A comment line this often keeps proxies from closing an idle stream. @defaultValue 15000 */
  heartbeatMs?: number;
  /** Ends every open stream (clients reconnect, to another replica, after `retry`). */
  shutdown?: AbortSignal;
}

function send(res: Response, event: string, data: unknown, id?: number): void {
  res.write(`${id !== undefined ? `id: ${id}\n` : ''}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

/**
 * `GET /tasks/:id/events`: server-sent events of one task. Sends the task (with its steps) at
 * once and whenever it changes (`event: task`), then `event: end` when it is terminal, and closes.
 * Each stream polls its own row (Postgres is the truth; BullMQ progress events are best-effort),
 * which costs one indexed read per stream per interval. A missing task is a plain 404 before the
 * stream starts.
 */
export function taskEventRoutes(tasks: TaskService, opts: TaskEventsOptions = {}): Router {
  const pollMs = opts.pollMs ?? 400;
  const heartbeatMs = opts.heartbeatMs ?? 15_000;
  const r = Router();

  r.get('/tasks/:id/events', route(async (req: Request, res: Response) => {
    const id = param(req, 'id');
    let task: TaskView = await tasks.get(id);
    res.status(200).set({
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.flushHeaders();
    res.write(`retry: ${Math.max(1000, pollMs)}\n\n`);

    let seq = 0;
    let last = JSON.stringify(task);
    send(res, 'task', task, ++seq);
    let closed = false;
    let timer: NodeJS.Timeout | undefined;
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), heartbeatMs);
    heartbeat.unref();
    const finish = () => {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      clearTimeout(timer);
      opts.shutdown?.removeEventListener('abort', finish);
      res.end();
    };
    req.on('close', finish);
    if (opts.shutdown?.aborted) return finish();
    opts.shutdown?.addEventListener('abort', finish, { once: true });

    const isTerminal = (t: TaskView) => (TERMINAL_TASK_STATUSES as readonly string[]).includes(t.task_status);
    const poll = async () => {
      if (closed) return;
      try {
        task = await tasks.get(id);
        const now = JSON.stringify(task);
        if (now !== last) {
          last = now;
          send(res, 'task', task, ++seq);
        }
      } catch (err) {
        // A read that fails (database blip) is reported and retried; the client may also reconnect.
        send(res, 'warning', { message: err instanceof Error ? err.message : String(err) });
      }
      if (isTerminal(task)) {
        send(res, 'end', { task_id: task.task_id, task_status: task.task_status }, ++seq);
        finish();
        return;
      }
      timer = setTimeout(() => void poll(), pollMs);
    };
    if (isTerminal(task)) {
      send(res, 'end', { task_id: task.task_id, task_status: task.task_status }, ++seq);
      finish();
    } else {
      timer = setTimeout(() => void poll(), pollMs);
    }
  }));

  return r;
}
