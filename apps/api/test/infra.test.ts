import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';

jest.setTimeout(180_000);
import { Writable } from 'node:stream';
import { execFileSync } from 'node:child_process';
import { allObjects, CREATION_STEPS, REMOVAL_STEPS, resolveInfraSettings } from '@ccg/kube';
import { queueBackends, redisQueueDump, startFakeKube, testDatabaseUrl, testRedisUrl, type FakeKube, type TestGateway, startTestGateway } from '@ccg/testkit';
import { infraEnv, managedObjects, PUBLIC_HOST, registerCluster, waitForTask } from './infra/helpers.js';

const describeRef = (o: { kind: string; metadata: { namespace?: string; name: string } }) => `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;

describe('cluster infrastructure through the real client-node against the fake API server', () => {
  let kube: FakeKube;
  let gw: TestGateway;
  const logLines: string[] = [];
  beforeAll(async () => {
    kube = await startFakeKube({ readyDelayMs: 150, deleteDelayMs: 50 });
    const sink = new Writable({
      write(chunk, _enc, cb) {
        logLines.push(chunk.toString());
        cb();
      },
    });
    // Redis when CI has it: the queue scan below then reads Redis's stored data.
    const backend = queueBackends().includes('redis') ? 'redis' : 'postgres';
    gw = await startTestGateway({ backend, env: infraEnv({ LOG_LEVEL: 'debug' }), logDestination: sink } as Parameters<typeof startTestGateway>[0]);
  });
  afterAll(async () => {
    await gw.close();
    await kube.close();
  });

  it('creates steps a–f with every expected object and string URLs; creating again changes nothing; removing leaves nothing', async () => {
    await registerCluster(gw, 'cluster-123');
    const res = await gw.request('POST', '/create-cluster-infra', { cluster_id: 'cluster-123', kube_config_data: kube.kubeconfigYaml() });
    expect(res.status).toBe(200);
    expect(res.body.success).toBe(true);
    expect(res.body.data.task_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.body.data.task_data.kube_config_data).toBe('[redacted]');

    const done = await waitForTask(gw, res.body.data.task_id);
    expect(done.task_status).toBe('completed');
    expect(done.task_type).toBe('cluster_infra_creation');
    expect(done.steps.map((s: any) => [s.name, s.status, s.attempts])).toEqual(CREATION_STEPS.map((n) => [n, 'completed', 1]));

    // Every object the plan names exists, with the right kind, namespace and labels, and nothing else.
    const cluster = (await gw.request('GET', '/clusters/read/cluster-123')).body.data;
    const expected = allObjects(resolveInfraSettings(gw.config.infra, cluster));
    expect(managedObjects(kube)).toEqual(expected.map(describeRef).sort());
    for (const o of expected) {
      const live = kube.get(o.kind, o.metadata.namespace, o.metadata.name)!;
      expect(live.metadata.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'cluster-controller-gateway', 'aios.cluster-id': 'cluster-123' });
    }
    // The reference's names for the components other AIOS services look up.
    for (const ref of ['Deployment metrics/cluster-metrics', 'Service metrics/cluster-metrics-svc', 'Deployment metrics/metrics-writer', 'Service metrics/metrics-writer-svc', 'DaemonSet metrics/metrics-collector', 'Deployment controllers/cluster-123-controller', 'Service controllers/cluster-123-controller-svc', 'Deployment controllers/membership-server', 'Deployment controllers/grpc-proxy']) {
      expect(managedObjects(kube)).toContain(ref);
    }
    // No cluster-admin for default service accounts; the metrics writer's Redis is not public.
    expect(kube.objects({ kind: 'ClusterRoleBinding' }).filter((b: any) => b.roleRef?.name === 'cluster-admin')).toEqual([]);
    for (const svc of kube.objects({ kind: 'Service' }) as any[]) {
      expect(svc.spec.ports.length).toBeGreaterThan(0);
      if (svc.spec.type === 'NodePort') expect(svc.spec.ports.map((p: any) => p.port)).not.toContain(6379);
    }
    // The urlMap: six plain string URLs on the public host.
    expect(Object.keys(cluster.config.urlMap).sort()).toEqual(['blocksQuery', 'controllerService', 'membershipServer', 'metricsService', 'parameterUpdater', 'publicGateway']);
    for (const url of Object.values(cluster.config.urlMap)) expect(url).toEqual(expect.stringMatching(new RegExp(`^http://${PUBLIC_HOST.replace(/\./g, '\\.')}:\\d+$`)));
    expect(cluster.infraStatus).toMatchObject({ status: 'ready', task_id: res.body.data.task_id });

    // Again: the same objects (same uid, same generation), and success.
    const before = kube.objects({ labelSelector: 'app.kubernetes.io/managed-by=cluster-controller-gateway' }).map((o) => [describeRef(o), o.metadata.uid, o.metadata.generation]);
    const again = await gw.request('POST', '/create-cluster-infra', { cluster_id: 'cluster-123', kube_config_data: kube.kubeconfig() });
    expect(again.status).toBe(200);
    expect((await waitForTask(gw, again.body.data.task_id)).task_status).toBe('completed');
    const after = kube.objects({ labelSelector: 'app.kubernetes.io/managed-by=cluster-controller-gateway' }).map((o) => [describeRef(o), o.metadata.uid, o.metadata.generation]);
    expect(after).toEqual(before);

    // Remove: the exact reverse; nothing left, the urlMap cleared.
    const removal = await gw.request('POST', '/remove-cluster-infra', { cluster_id: 'cluster-123', kube_config_data: Buffer.from(kube.kubeconfigYaml()).toString('base64') });
    expect(removal.status).toBe(200);
    const removed = await waitForTask(gw, removal.body.data.task_id);
    expect(removed.task_type).toBe('cluster_infra_removal');
    expect(removed.task_status).toBe('completed');
    expect(removed.steps.map((s: any) => s.name)).toEqual([...REMOVAL_STEPS]);
    expect(managedObjects(kube, true)).toEqual([]);
    const afterRemoval = (await gw.request('GET', '/clusters/read/cluster-123')).body.data;
    expect(afterRemoval.config.urlMap ?? {}).toEqual({});
    expect(afterRemoval.infraStatus).toMatchObject({ status: 'removed', task_id: removal.body.data.task_id });

    // Nothing of the kubeconfig stayed anywhere: database, logs, queue.
    const dump = execFileSync('pg_dump', ['--data-only', '--schema', gw.schema, testDatabaseUrl()], { maxBuffer: 256 * 1024 * 1024 }).toString();
    // On the Postgres queue backend the queue's stored data is a schema of its own.
    const queueSchema = `${gw.config.queuePrefix.replace(/-/g, '_')}_queue`;
    const queueDump = gw.config.queueBackend === 'postgres' ? execFileSync('pg_dump', ['--data-only', '--schema', queueSchema, testDatabaseUrl()], { maxBuffer: 256 * 1024 * 1024 }).toString() : '';
    const secrets = [kube.token, Buffer.from(kube.kubeconfigYaml()).toString('base64').slice(0, 40), 'current-context'];
    expect(dump.length).toBeGreaterThan(1000);
    expect(logLines.length).toBeGreaterThan(10);
    for (const s of secrets) {
      expect(dump).not.toContain(s);
      expect(queueDump).not.toContain(s);
      expect(logLines.join('')).not.toContain(s);
    }
    if (gw.config.queueBackend === 'redis') {
      const stored = await redisQueueDump(testRedisUrl()!, gw.config.queuePrefix);
      expect(stored.length).toBeGreaterThan(0);
      for (const s of secrets) expect(stored).not.toContain(s);
      // Finished jobs are removed with their (sealed) payload.
      expect(stored).not.toContain('"secrets"');
    }
  });

  it('an image that never becomes ready at step c fails naming the DaemonSet and the pod reason; rollback removes steps a–b; a retry with the kubeconfig again completes', async () => {
    await registerCluster(gw, 'cluster-bad-image');
    kube.failImage(gw.config.infra.images.metricsCollector, 'ImagePullBackOff', 'Back-off pulling image');
    try {
      const res = await gw.request('POST', '/create-cluster-infra', { cluster_id: 'cluster-bad-image', kube_config_data: kube.kubeconfig() });
      expect(res.status).toBe(200);
      const done = await waitForTask(gw, res.body.data.task_id, undefined, 60_000);
      expect(done.task_status).toBe('failed');
      expect(done.task_status_data.failed_step).toBe('metrics-collector');
      expect(done.task_status_data.error).toMatch(/DaemonSet metrics\/metrics-collector/);
      expect(done.task_status_data.error).toMatch(/ImagePullBackOff/);
      expect(done.steps.map((s: any) => s.status)).toEqual(['completed', 'completed', 'failed', 'pending', 'pending', 'pending']);
      // Rollback removed what steps a and b created for this cluster.
      expect(kube.objects({ labelSelector: 'aios.cluster-id=cluster-bad-image' })).toEqual([]);
      const cluster = (await gw.request('GET', '/clusters/read/cluster-bad-image')).body.data;
      expect(cluster.config.urlMap ?? {}).toEqual({});
      expect(cluster.infraStatus).toMatchObject({ status: 'failed' });

      // Retry: the kubeconfig is not stored, so the retry brings it again, checked like the first time.
      const id = res.body.data.task_id;
      const bare = await gw.request('POST', `/tasks/${id}/retry`, {});
      expect([bare.status, bare.body.error.details.field]).toEqual([400, 'secrets.kube_config_data']);
      const withExec = kube.kubeconfig() as any;
      withExec.users[0].user = { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'id' } };
      const exec = await gw.request('POST', `/tasks/${id}/retry`, { secrets: { kube_config_data: JSON.stringify(withExec) } });
      expect([exec.status, exec.body.error.details.field]).toEqual([400, 'secrets.kube_config_data.users[0].user.exec']);
      kube.clearFailures();
      const retried = await gw.request('POST', `/tasks/${id}/retry`, { secrets: { kube_config_data: Buffer.from(kube.kubeconfigYaml()).toString('base64') } });
      expect(retried.status).toBe(200);
      const again = await waitForTask(gw, id, undefined, 60_000);
      expect([again.task_status, again.task_status_data.error]).toEqual(['completed', undefined]);
      expect(Object.keys((await gw.request('GET', '/clusters/read/cluster-bad-image')).body.data.config.urlMap)).toHaveLength(6);
      // Remove it again before the next test: the clusters of this file share the fake's namespaces.
      const removal = await gw.request('POST', '/remove-cluster-infra', { cluster_id: 'cluster-bad-image', kube_config_data: kube.kubeconfig() });
      expect(removal.status).toBe(200);
      expect((await waitForTask(gw, removal.body.data.task_id, undefined, 60_000)).task_status).toBe('completed');
    } finally {
      kube.clearFailures();
    }
  });

  it('refuses kubeconfigs that would run commands or read files, and bad bodies, with 400 naming the field', async () => {
    await registerCluster(gw, 'cluster-refused');
    const withExec = kube.kubeconfig() as any;
    withExec.users[0].user = { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: '/bin/sh', args: ['-c', 'id'] } };
    const exec = await gw.request('POST', '/create-cluster-infra', { cluster_id: 'cluster-refused', kube_config_data: withExec });
    expect(exec.status).toBe(400);
    expect(exec.body.error.details.field).toMatch(/^kube_config_data\.users\[0\]\.user\.exec$/);
    const provider = { ...withExec, users: [{ name: withExec.users[0].name, user: { 'auth-provider': { name: 'gcp' } } }] };
    expect((await gw.request('POST', '/remove-cluster-infra', { cluster_id: 'cluster-refused', kube_config_data: provider })).body.error.details.field).toMatch(/auth-provider/);
    const file = kube.kubeconfig() as any;
    file.users[0].user = { 'client-key': '/etc/ssl/private/key.pem', 'client-certificate': '/etc/ssl/cert.pem' };
    expect((await gw.request('POST', '/create-cluster-infra', { cluster_id: 'cluster-refused', kube_config_data: file })).status).toBe(400);
    const empty = await gw.request('POST', '/create-cluster-infra', { cluster_id: 'cluster-refused', kube_config_data: {} });
    expect(empty.status).toBe(400);
    expect(empty.body.error.details.field).toMatch(/^kube_config_data/);
    const garbage = await gw.request('POST', '/create-cluster-infra', { cluster_id: 'cluster-refused', kube_config_data: 'c3BlY2lhbC1lbmNvZGVkLWt1YmUtY29uZmlnLWRhdGE=' });
    expect(garbage.status).toBe(400);
    expect((await gw.request('POST', '/create-cluster-infra', { kube_config_data: kube.kubeconfig() })).body.error.details.field).toBe('cluster_id');
    expect((await gw.request('POST', '/create-cluster-infra', { cluster_id: 'no-such-cluster', kube_config_data: kube.kubeconfig() })).status).toBe(404);
    // Creation needs the entry's public hostname for the urlMap: refused before any task.
    expect((await gw.request('PATCH', '/clusters/update/cluster-refused', { 'config.publicHostname': '' })).status).toBe(200);
    const noHost = await gw.request('POST', '/create-cluster-infra', { cluster_id: 'cluster-refused', kube_config_data: kube.kubeconfig() });
    expect([noHost.status, noHost.body.error.details.field]).toEqual([400, 'config.publicHostname']);
    // Nothing was started.
    expect((await gw.request('GET', '/tasks?cluster_id=cluster-refused')).body.data.items).toEqual([]);
  });

  it('accepts YAML text, a JSON object and base64 of either; one infra task per cluster at a time (409 naming it)', async () => {
    await registerCluster(gw, 'cluster-forms');
    kube.setReadyDelay(800);
    try {
      const first = await gw.request('POST', '/create-cluster-infra', { cluster_id: 'cluster-forms', kube_config_data: Buffer.from(JSON.stringify(kube.kubeconfig())).toString('base64') });
      expect(first.status).toBe(200);
      for (const form of [kube.kubeconfigYaml(), kube.kubeconfig(), Buffer.from(kube.kubeconfigYaml()).toString('base64')]) {
        const dup = await gw.request('POST', '/remove-cluster-infra', { cluster_id: 'cluster-forms', kube_config_data: form });
        expect(dup.status).toBe(409);
        expect(JSON.stringify(dup.body.error)).toContain(first.body.data.task_id);
      }
      const done = await waitForTask(gw, first.body.data.task_id);
      expect([done.task_status, done.task_status_data.error]).toEqual(['completed', undefined]);
    } finally {
      kube.setReadyDelay(150);
    }
    const removal = await gw.request('POST', '/remove-cluster-infra', { cluster_id: 'cluster-forms', kube_config_data: kube.kubeconfigYaml() });
    expect(removal.status).toBe(200);
    expect((await waitForTask(gw, removal.body.data.task_id)).task_status).toBe('completed');
  });

  it('create_cluster_infra and remove_cluster_infra pre-checks receive exactly {cluster_data}; a denial answers 403 before any task', async () => {
    const { registerJsRule, setPrecheckMap, RECORDING_RULE } = await import('@ccg/testkit');
    await registerCluster(gw, 'cluster-denied');
    await registerJsRule(gw, 'test.infra-record:v1', RECORDING_RULE);
    await setPrecheckMap(gw, { create_cluster_infra: 'test.infra-record:v1', remove_cluster_infra: 'test.infra-record:v1' });
    try {
      for (const path of ['/create-cluster-infra', '/remove-cluster-infra']) {
        const denied = await gw.request('POST', path, { cluster_id: 'cluster-denied', kube_config_data: kube.kubeconfig() });
        expect(denied.status).toBe(403);
        expect(denied.body.error.code).toBe('PRECHECK_DENIED');
        const { keys, input } = denied.body.error.details.reason;
        expect(keys).toEqual(['cluster_data']);
        expect(input.cluster_data).toMatchObject({ id: 'cluster-denied', config: { publicHostname: PUBLIC_HOST } });
        expect(JSON.stringify(input)).not.toContain(kube.token);
      }
      expect((await gw.request('GET', '/tasks?cluster_id=cluster-denied')).body.data.items).toEqual([]);
    } finally {
      await setPrecheckMap(gw, { create_cluster_infra: '', remove_cluster_infra: '' });
    }
  });
});
