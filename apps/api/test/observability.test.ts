import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { QueueBackend } from '@ccg/tasks';
import {
  DENY_RULE_URI,
  createClusterAt,
  metricSample,
  queueBackends,
  setPrecheckMap,
  startFakeCluster,
  startTestGateway,
  waitFor,
  type FakeCluster,
  type TestGateway,
} from '@ccg/testkit';
import { GatewayMetrics } from '@ccg/runtime';

const sample = metricSample;

/**
 * Starts a diagnostic task. A fresh Postgres-backed queue creates its tables on first use, which
 * can outlast the 1.5 s enqueue limit on a busy machine (503 + Retry-After): retry as a client would.
 */
async function submit(gw: TestGateway, body: object, key: string): Promise<string> {
  const res = await waitFor(() => gw.request('POST', '/admin/diagnostics/tasks', body, { 'Idempotency-Key': key }), (r) => r.status !== 503, 30_000, 500);
  expect(res.status).toBe(200);
  return res.body.data.task_id;
}

async function scrape(gw: TestGateway): Promise<string> {
  const res = await gw.request('GET', '/metrics');
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text;
}

describe('GET /metrics (all-in-one: the in-process workers share the registry)', () => {
  let gw: TestGateway;
  let fake: FakeCluster;
  beforeAll(async () => {
    // A generous rule time limit: on a loaded machine the default 1 s can lapse (503 PRECHECK_UNAVAILABLE).
    gw = await startTestGateway({ env: { POLICY_TIMEOUT_MS: '15000' } });
    fake = await startFakeCluster();
  });
  afterAll(async () => {
    await gw?.close();
    await fake?.close();
  });

  it('times HTTP requests by route pattern and status, never by raw path', async () => {
    await gw.request('GET', '/clusters/read/no-such-cluster');
    await gw.request('GET', '/clusters');
    await gw.request('GET', '/definitely/not/a/route/8f3a');
    const text = await scrape(gw);
    expect(sample(text, 'ccg_http_request_duration_seconds_count', { method: 'GET', route: '/clusters/read/:id', status: '404' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'ccg_http_request_duration_seconds_count', { method: 'GET', route: '/clusters', status: '200' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'ccg_http_request_duration_seconds_count', { method: 'GET', route: 'unmatched', status: '404' })).toBeGreaterThanOrEqual(1);
    expect(text).not.toContain('no-such-cluster');
    expect(text).not.toContain('8f3a');
    // Default process metrics.
    expect(sample(text, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(sample(text, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
  });

  it('records job durations by task type and outcome where the job ran', async () => {
    const ok = await submit(gw, { steps: 1, step_ms: 0 }, 'job-ok');
    const bad = await submit(gw, { steps: 2, step_ms: 0, fail_at_step: 2 }, 'job-bad');
    for (const id of [ok, bad]) {
      await waitFor(() => gw.request('GET', `/tasks/${id}`), (r) => ['completed', 'failed'].includes(r.body.data?.task_status));
    }
    const text = await scrape(gw);
    expect(sample(text, 'ccg_job_duration_seconds_count', { task_type: 'diagnostic', outcome: 'completed' })).toBe(1);
    expect(sample(text, 'ccg_job_duration_seconds_count', { task_type: 'diagnostic', outcome: 'failed' })).toBe(1);
    expect(sample(text, 'ccg_job_duration_seconds_sum', { task_type: 'diagnostic', outcome: 'completed' })).toBeGreaterThan(0);
  });

  it('counts calls to cluster services, their latency and errors by service', async () => {
    await createClusterAt(gw, 'obs-c1', fake.urlMap);
    expect((await gw.request('GET', '/cluster-metrics/obs-c1?live=true')).status).toBe(200);
    fake.fail('/mgmt', 500);
    expect((await gw.request('POST', '/cluster/mgmt', { cluster_id: 'obs-c1', service: 'stability_checker', action: 'status' })).status).toBe(502);
    const text = await scrape(gw);
    expect(sample(text, 'ccg_upstream_request_duration_seconds_count', { service: 'metricsService', method: 'GET', outcome: 'ok' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'ccg_upstream_request_duration_seconds_count', { service: 'parameterUpdater', method: 'POST', outcome: 'http_error' })).toBe(1);
    expect(sample(text, 'ccg_upstream_errors_total', { service: 'parameterUpdater', outcome: 'http_error' })).toBe(1);
    expect(sample(text, 'ccg_upstream_errors_total', { service: 'metricsService' })).toBeUndefined();
  });

  it('counts pre-check evaluations, denials and latency by action', async () => {
    await setPrecheckMap(gw, { remove_cluster: DENY_RULE_URI });
    const denied = await gw.request('DELETE', '/clusters/delete/obs-c1');
    expect(denied.status).toBe(403);
    const text = await scrape(gw);
    expect(sample(text, 'ccg_precheck_evaluations_total', { action: 'remove_cluster', outcome: 'denied', mode: 'enforce' })).toBe(1);
    expect(sample(text, 'ccg_precheck_denials_total', { action: 'remove_cluster' })).toBe(1);
    expect(sample(text, 'ccg_precheck_duration_seconds_count', { action: 'remove_cluster' })).toBe(1);
    await setPrecheckMap(gw, { remove_cluster: '' });
  });
});

describe.each(queueBackends())('queue depth and the queue dashboard on the %s backend', (backend) => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ backend, worker: false }); // no worker: submitted jobs stay waiting
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('reads each lane\'s job counts by state at scrape time', async () => {
    for (let i = 0; i < 2; i++) await submit(gw, { steps: 1 }, `depth-${i}`);
    const text = await scrape(gw);
    expect(sample(text, 'ccg_queue_up')).toBe(1);
    expect(sample(text, 'ccg_queue_jobs', { lane: 'default', state: 'waiting' })).toBe(2);
    expect(sample(text, 'ccg_queue_jobs', { lane: 'default', state: 'active' })).toBe(0);
    for (const lane of gw.services.catalogue.lanes()) expect(sample(text, 'ccg_queue_jobs', { lane, state: 'failed' })).toBeDefined();
  });

  it('serves bull-board at /admin/queues with every lane and its assets locally', async () => {
    const page = await gw.request('GET', '/admin/queues');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.text).not.toMatch(/fonts\.googleapis|https?:\/\/(?!www\.w3\.org)/);
    const assets = [...page.text.matchAll(/(?:src|href)="(static\/[^"]+)"/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThanOrEqual(3);
    for (const a of assets) expect({ a, status: (await gw.request('GET', `/admin/queues/${a}`)).status }).toEqual({ a, status: 200 });

    const api = await gw.request('GET', '/admin/queues/api/queues?activeQueue=default&status=waiting&page=1');
    expect(api.status).toBe(200);
    const names = api.body.queues.map((q: { name: string }) => q.name);
    for (const lane of gw.services.catalogue.lanes()) expect(names.some((n: string) => n.endsWith(lane))).toBe(true);
    const lane = api.body.queues.find((q: { name: string }) => q.name.endsWith('default'));
    expect(lane.counts.waiting).toBe(2);
    expect(lane.readOnlyMode).toBe(true);

    // Admin only, the page and its API alike.
    const viewer = await gw.createKey('viewer');
    expect((await gw.requestAs(null, 'GET', '/admin/queues')).status).toBe(401);
    expect((await gw.requestAs(viewer.token, 'GET', '/admin/queues')).status).toBe(403);
    expect((await gw.requestAs(viewer.token, 'GET', '/admin/queues/api/queues')).status).toBe(403);
  });
});

describe('queue depth when the queue store is down', () => {
  it('answers within the scrape timeout with ccg_queue_up 0 and no stale depth', async () => {
    const queues = new QueueBackend({ backend: 'redis', url: 'redis://127.0.0.1:1', prefix: 'ccg-down' });
    try {
      const metrics = new GatewayMetrics({ queues, lanes: () => ['default'], queueTimeoutMs: 300, defaultMetrics: false });
      const started = Date.now();
      const { body } = await metrics.render();
      expect(Date.now() - started).toBeLessThan(5000); // bounded by the 300 ms limit, not by Redis connect retries
      expect(sample(body, 'ccg_queue_up')).toBe(0);
      expect(sample(body, 'ccg_queue_jobs')).toBeUndefined();
    } finally {
      await queues.close();
    }
  });
});
