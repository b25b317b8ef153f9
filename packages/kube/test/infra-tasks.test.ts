/**
 * The infra task definitions through the real task machinery (TaskService, queue, TaskRunner in
 * the test gateway's worker) and the real client-node against the fake Kubernetes API server.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { ConflictError, UnavailableError } from '@ccg/contracts';
import { sampleCluster, startFakeKube, startTestGateway, type FakeKube, type TestGateway } from '@ccg/testkit';
import {
  CLUSTER_ID_LABEL,
  CLUSTER_INFRA_CREATION,
  CLUSTER_INFRA_REMOVAL,
  CREATION_STEPS,
  FIELD_MANAGER,
  MANAGED_BY,
  MANAGED_BY_LABEL,
  REMOVAL_STEPS,
  allObjects,
  resolveInfraSettings,
} from '@ccg/kube';

const GLOBALS = {
  global_block_metrics_redis_host: 'redis://mgmt.example:30200/0',
  global_cluster_metrics_redis_host: 'redis://mgmt.example:30200/0',
  global_vdag_metrics_redis_host: 'redis://mgmt.example:30200/0',
  policy_db_url: 'http://mgmt.example:30102',
  blocks_db_url: 'http://mgmt.example:30100',
  cluster_db_url: 'http://mgmt.example:30101',
  vdag_db_url: 'http://mgmt.example:30103',
  vdag_controller_db_url: 'http://mgmt.example:30103',
};

// Busy CI machines: whole create/remove cycles can take a while.
jest.setTimeout(180_000);

let gw: TestGateway;
const fakes: FakeKube[] = [];
const ENV = {
  GLOBAL_SERVICES_MAP: JSON.stringify(GLOBALS),
  // Generous: the machine running the tests may be busy; the failure test uses its own gateway.
  INFRA_STEP_TIMEOUT_MS: '30000',
  INFRA_DELETE_TIMEOUT_MS: '5000',
  INFRA_POLL_INITIAL_MS: '25',
  INFRA_POLL_MAX_MS: '250',
};

beforeAll(async () => {
  gw = await startTestGateway({ env: ENV });
});
afterAll(async () => {
  await gw?.close();
  await Promise.all(fakes.map((f) => f.close()));
});

async function fakeCluster(opts: Parameters<typeof startFakeKube>[0] = {}): Promise<FakeKube> {
  const f = await startFakeKube({ readyDelayMs: 80, deleteDelayMs: 30, ...opts });
  fakes.push(f);
  return f;
}

async function clusterEntry(id: string, config: Record<string, unknown> = {}, g: TestGateway = gw) {
  const doc = sampleCluster(id) as Record<string, any>;
  const { urlMap: _sampleUrls, ...sampleConfig } = doc.config ?? {};
  doc.config = { ...sampleConfig, publicHostname: 'gpu.example.org', useGateway: false, ...config };
  return g.services.clusters.create(doc);
}

const TERMINAL = new Set(['completed', 'failed', 'cancelled']);
async function settle(taskId: string, timeoutMs = 60_000, g: TestGateway = gw) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const t = await g.services.tasks.get(taskId);
    if (TERMINAL.has(t.task_status)) return t;
    if (Date.now() > end) throw new Error(`task ${taskId} still ${t.task_status}: ${JSON.stringify(t.steps)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Submits like a client would: a 503 (the queue did not answer in time on a busy machine) is retried. */
