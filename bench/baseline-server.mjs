// The baselines the gateway is measured against, each the least a handler can do for the same
// answer, with the same libraries and versions as the gateway (Express, pg, BullMQ on Redis)
// and the same pg pool size. Run as a child process by bench/lib.mjs startBaseline():
//   BASELINE_MODE=cluster-read  GET /clusters/read/:id: one indexed select of the row from the
//                               gateway's own `clusters` table, answered in the envelope.
//   BASELINE_MODE=task-submit   POST /tasks: INSERT of the task into a table + BullMQ Queue.add
//                               on Redis, answered with its id.
// GET /ready answers 200 once the pool (and queue) work.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { requireFrom } from './lib.mjs';

const express = requireFrom('apps/api')('express');
const mode = process.env.BASELINE_MODE;
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.POOL_SIZE ?? 20) });
pool.on('error', () => undefined);
const app = express();
app.disable('x-powered-by');
app.set('etag', false);
app.use(express.json());

let queue;
if (mode === 'cluster-read') {
  app.get('/clusters/read/:id', async (req, res) => {
    try {
      const { rows } = await pool.query('select id, doc, version, created_at, updated_at from clusters where id = $1', [req.params.id]);
      if (!rows[0]) return res.status(404).json({ success: false, error: { code: 'NOT_FOUND' } });
      const r = rows[0];
      res.json({ success: true, data: { ...r.doc, id: r.id, version: r.version, created_at: r.created_at, updated_at: r.updated_at } });
    } catch (err) {
      res.status(500).json({ success: false, error: { message: err.message } });
    }
  });
} else if (mode === 'task-submit') {
  const { Queue } = requireFrom('packages/tasks')('bullmq');
  const { Redis } = requireFrom('packages/tasks')('ioredis');
  const connection = new Redis(process.env.REDIS_URL, { maxRetriesPerRequest: 1 });
  queue = new Queue('default', { connection, prefix: `{${process.env.REDIS_PREFIX}}` });
  await pool.query('create table if not exists baseline_tasks (id uuid primary key, task_type text not null, task_data jsonb not null, status text not null, created_at timestamptz not null default now())');
  app.post('/tasks', async (req, res) => {
    try {
      const id = randomUUID();
      await pool.query('insert into baseline_tasks (id, task_type, task_data, status) values ($1, $2, $3, $4)', [id, 'diagnostic', JSON.stringify(req.body ?? {}), 'pending']);
      await queue.add('diagnostic', { task_id: id }, { jobId: id, removeOnComplete: true, removeOnFail: true });
      res.json({ success: true, data: { task_id: id, task_status: 'pending' } });
    } catch (err) {
      res.status(500).json({ success: false, error: { message: err.message } });
    }
  });
} else {
  throw new Error(`unknown BASELINE_MODE ${mode}`);
}

app.get('/ready', async (_req, res) => {
  try {
    await pool.query('select 1');
    if (queue) await queue.getJobCounts('waiting');
    res.json({ ok: true });
  } catch (err) {
    res.status(503).json({ ok: false, error: err.message });
  }
});

const server = app.listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => {
  server.close();
  void Promise.allSettled([pool.end(), queue?.close()]).then(() => process.exit(0));
});
