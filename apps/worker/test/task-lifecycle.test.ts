import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TaskRepository } from '@ccg/db';
import { queueBackends, spawnWorker, startTestGateway, waitFor, type TestGateway } from '@ccg/testkit';

type Task = any;

async function submit(gw: TestGateway, body: object, headers: Record<string, string> = {}): Promise<Task> {
  const res = await gw.request('POST', '/admin/diagnostics/tasks', body, headers);
  expect(res.status).toBe(200);
  expect(res.body.data.task_id).toMatch(/^[0-9a-f-]{36}$/);
  return res.body.data;
}

async function task(gw: TestGateway, id: string): Promise<Task> {
  const res = await gw.request('GET', `/tasks/${id}`);
  expect(res.status).toBe(200);
  return res.body.data;
}

const until = (gw: TestGateway, id: string, pred: (t: Task) => boolean, timeoutMs = 30_000) => waitFor(() => task(gw, id), pred, timeoutMs);
const finished = (t: Task) => ['completed', 'failed', 'cancelled'].includes(t.task_status);

describe.each(queueBackends())('task lifecycle on the %s queue backend', (backend) => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ backend, env: { JOB_BACKOFF_MS: '10' } });
  });
  afterAll(async () => {
    await gw.close();
  });

  it('runs a task to completion, recording each step once, readable at /tasks/:id and /task/:id', async () => {
    const t = await submit(gw, { steps: 3, step_ms: 20 });
    expect(t.task_status).toBe('pending');
    expect(t.steps.map((s: Task) => [s.name, s.status])).toEqual([['step-1', 'pending'], ['step-2', 'pending'], ['step-3', 'pending']]);
    const done = await until(gw, t.task_id, finished);
    expect(done.task_status).toBe('completed');
    expect(done.task_status_data).toEqual({ result: { steps_run: 3, secret_received: false } });
    expect(done.steps.map((s: Task) => [s.name, s.status, s.attempts])).toEqual([['step-1', 'completed', 1], ['step-2', 'completed', 1], ['step-3', 'completed', 1]]);
    expect(done.progress).toEqual({ completed_steps: 3, total_steps: 3 });
    for (const s of done.steps) expect(Date.parse(s.finished_at)).toBeGreaterThanOrEqual(Date.parse(s.started_at));
    const aios = await gw.request('GET', `/task/${t.task_id}`);
    expect(aios.status).toBe(200);
    expect(aios.body.data).toMatchObject({ task_id: t.task_id, task_type: 'diagnostic', task_status: 'completed' });
    expect(typeof aios.body.data.task_create_timestamp).toBe('number');
  });

  it('a failure records the failing step and its message, and later steps never run', async () => {
    const t = await submit(gw, { steps: 3, step_ms: 10, fail_at_step: 2, fail_message: 'disk on fire' });
    const done = await until(gw, t.task_id, finished);
    expect(done.task_status).toBe('failed');
    expect(done.task_status_data).toEqual({ error: 'disk on fire', failed_step: 'step-2' });
    expect(done.steps.map((s: Task) => s.status)).toEqual(['completed', 'failed', 'pending']);
    expect(done.steps[1].message).toBe('disk on fire');
  });

  it('retryable errors are retried with backoff by the queue', async () => {
    const t = await submit(gw, { steps: 2, step_ms: 5, fail_at_step: 1, transient_failures: 2 });
    const done = await until(gw, t.task_id, finished);
    expect(done.task_status).toBe('completed');
    expect(done.steps[0]).toMatchObject({ status: 'completed', attempts: 3 });
    expect(done.steps[1]).toMatchObject({ status: 'completed', attempts: 1 });
  });

  it('Idempotency-Key: the same body returns the same task, a different body 422', async () => {
    const key = `idem-${backend}-${Date.now()}`;
    const a = await submit(gw, { steps: 1, step_ms: 1 }, { 'Idempotency-Key': key });
    const b = await submit(gw, { steps: 1, step_ms: 1 }, { 'Idempotency-Key': key });
    expect(b.task_id).toBe(a.task_id);
    const c = await gw.request('POST', '/admin/diagnostics/tasks', { steps: 2, step_ms: 1 }, { 'Idempotency-Key': key });
    expect(c.status).toBe(422);
    expect(c.body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    await until(gw, a.task_id, finished);
    const list = await gw.request('GET', '/tasks?task_type=diagnostic&limit=500');
    expect(list.body.data.items.filter((x: Task) => x.task_id === a.task_id)).toHaveLength(1);
  });

  it('400 naming the field for a bad diagnostic body; 404 for unknown tasks', async () => {
    const bad = await gw.request('POST', '/admin/diagnostics/tasks', { steps: 'three' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.field).toBe('steps');
    const extra = await gw.request('POST', '/admin/diagnostics/tasks', { stepz: 3 });
    expect(extra.status).toBe(400);
    expect(extra.body.error.details.field).toBe('stepz');
    expect((await gw.request('GET', '/tasks/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await gw.request('GET', '/task/not-a-uuid')).status).toBe(404);
    expect((await gw.request('POST', '/tasks/00000000-0000-4000-8000-000000000000/cancel')).status).toBe(404);
  });

  it('retry runs a failed task again from its failed step, and needs the secret again', async () => {
    const g = await startTestGateway({ backend, env: { JOB_ATTEMPTS: '1' } });
    try {
      const secret = `s3cr3t-${Date.now()}`;
      const submitRes = await g.request('POST', '/admin/diagnostics/tasks', { steps: 3, step_ms: 5, fail_at_step: 2, transient_failures: 1, secret });
      const t = submitRes.body.data;
      expect(t.task_data.secret).toBe('[redacted]');
      const failed = await until(g, t.task_id, finished);
      expect(failed.task_status).toBe('failed');
      expect(failed.steps.map((s: Task) => s.status)).toEqual(['completed', 'failed', 'pending']);
      expect(JSON.stringify(failed)).not.toContain(secret);

      const noSecret = await g.request('POST', `/tasks/${t.task_id}/retry`, {});
      expect(noSecret.status).toBe(400);
      expect(noSecret.body.error.details.field).toBe('secrets.secret');

      const retried = await g.request('POST', `/tasks/${t.task_id}/retry`, { secrets: { secret } });
      expect(retried.status).toBe(200);
      expect(retried.body.data.task_status).toBe('pending');
      const done = await until(g, t.task_id, finished);
      expect(done.task_status).toBe('completed');
      expect(done.task_status_data.result).toEqual({ steps_run: 3, secret_received: true });
      expect(done.retries).toBe(1);
      // step-1 was not run again; step-2 ran a second time.
      expect(done.steps.map((s: Task) => [s.status, s.attempts])).toEqual([['completed', 1], ['completed', 2], ['completed', 1]]);

      const again = await g.request('POST', `/tasks/${t.task_id}/retry`, {});
      expect(again.status).toBe(409);
    } finally {
      await g.close();
    }
  });

  it('lists tasks with filters and cursor pagination', async () => {
    const g = await startTestGateway({ backend });
    try {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await submit(g, { steps: 1, step_ms: 1, cluster_id: i % 2 ? 'odd' : 'even' })).task_id);
      for (const id of ids) await until(g, id, finished);
      const odd = await g.request('GET', '/tasks?cluster_id=odd');
      expect(odd.body.data.items.map((t: Task) => t.task_id).sort()).toEqual([ids[1], ids[3]].sort());
      const completed = await g.request('GET', '/tasks?task_status=completed&task_type=diagnostic');
      expect(completed.body.data.items).toHaveLength(5);
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: any = await g.request('GET', `/tasks?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
        seen.push(...page.body.data.items.map((t: Task) => t.task_id));
        cursor = page.body.data.next_cursor;
      } while (cursor);
      expect(seen.sort()).toEqual([...ids].sort());
      const bad = await g.request('GET', '/tasks?task_status=running');
      expect(bad.status).toBe(400);
      expect(bad.body.error.details.field).toBe('task_status');
    } finally {
      await g.close();
    }
  });
});

describe.each(queueBackends())('cancellation, crashes and the reconciler on the %s backend', (backend) => {
  const fastLocks = { JOB_LOCK_DURATION_MS: '1500', JOB_STALLED_INTERVAL_MS: '1000' };

  it('cancels a pending task at once; a finished task cannot be cancelled', async () => {
    const g = await startTestGateway({ backend, worker: false });
    try {
      const t = await submit(g, { steps: 2 });
      const res = await g.request('POST', `/tasks/${t.task_id}/cancel`);
      expect(res.status).toBe(200);
      expect(res.body.data.task_status).toBe('cancelled');
      expect(res.body.data.steps.map((s: Task) => s.status)).toEqual(['cancelled', 'cancelled']);
      expect((await g.request('POST', `/tasks/${t.task_id}/cancel`)).status).toBe(200);
    } finally {
      await g.close();
    }
    const g2 = await startTestGateway({ backend });
    try {
      const t = await submit(g2, { steps: 1, step_ms: 1 });
      await until(g2, t.task_id, finished);
      const res = await g2.request('POST', `/tasks/${t.task_id}/cancel`);
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('TASK_FINISHED');
    } finally {
      await g2.close();
    }
  });

  it('cancels a running task from another process than the worker', async () => {
    const g = await startTestGateway({ backend, worker: false });
    const child = spawnWorker(g);
    try {
      const t = await submit(g, { steps: 5, step_ms: 3000 });
      await until(g, t.task_id, (x) => x.steps[1].status === 'in_progress');
      const res = await g.request('POST', `/tasks/${t.task_id}/cancel`);
      expect(res.status).toBe(200);
      expect(res.body.data.cancel_requested).toBe(true);
      const done = await until(g, t.task_id, finished, 10_000);
      expect(done.task_status).toBe('cancelled');
      expect(done.task_status_data.cancelled_at_step).toBe('step-2');
      expect(done.steps.map((s: Task) => s.status)).toEqual(['completed', 'cancelled', 'cancelled', 'cancelled', 'cancelled']);
      // It stopped promptly instead of finishing the 3 s step.
      expect(Date.parse(done.finished_at) - Date.parse(done.steps[1].started_at)).toBeLessThan(2500);
    } finally {
      child.kill('SIGKILL');
      await g.close();
    }
  });

  it('a worker killed with SIGKILL mid-task: another worker finishes it, no step recorded twice', async () => {
    const g = await startTestGateway({ backend, worker: false, env: fastLocks });
    const first = spawnWorker(g);
    let second: ReturnType<typeof spawnWorker> | undefined;
    try {
      const t = await submit(g, { steps: 4, step_ms: 700 });
      await until(g, t.task_id, (x) => x.steps[1].status === 'in_progress');
      first.kill('SIGKILL');
      second = spawnWorker(g);
      const done = await until(g, t.task_id, finished, 45_000);
      expect(done.task_status).toBe('completed');
      expect(done.steps.map((s: Task) => s.name)).toEqual(['step-1', 'step-2', 'step-3', 'step-4']);
      expect(done.steps.map((s: Task) => [s.status, s.attempts])).toEqual([
        ['completed', 1],
        ['completed', 2],
        ['completed', 1],
        ['completed', 1],
      ]);
      expect(done.attempts).toBe(2);
    } finally {
      first.kill('SIGKILL');
      second?.kill('SIGKILL');
      await g.close();
    }
  });

  it('the reconciler enqueues a task left pending without a job, and fails a running task whose job vanished', async () => {
    const g = await startTestGateway({ backend, env: { RECONCILE_PENDING_GRACE_MS: '0' } });
    try {
      const repo = new TaskRepository(g.db.db);
      // A crash between the task row and its job leaves this behind.
      const orphanId = '11111111-1111-4111-8111-111111111111';
      await repo.create({ task_id: orphanId, task_type: 'diagnostic', task_data: { steps: 2, step_ms: 5 }, job_id: orphanId, steps: ['step-1', 'step-2'] });
      const lostId = '22222222-2222-4222-8222-222222222222';
      await repo.create({ task_id: lostId, task_type: 'diagnostic', task_data: { steps: 1 }, job_id: lostId, steps: ['step-1'] });
      await repo.startRun(lostId, 'dead-run');
      await repo.startStep(lostId, 'dead-run', 'step-1');
      await new Promise((r) => setTimeout(r, 20));

      const pass = await g.worker!.reconciler.tick();
      expect(pass.requeued).toBe(1);
      expect(pass.failed).toBe(1);
      const done = await until(g, orphanId, finished);
      expect(done.task_status).toBe('completed');
      const lost = await task(g, lostId);
      expect(lost.task_status).toBe('failed');
      expect(lost.task_status_data.error).toMatch(/job is gone/);
      expect(lost.steps[0].status).toBe('failed');
    } finally {
      await g.close();
    }
  });

  it('purges finished tasks past the retention', async () => {
    const g = await startTestGateway({ backend });
    try {
      const t = await submit(g, { steps: 1, step_ms: 1 });
      await until(g, t.task_id, finished);
      const repo = new TaskRepository(g.db.db);
      expect(await repo.purgeFinishedBefore(new Date(Date.now() - 60_000))).toBe(0);
      expect(await repo.purgeFinishedBefore(new Date(Date.now() + 1_000))).toBe(1);
      expect((await g.request('GET', `/tasks/${t.task_id}`)).status).toBe(404);
    } finally {
      await g.close();
    }
  });
});
