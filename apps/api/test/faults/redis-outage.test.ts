import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startPrivateRedis, startTestGateway, waitFor, type HttpResult, type PrivateRedis, type TestGateway } from '@ccg/testkit';

/**
 * Redis (the queue) stops while task-starting requests arrive, then comes back on the same port,
 * empty. On a private redis-server: the shared one other tests use is never touched.
 */

interface Timed {
  res: HttpResult;
  ms: number;
}

const TERMINAL = ['completed', 'failed', 'cancelled'];

describe('Redis outage on the Redis queue backend', () => {
  let redis: PrivateRedis;
  let gw: TestGateway;

  beforeAll(async () => {
    redis = await startPrivateRedis();
    gw = await startTestGateway({
      backend: 'redis',
      // The reconciler re-enqueues tasks whose jobs Redis lost (it restarts empty).
      env: { REDIS_URL: redis.url, RECONCILE_INTERVAL_MS: '300', RECONCILE_PENDING_GRACE_MS: '500', JOB_BACKOFF_MS: '10' },
    });
  }, 60_000);

  afterAll(async () => {
    await gw?.close();
    await redis?.stop();
  });

  const timed = async (method: string, path: string, body?: unknown): Promise<Timed> => {
    const started = Date.now();
    const res = await gw.request(method, path, body);
    return { res, ms: Date.now() - started };
  };
  const taskStatus = async (id: string): Promise<string> => (await gw.request('GET', `/tasks/${id}`)).body.data.task_status;

  it('answers 503 with Retry-After within 2 s, leaves no task pending, and recovers without a restart', async () => {
    // A cancelled task, to retry during the outage.
    const toRetry = (await gw.request('POST', '/admin/diagnostics/tasks', { steps: 2, step_ms: 5_000 })).body.data.task_id as string;
    await gw.request('POST', `/tasks/${toRetry}/cancel`);
    await waitFor(() => taskStatus(toRetry), (s) => s === 'cancelled');

    // Requests keep arriving while Redis stops.
    const accepted: string[] = [];
    const outcomes: Timed[] = [];
    let sending = true;
    const stream = (async () => {
      for (let i = 0; sending; i++) {
        const t = await timed('POST', '/admin/diagnostics/tasks', { steps: 2, step_ms: 10 });
        outcomes.push(t);
        if (t.res.status === 200) accepted.push(t.res.body.data.task_id);
        await new Promise((r) => setTimeout(r, 25));
      }
    })();
    await new Promise((r) => setTimeout(r, 300));
    await redis.stop();

    // Cluster-independent task-starting routes while it is down.
    const during = await Promise.all([
      timed('POST', '/admin/diagnostics/tasks', { steps: 1 }),
      timed('POST', '/blockActions/allocate', { id: 'outage-block' }),
      timed('POST', `/tasks/${toRetry}/retry`, {}),
    ]);
    await new Promise((r) => setTimeout(r, 1_000));
    sending = false;
    await stream;

    for (const { res, ms } of during) {
      expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status: 503, code: 'SERVICE_UNAVAILABLE' });
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(ms).toBeLessThan(2_000);
    }
    for (const { res, ms } of outcomes) {
      expect([200, 503]).toContain(res.status);
      if (res.status === 503) {
        expect(res.headers.get('retry-after')).toBeTruthy();
        expect(ms).toBeLessThan(2_000);
      }
    }
    expect(accepted.length).toBeGreaterThan(0);
    expect(outcomes.filter((o) => o.res.status === 503).length).toBeGreaterThan(0);
    expect((await gw.request('GET', '/readyz')).status).toBe(503);

    // Nothing left pending by a refused request: only the accepted ones exist (and a refused
    // retry leaves its task failed, not pending).
    const rows = await gw.db.db.selectFrom('tasks').select(['task_id', 'task_status']).execute();
    const pending = rows.filter((r) => r.task_status === 'pending').map((r) => r.task_id);
    expect(pending.filter((id) => !accepted.includes(id))).toEqual([]);
    expect(await taskStatus(toRetry)).not.toBe('pending');

    // Redis returns on the same port, empty: the gateway recovers without a restart.
    await redis.start();
    const back = await waitFor(() => gw.request('POST', '/admin/diagnostics/tasks', { steps: 2, step_ms: 10 }), (r) => r.status === 200, 20_000, 100);
    const done = await waitFor(() => taskStatus(back.body.data.task_id), (s) => TERMINAL.includes(s), 30_000);
    expect(done).toBe('completed');
    expect((await gw.request('GET', '/readyz')).status).toBe(200);

    // Tasks accepted just before the outage lost their jobs with Redis's data: none is lost, the
    // reconciler enqueues them again and they complete.
    for (const id of accepted) {
      expect(await waitFor(() => taskStatus(id), (s) => TERMINAL.includes(s), 30_000)).toBe('completed');
    }
  }, 120_000);
});
