import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sampleCluster, startFakeKube, startTestGateway, waitFor, type FakeKube, type TestGateway } from '@ccg/testkit';

/** The management services' public addresses infra creation hands to cluster components. */
const GLOBALS = Object.fromEntries(
  ['global_block_metrics_redis_host', 'global_cluster_metrics_redis_host', 'global_vdag_metrics_redis_host', 'policy_db_url', 'blocks_db_url', 'cluster_db_url', 'vdag_db_url', 'vdag_controller_db_url'].map((k) => [k, 'http://mgmt.example:30100']),
);
const KUBE_TOKEN = `kube-token-${randomBytes(12).toString('hex')}`;
const lines: string[] = [];
let gw: TestGateway;
let kube: FakeKube;

beforeAll(async () => {
  kube = await startFakeKube({ token: KUBE_TOKEN, readyDelayMs: 10, deleteDelayMs: 10 });
  gw = await startTestGateway({ env: { LOG_LEVEL: 'trace', GLOBAL_SERVICES_MAP: JSON.stringify(GLOBALS), INFRA_POLL_INITIAL_MS: '25', INFRA_POLL_MAX_MS: '250' }, logDestination: { write: (line) => void lines.push(line) } });
  // A cluster without service URLs yet: infra creation fills config.urlMap.
  const doc = sampleCluster('logs-c1') as { config: Record<string, unknown> };
  const { urlMap: _urls, ...config } = doc.config;
  const created = await gw.request('POST', '/clusters/create', { ...doc, config: { ...config, publicHostname: 'gpu.example.org', useGateway: false } });
  expect(created.status).toBe(200);
});
afterAll(async () => {
  await gw?.close();
  await kube?.close();
});

describe('logs', () => {
  it('carry request and task ids but never the kubeconfig or the bearer token of a request', async () => {
    const kubeconfig = kube.kubeconfigYaml();
    expect(kubeconfig).toContain(KUBE_TOKEN);
    const started = await gw.request('POST', '/create-cluster-infra', { cluster_id: 'logs-c1', kube_config_data: kubeconfig }, { 'X-Request-Id': 'logs-req-1' });
    expect(started.status).toBe(200);
    const taskId = started.body.data.task_id as string;
    const done = await waitFor(() => gw.request('GET', `/tasks/${taskId}`), (r) => ['completed', 'failed'].includes(r.body.data?.task_status), 60_000, 200);
    expect({ status: done.body.data.task_status, why: done.body.data.task_status_data }).toEqual({ status: 'completed', why: expect.anything() });
    // A refused request that carries a kubeconfig object and an unknown token.
    const stranger = `ccg_${randomBytes(16).toString('hex')}`;
    const refused = await gw.requestAs(stranger, 'POST', '/create-cluster-infra', { cluster_id: 'logs-c1', kube_config_data: kube.kubeconfig() });
    expect(refused.status).toBe(401);

    const text = lines.join('');
    expect(text).not.toContain(KUBE_TOKEN);
    expect(text).not.toContain(gw.adminToken);
    expect(text).not.toContain(stranger);
    expect(text).not.toContain(Buffer.from(kubeconfig).toString('base64').slice(0, 40));

    const parsed = lines.map((l) => JSON.parse(l));
    expect(parsed.some((l) => l.msg === 'request' && l.request_id === 'logs-req-1' && l.path === '/create-cluster-infra' && l.status === 200)).toBe(true);
    // At trace level the request's headers and body are logged, with the secrets in them redacted.
    const detail = parsed.find((l) => l.msg === 'request detail' && l.request_id === 'logs-req-1');
    expect(detail.headers.authorization).toBe('[redacted]');
    expect(detail.body).toEqual({ cluster_id: 'logs-c1', kube_config_data: '[redacted]' });
    const taskLines = parsed.filter((l) => l.task_id === taskId);
    expect(taskLines.some((l) => l.msg === 'task completed')).toBe(true);
    expect(taskLines.length).toBeGreaterThan(3); // the infra steps log with the task's id
  }, 90_000);
});
