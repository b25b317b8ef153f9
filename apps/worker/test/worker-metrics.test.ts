import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ChildProcess } from 'node:child_process';
import { freePort } from '@ccg/db';
import { createClusterAt, http, metricSample, spawnWorker, startFakeCluster, startTestGateway, waitFor, type FakeCluster, type TestGateway } from '@ccg/testkit';

/**
 * The production split: the API (here in-process, no workers) and a worker process. Jobs and the
 * metrics pull run in the worker, so their metrics are scraped from the worker's own port.
 */
describe('a separate worker serves its own /metrics on WORKER_METRICS_PORT', () => {
  let gw: TestGateway;
  let fake: FakeCluster;
  let child: ChildProcess;
  let base: string;
  const scrape = async () => {
    const res = await http(base, 'GET', '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return res.text;
  };

  beforeAll(async () => {
    gw = await startTestGateway({ worker: false, env: { METRICS_PULL_INTERVAL_MS: '200' } });
    fake = await startFakeCluster();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    child = spawnWorker(gw, { WORKER_METRICS_PORT: String(port), HOST: '127.0.0.1' });
    await waitFor(() => http(base, 'GET', '/healthz').catch(() => ({ status: 0 })), (r) => r.status === 200, 60_000, 100);
  });
  afterAll(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    await gw?.close();
    await fake?.close();
  });

  it('answers /healthz, and nothing but /metrics and /healthz', async () => {
    expect((await http(base, 'GET', '/healthz')).body).toEqual({ status: 'ok' });
    expect((await http(base, 'GET', '/clusters')).status).toBe(404);
    expect((await http(base, 'POST', '/metrics', {})).status).toBe(405);
    const text = await scrape();
    expect(metricSample(text, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    // Queue depth is the API's to report (every worker would count the same queues).
    expect(text).not.toContain('ccg_queue_jobs');
  });

  it('counts the jobs this worker ran by task type and outcome; the API process has none', async () => {
    const ids: string[] = [];
    for (const body of [{ steps: 1, step_ms: 0 }, { steps: 2, step_ms: 0, fail_at_step: 2 }]) {
      const res = await waitFor(() => gw.request('POST', '/admin/diagnostics/tasks', body), (r) => r.status !== 503, 30_000, 500);
      expect(res.status).toBe(200);
      ids.push(res.body.data.task_id);
    }
    for (const id of ids) {
      await waitFor(() => gw.request('GET', `/tasks/${id}`), (r) => ['completed', 'failed'].includes(r.body.data?.task_status), 60_000);
    }
    const text = await waitFor(scrape, (t) => metricSample(t, 'ccg_job_duration_seconds_count', { task_type: 'diagnostic', outcome: 'failed' }) === 1, 10_000);
    expect(metricSample(text, 'ccg_job_duration_seconds_count', { task_type: 'diagnostic', outcome: 'completed' })).toBe(1);
    expect(metricSample(text, 'ccg_job_duration_seconds_sum', { task_type: 'diagnostic', outcome: 'completed' })).toBeGreaterThan(0);
    const api = await gw.request('GET', '/metrics');
    expect(metricSample(api.text, 'ccg_job_duration_seconds_count', { task_type: 'diagnostic' })).toBeUndefined();
  });

  it("counts the worker's calls to cluster services (the metrics pull)", async () => {
    await createClusterAt(gw, 'wm-c1', fake.urlMap);
    const text = await waitFor(scrape, (t) => (metricSample(t, 'ccg_upstream_request_duration_seconds_count', { service: 'metricsService', method: 'GET', outcome: 'ok' }) ?? 0) >= 1, 30_000, 200);
    expect(metricSample(text, 'ccg_upstream_errors_total', { service: 'metricsService' })).toBeUndefined();
  });

  it('stops serving on SIGTERM and exits 0', async () => {
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  });
});
