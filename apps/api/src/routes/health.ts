import { Router } from 'express';
import type { Kysely } from 'kysely';
import { pingDatabase, type Database } from '@ccg/db';
import type { QueueBackend } from '@ccg/tasks';

export function healthRoutes(db: Kysely<Database>, queues: QueueBackend): Router {
  const r = Router();
  r.get('/healthz', (_req, res) => {
    res.json({ success: true, data: { status: 'ok' } });
  });
  r.get('/readyz', async (_req, res) => {
    const [database, queue] = await Promise.all([pingDatabase(db), queues.ping()]);
    const ready = database && queue;
    const data = { status: ready ? 'ready' : 'not ready', checks: { database, queue, queue_backend: queues.name } };
    if (ready) res.json({ success: true, data });
    else res.status(503).set('Retry-After', '5').json({ success: false, message: 'not ready', error: { code: 'NOT_READY', message: 'not ready', details: data } });
  });
  return r;
}
