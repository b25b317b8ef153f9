import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { queueBackends, startTestGateway, type TestGateway } from '@ccg/testkit';

describe.each(queueBackends())('health on the %s queue backend', (backend) => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ backend, worker: false });
  });
  afterAll(async () => {
    await gw.close();
  });

  it('/healthz answers while the process lives', async () => {
    const res = await gw.request('GET', '/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ success: true, data: { status: 'ok' } });
  });

  it('/readyz reports Postgres and the queue', async () => {
    const res = await gw.request('GET', '/readyz');
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ status: 'ready', checks: { database: true, queue: true, queue_backend: backend } });
  });
});

describe('readiness when a dependency is down', () => {
  it('/readyz is 503 with Retry-After when the queue cannot be reached', async () => {
    // A Redis URL nothing listens on: the queue check fails, the database check passes.
    const gw = await startTestGateway({ worker: false, env: { REDIS_URL: 'redis://127.0.0.1:1' } });
    try {
      const res = await gw.request('GET', '/readyz');
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      expect(res.body.error.details.checks).toMatchObject({ database: true, queue: false, queue_backend: 'redis' });
      // Task-starting requests answer 503 too, and leave no task behind.
      const submit = await gw.request('POST', '/admin/diagnostics/tasks', { steps: 1 });
      expect(submit.status).toBe(503);
      expect(submit.headers.get('retry-after')).toBeTruthy();
      const list = await gw.request('GET', '/tasks');
      expect(list.body.data.items).toEqual([]);
    } finally {
      await gw.close();
    }
  });
});