async function submit(type: string, cluster_id: string, kube_config_data: unknown, g: TestGateway = gw) {
  for (let attempt = 1; ; attempt++) {
    try {
      return (await g.services.tasks.submit(type, { cluster_id, kube_config_data })).task;
    } catch (err) {
      if (!(err instanceof UnavailableError) || attempt >= 5) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

const ours = (f: FakeKube, id: string) => f.objects({ labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY},${CLUSTER_ID_LABEL}=${id}` }).filter((o) => o.kind !== 'Pod' && o.kind !== 'ReplicaSet');
const key = (o: { kind?: string; metadata: { namespace?: string; name: string } }) => `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`;

async function badImage(g: TestGateway, fake: FakeKube, id: string) {
  await clusterEntry(id, {}, g);
  fake.failImage(g.config.infra.images.metricsCollector, 'ImagePullBackOff', 'Back-off pulling image "collector"');
  const t = await settle((await submit(CLUSTER_INFRA_CREATION, id, fake.kubeconfig(), g)).task_id, 60_000, g);
  expect(t.task_status).toBe('failed');
  const data = t.task_status_data as any;
  expect(data.failed_step).toBe('metrics-collector');
  expect(data.error).toContain('DaemonSet metrics/metrics-collector');
  expect(data.error).toContain('ImagePullBackOff');
  expect(data.details.failed_object).toEqual({ kind: 'DaemonSet', namespace: 'metrics', name: 'metrics-collector' });
  expect(data.details.pod_reason).toMatch(/ImagePullBackOff/);
  expect(data.details.rollback.removed).toEqual(expect.arrayContaining(['Deployment metrics/cluster-metrics', 'Deployment metrics/metrics-writer', 'Namespace metrics', 'DaemonSet metrics/metrics-collector']));
  expect(data.details.rollback.residue).toEqual([]);
  expect(t.steps.map((s) => s.status)).toEqual(['completed', 'completed', 'failed', 'pending', 'pending', 'pending']);
  expect(ours(fake, id)).toEqual([]);
  const entry = await g.services.clusters.read(id);
  expect((entry.config as any).urlMap).toBeUndefined();
  expect(entry.infraStatus).toMatchObject({ status: 'failed', failed_step: 'metrics-collector' });

  // A retry with the kubeconfig again, once the image is fixed, re-applies what the rollback removed.
  fake.clearFailures();
  await g.services.tasks.retry(t.task_id, { secrets: { kube_config_data: fake.kubeconfigYaml() } });
  const retried = await settle(t.task_id, 60_000, g);
  expect(retried.task_status).toBe('completed');
  expect(fake.get('Deployment', 'metrics', 'cluster-metrics')).toBeDefined();
  expect(fake.get('Namespace', undefined, 'metrics')).toBeDefined();
}

describe('cluster_infra_creation and cluster_infra_removal', () => {
  it('creates every object, records steps a–f and a urlMap of strings; again changes nothing; removal leaves nothing', async () => {
    const fake = await fakeCluster();
    const id = 'infra-full';
    await clusterEntry(id);
    const created = await submit(CLUSTER_INFRA_CREATION, id, fake.kubeconfigYaml());
    expect(created.task_data).toEqual({ cluster_id: id, kube_config_data: '[redacted]' });
    expect(created.steps.map((s) => s.name)).toEqual([...CREATION_STEPS]);

    const done = await settle(created.task_id);
    expect([done.task_status, done.task_status_data]).toEqual(['completed', expect.anything()]);
    expect(done.steps.map((s) => [s.name, s.status])).toEqual(CREATION_STEPS.map((n) => [n, 'completed']));
    const started = done.steps.map((s) => Date.parse(s.started_at!));
    expect([...started].sort((a, b) => a - b)).toEqual(started);

    const entry = await gw.services.clusters.read(id);
    const expected = allObjects(resolveInfraSettings(gw.config.infra, entry));
    for (const o of expected) {
      const live = fake.get(o.kind, o.metadata.namespace, o.metadata.name);
      expect([key(o), live?.metadata.labels?.[MANAGED_BY_LABEL], live?.metadata.labels?.[CLUSTER_ID_LABEL]]).toEqual([key(o), MANAGED_BY, id]);
    }
    expect(ours(fake, id).map(key).sort()).toEqual(expected.map(key).sort());
    const urlMap = (entry.config as any).urlMap;
    expect(Object.keys(urlMap).sort()).toEqual(['blocksQuery', 'controllerService', 'membershipServer', 'metricsService', 'parameterUpdater', 'publicGateway']);
    for (const v of Object.values(urlMap)) expect(typeof v).toBe('string');
    expect(urlMap.controllerService).toBe('http://gpu.example.org:32300');
    expect(entry.infraStatus).toMatchObject({ status: 'ready', task_id: created.task_id });

    // Every write was a server-side apply under one field manager; no plain creates.
    const writes = fake.requests.filter((r) => ['POST', 'PUT', 'PATCH'].includes(r.method));
    expect(writes.length).toBeGreaterThan(0);
    expect(new Set(writes.map((w) => `${w.method} ${w.contentType} ${w.fieldManager}`))).toEqual(new Set([`PATCH application/apply-patch+yaml ${FIELD_MANAGER}`]));

    // Again: succeeds, no new objects, nothing recreated.
    const before = new Map(ours(fake, id).map((o) => [key(o), o.metadata.uid]));
    const again = await settle((await submit(CLUSTER_INFRA_CREATION, id, fake.kubeconfig())).task_id);
    expect(again.task_status).toBe('completed');
    expect(new Map(ours(fake, id).map((o) => [key(o), o.metadata.uid]))).toEqual(before);

    const removal = await submit(CLUSTER_INFRA_REMOVAL, id, Buffer.from(fake.kubeconfigYaml()).toString('base64'));
    expect(removal.steps.map((s) => s.name)).toEqual([...REMOVAL_STEPS]);
    const removed = await settle(removal.task_id);
    expect(removed.task_status).toBe('completed');
    expect(removed.steps.every((s) => s.status === 'completed')).toBe(true);
    expect((removed.task_status_data as any).result.residue).toEqual([]);
    expect(ours(fake, id)).toEqual([]);
    const after = await gw.services.clusters.read(id);
    expect((after.config as any).urlMap).toEqual({});
    expect(after.infraStatus).toMatchObject({ status: 'removed', task_id: removal.task_id });
    // Deletion went in reverse: the exposure Services before the controller, the namespace last.
    const deletes = fake.requests.filter((r) => r.method === 'DELETE').map((r) => r.path);
    expect(deletes.findIndex((p) => p.endsWith('/infra-full-controller-public'))).toBeLessThan(deletes.findIndex((p) => p.endsWith('/deployments/infra-full-controller')));
    expect(deletes.findIndex((p) => p.endsWith('/deployments/cluster-metrics'))).toBeLessThan(deletes.findIndex((p) => p.endsWith('/namespaces/metrics')));
  });

  it('with useGateway, exposure is an Ingress per namespace and the urlMap holds paths', async () => {
    const fake = await fakeCluster();
    const id = 'infra-ingress';
    await clusterEntry(id, { useGateway: true });
    const t = await settle((await submit(CLUSTER_INFRA_CREATION, id, fake.kubeconfig())).task_id);
    expect(t.task_status).toBe('completed');
    expect(fake.objects({ kind: 'Ingress' }).map(key).sort()).toEqual(['Ingress controllers/aios-cluster-gateway', 'Ingress metrics/aios-metrics-gateway']);
    expect(fake.get('Service', 'controllers', 'infra-ingress-controller-public')).toBeUndefined();
    const entry = await gw.services.clusters.read(id);
    expect((entry.config as any).urlMap).toMatchObject({ controllerService: 'http://gpu.example.org/controller', metricsService: 'http://gpu.example.org/metrics', membershipServer: 'http://gpu.example.org/membership' });
    expect((await settle((await submit(CLUSTER_INFRA_REMOVAL, id, fake.kubeconfig())).task_id)).task_status).toBe('completed');
    expect(ours(fake, id)).toEqual([]);
  });

  it('one infra task per cluster: a second one is refused naming the running task, and a finished one frees the key', async () => {
    const fake = await fakeCluster({ readyDelayMs: 400 });
    const id = 'infra-exclusive';
    await clusterEntry(id);
    const first = await submit(CLUSTER_INFRA_CREATION, id, fake.kubeconfig());
    const err = await submit(CLUSTER_INFRA_REMOVAL, id, fake.kubeconfig()).catch((e) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as ConflictError).status).toBe(409);
    expect((err as ConflictError).details).toMatchObject({ task_id: first.task_id });
    expect((await settle(first.task_id)).task_status).toBe('completed');
    expect((await settle((await submit(CLUSTER_INFRA_REMOVAL, id, fake.kubeconfig())).task_id)).task_status).toBe('completed');
  });

  it('an image that never becomes ready at step c fails naming the DaemonSet and the pod reason, and rolls back steps a–b', async () => {
    const fake = await fakeCluster();
    const id = 'infra-badimage';
    // Its own gateway, whose steps time out sooner.
    const short = await startTestGateway({ env: { ...ENV, INFRA_STEP_TIMEOUT_MS: '5000' } });
    try {
      await badImage(short, fake, id);
    } finally {
      await short.close();
    }
  });

  it('cancel during a long readiness wait ends the task promptly', async () => {
    const fake = await fakeCluster({ readyDelayMs: 120_000 });
    const id = 'infra-cancel';
    await clusterEntry(id);
    const t = await submit(CLUSTER_INFRA_CREATION, id, fake.kubeconfig());
    const end = Date.now() + 10_000;
    while ((await gw.services.tasks.get(t.task_id)).steps[0].status !== 'in_progress') {
      if (Date.now() > end) throw new Error('step a never started');
      await new Promise((r) => setTimeout(r, 25));
    }
    const asked = Date.now();
    await gw.services.tasks.cancel(t.task_id);
    const done = await settle(t.task_id, 10_000);
    expect(done.task_status).toBe('cancelled');
    // Prompt: the readiness wait would have lasted 120 s.
    expect(Date.now() - asked).toBeLessThan(5_000);
    expect(done.steps[0].status).toBe('cancelled');
  });

  it('an unreachable API server fails removal and leaves the entry as it was', async () => {
    const fake = await fakeCluster();
    const id = 'infra-unreachable';
    await clusterEntry(id, { urlMap: { controllerService: 'http://gpu.example.org:32300' } });
    const kubeconfig = fake.kubeconfig() as any;
    kubeconfig.clusters[0].cluster.server = 'http://127.0.0.1:9';
    const t = await settle((await submit(CLUSTER_INFRA_REMOVAL, id, kubeconfig)).task_id);
    expect(t.task_status).toBe('failed');
    expect((t.task_status_data as any).error).toMatch(/cannot be used with this kubeconfig/);
    const entry = await gw.services.clusters.read(id);
    expect((entry.config as any).urlMap).toEqual({ controllerService: 'http://gpu.example.org:32300' });
    expect(entry.infraStatus).toBeUndefined();
  });

  it('wrong credentials fail creation before anything is applied', async () => {
    const fake = await fakeCluster();
    const id = 'infra-badtoken';
    await clusterEntry(id);
    const kubeconfig = fake.kubeconfig() as any;
    kubeconfig.users[0].user.token = 'wrong';
    const t = await settle((await submit(CLUSTER_INFRA_CREATION, id, kubeconfig)).task_id);
    expect(t.task_status).toBe('failed');
    expect((t.task_status_data as any).error).toMatch(/HTTP 401/);
    expect(ours(fake, id)).toEqual([]);
  });

  it('users cannot write infraStatus', async () => {
    await clusterEntry('infra-guard');
    await expect(gw.services.clusters.update('infra-guard', { 'infraStatus.status': 'ready' })).rejects.toMatchObject({ status: 400, details: { field: 'infraStatus.status' } });
  });
});
