import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestGateway, waitFor, type TestGateway } from '@ccg/testkit';
import { startPrivatePostgres, type PrivatePostgres } from './lib/private-postgres.js';

/**
 * Every Postgres connection of the gateway (API pool, worker, Postgres queue backend, policy and
 * auth listeners) is killed with pg_terminate_backend, on a private Postgres server: the next
 * requests succeed, without a restart.
 */
describe('Postgres connections killed', () => {
  let pgServer: PrivatePostgres;
  let gw: TestGateway;
  const previousUrl = process.env.TEST_DATABASE_URL;

  beforeAll(async () => {
    pgServer = await startPrivatePostgres();
    // The testkit puts the gateway (and its Postgres queue) on TEST_DATABASE_URL.
    process.env.TEST_DATABASE_URL = pgServer.url;
    gw = await startTestGateway({ backend: 'postgres', env: { JOB_BACKOFF_MS: '10' } });
  }, 120_000);

  afterAll(async () => {
    await gw?.close();
    await pgServer?.stop();
    if (previousUrl === undefined) delete process.env.TEST_DATABASE_URL;
    else process.env.TEST_DATABASE_URL = previousUrl;
  });

  const completes = async (body: object) => {
    const res = await gw.request('POST', '/admin/diagnostics/tasks', body);
    expect(res.status).toBe(200);
    const id = res.body.data.task_id as string;
    const done = await waitFor(() => gw.request('GET', `/tasks/${id}`), (r) => ['completed', 'failed', 'cancelled'].includes(r.body?.data?.task_status), 30_000);
    return done.body.data.task_status as string;
  };

  it('the next requests succeed after every connection was terminated', async () => {
    expect((await gw.request('POST', '/clusters/create', { id: 'pg-kill-1', regionId: 'r1' })).status).toBe(200);
    expect(await completes({ steps: 2, step_ms: 10 })).toBe('completed');

    for (let round = 1; round <= 3; round++) {
      expect(await pgServer.terminateAllConnections()).toBeGreaterThan(0);
      // Right away, without waiting for anything to notice.
      const read = await gw.request('GET', '/clusters/read/pg-kill-1');
      expect(read.status).toBe(200);
      expect((await gw.request('GET', '/clusters')).status).toBe(200);
      expect((await gw.request('PATCH', '/clusters/update/pg-kill-1', { regionId: `r${round + 1}` }, { 'If-Match': `"${read.body.data.version}"` })).status).toBe(200);
      expect((await gw.request('POST', '/clusters/create', { id: `pg-kill-round-${round}` })).status).toBe(200);
      expect((await gw.request('GET', '/tasks')).status).toBe(200);
      // The worker and the Postgres queue lost their connections too.
      expect(await completes({ steps: 2, step_ms: 10 })).toBe('completed');
    }
    expect((await gw.request('GET', '/readyz')).status).toBe(200);
  }, 120_000);

  it('requests in flight when the connections die answer 200 or 503 (never 500), the next ones 200', async () => {
    const inFlight = Promise.all(Array.from({ length: 40 }, (_, i) => gw.request('GET', i % 2 ? '/clusters/read/pg-kill-1' : '/clusters')));
    await new Promise((r) => setTimeout(r, 5));
    await pgServer.terminateAllConnections();
    for (const res of await inFlight) {
      expect([200, 503]).toContain(res.status);
      if (res.status === 503) expect(res.headers.get('retry-after')).toBeTruthy();
    }
    for (let i = 0; i < 10; i++) expect((await gw.request('GET', '/clusters/read/pg-kill-1')).status).toBe(200);
  }, 60_000);
});
