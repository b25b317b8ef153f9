import { ApiException, AppsV1Api, CoreV1Api, KubeConfig, type V1DaemonSet, type V1Deployment, type V1StatefulSet } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startFakeKube, waitFor, type FakeKube } from '../src/index.js';

/** Workload simulation of the fake Kubernetes API server, observed through the real client-node. */

const READY_MS = 150;
let kube: FakeKube;
let core: CoreV1Api;
let apps: AppsV1Api;

beforeAll(async () => {
  kube = await startFakeKube({ readyDelayMs: READY_MS, deleteDelayMs: 80, nodes: ['n1', 'n2', 'n3'] });
  const kc = new KubeConfig();
  kc.loadFromString(kube.kubeconfigYaml());
  core = kc.makeApiClient(CoreV1Api);
  apps = kc.makeApiClient(AppsV1Api);
});

afterAll(async () => {
  await kube?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function gone(read: () => Promise<unknown>): Promise<boolean> {
  try {
    await read();
    return false;
  } catch (e) {
    if (e instanceof ApiException && e.code === 404) return true;
    throw e;
  }
}

const template = (app: string, image: string) => ({
  metadata: { labels: { app } },
  spec: { containers: [{ name: 'main', image }] },
});

const deployment = (name: string, image: string, replicas = 1): V1Deployment => ({
  metadata: { name, labels: { app: name } },
  spec: { replicas, selector: { matchLabels: { app: name } }, template: template(name, image) },
});

/** `kubectl rollout status` for a Deployment. */
const rolledOut = (d: V1Deployment): boolean =>
  (d.status?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 1) &&
  (d.status?.updatedReplicas ?? 0) === d.spec?.replicas &&
  (d.status?.replicas ?? 0) === d.spec?.replicas &&
  (d.status?.availableReplicas ?? 0) === d.spec?.replicas;

describe('Deployments', () => {
  beforeAll(async () => {
    await core.createNamespace({ body: { metadata: { name: 'deploy' } } });
  });

  it('become ready after the delay, with pods, a ReplicaSet and the status the controller reports', async () => {
    const started = Date.now();
    await apps.createNamespacedDeployment({ namespace: 'deploy', body: deployment('web', 'nginx:1.27', 2) });
    const early = await apps.readNamespacedDeployment({ name: 'web', namespace: 'deploy' });
    expect(rolledOut(early)).toBe(false);
    expect(early.status?.readyReplicas ?? 0).toBe(0);

    const pending = await waitFor(
      () => core.listNamespacedPod({ namespace: 'deploy', labelSelector: 'app=web' }),
      // Bound by the scheduler and reported by the kubelet (a pod is briefly unscheduled, as in Kubernetes).
      (l) => l.items.length === 2 && l.items.every((p) => p.spec?.nodeName && p.status?.containerStatuses),
      10_000,
      10,
    );
    if (Date.now() - started < READY_MS - 20) {
      const pod = pending.items[0];
      expect(pod.status?.phase).toBe('Pending');
      expect(pod.status?.containerStatuses?.[0].state?.waiting?.reason).toBe('ContainerCreating');
    }
    for (const pod of pending.items) {
      expect(pod.metadata?.name).toMatch(/^web-[a-z0-9]+-[a-z0-9]{5}$/);
      expect(pod.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'ReplicaSet', controller: true });
      expect(['n1', 'n2', 'n3']).toContain(pod.spec?.nodeName);
      expect(pod.metadata?.labels?.['pod-template-hash']).toBeDefined();
    }

    const ready = await waitFor(() => apps.readNamespacedDeployment({ name: 'web', namespace: 'deploy' }), rolledOut, 10_000, 20);
    expect(Date.now() - started).toBeGreaterThanOrEqual(READY_MS);
    expect(ready.status).toMatchObject({ observedGeneration: 1, replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 });
    const conditions = Object.fromEntries((ready.status?.conditions ?? []).map((c) => [c.type, c]));
    expect(conditions.Available).toMatchObject({ status: 'True', reason: 'MinimumReplicasAvailable' });
    expect(conditions.Progressing).toMatchObject({ status: 'True', reason: 'NewReplicaSetAvailable' });
    const pods = await core.listNamespacedPod({ namespace: 'deploy', labelSelector: 'app=web' });
    expect(pods.items.every((p) => p.status?.phase === 'Running' && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))).toBe(true);
    const rs = await apps.listNamespacedReplicaSet({ namespace: 'deploy' });
    expect(rs.items.map((r) => r.metadata?.ownerReferences?.[0].name)).toEqual(['web']);
  });

  it('an update of the pod template bumps generation and rolls out again after the delay', async () => {
    const current = await apps.readNamespacedDeployment({ name: 'web', namespace: 'deploy' });
    current.spec!.template.spec!.containers[0].image = 'nginx:1.28';
    const updated = await apps.replaceNamespacedDeployment({ name: 'web', namespace: 'deploy', body: { ...current, metadata: { ...current.metadata, resourceVersion: undefined } } });
    expect(updated.metadata?.generation).toBe(2);
    // Right after the write the controller has not observed it yet.
    expect(rolledOut(updated)).toBe(false);
    await sleep(40);
    const midway = await apps.readNamespacedDeployment({ name: 'web', namespace: 'deploy' });
    expect(rolledOut(midway)).toBe(false);
    const done = await waitFor(() => apps.readNamespacedDeployment({ name: 'web', namespace: 'deploy' }), rolledOut, 10_000, 20);
    expect(done.status?.observedGeneration).toBe(2);
    const pods = await waitFor(
      () => core.listNamespacedPod({ namespace: 'deploy', labelSelector: 'app=web' }),
      (l) => l.items.length === 2,
      10_000,
      20,
    );
    expect(pods.items.every((p) => p.spec?.containers[0].image === 'nginx:1.28')).toBe(true);
  });

  it('with a failing image never becomes ready, and its pods show the reason', async () => {
    kube.failImage('registry.example/broken', 'ImagePullBackOff', 'Back-off pulling image "registry.example/broken:1.0"');
    await apps.createNamespacedDeployment({ namespace: 'deploy', body: deployment('broken', 'registry.example/broken:1.0') });
    const pods = await waitFor(
      () => core.listNamespacedPod({ namespace: 'deploy', labelSelector: 'app=broken' }),
      (l) => l.items.some((p) => p.status?.containerStatuses?.[0].state?.waiting?.reason === 'ImagePullBackOff'),
      10_000,
      20,
    );
    const waiting = pods.items[0].status!.containerStatuses![0].state!.waiting!;
    expect(waiting.message).toBe('Back-off pulling image "registry.example/broken:1.0"');
    expect(pods.items[0].status?.phase).toBe('Pending');
    await sleep(READY_MS);
    const d = await apps.readNamespacedDeployment({ name: 'broken', namespace: 'deploy' });
    expect(rolledOut(d)).toBe(false);
    expect(d.status?.availableReplicas ?? 0).toBe(0);
    expect(d.status?.conditions?.find((c) => c.type === 'Available')?.status).toBe('False');

    kube.clearFailures();
    const recovered = await waitFor(() => apps.readNamespacedDeployment({ name: 'broken', namespace: 'deploy' }), rolledOut, 10_000, 20);
    expect(recovered.status?.readyReplicas).toBe(1);
  });

  it('reports ProgressDeadlineExceeded when a rollout takes longer than progressDeadlineSeconds', async () => {
    kube.failImage('stuck:1', 'ErrImagePull');
    const body = deployment('stuck', 'stuck:1');
    body.spec!.progressDeadlineSeconds = 1;
    await apps.createNamespacedDeployment({ namespace: 'deploy', body });
    const d = await waitFor(
      () => apps.readNamespacedDeployment({ name: 'stuck', namespace: 'deploy' }),
      (x) => x.status?.conditions?.some((c) => c.type === 'Progressing' && c.status === 'False') ?? false,
      10_000,
      50,
    );
    expect(d.status?.conditions?.find((c) => c.type === 'Progressing')?.reason).toBe('ProgressDeadlineExceeded');
  });

  it('deletion cascades to ReplicaSets and pods', async () => {
    await apps.deleteNamespacedDeployment({ name: 'web', namespace: 'deploy' });
    const lingering = await apps.readNamespacedDeployment({ name: 'web', namespace: 'deploy' });
    expect(lingering.metadata?.deletionTimestamp).toBeInstanceOf(Date);
    await waitFor(() => gone(() => apps.readNamespacedDeployment({ name: 'web', namespace: 'deploy' })), Boolean, 10_000, 20);
    await waitFor(
      () => core.listNamespacedPod({ namespace: 'deploy', labelSelector: 'app=web' }),
      (l) => l.items.length === 0,
      10_000,
      20,
    );
    const rs = await apps.listNamespacedReplicaSet({ namespace: 'deploy', labelSelector: 'app=web' });
    expect(rs.items).toEqual([]);
  });
});

describe('deletion propagation', () => {
  beforeAll(async () => {
    await core.createNamespace({ body: { metadata: { name: 'propagation' } } });
  });

  it('Foreground keeps the Deployment until its ReplicaSet and pods are gone', async () => {
    await apps.createNamespacedDeployment({ namespace: 'propagation', body: deployment('fg', 'nginx:1.27', 2) });
    await waitFor(() => apps.readNamespacedDeployment({ name: 'fg', namespace: 'propagation' }), rolledOut, 10_000, 20);
    await apps.deleteNamespacedDeployment({ name: 'fg', namespace: 'propagation', propagationPolicy: 'Foreground' });
    const held = await apps.readNamespacedDeployment({ name: 'fg', namespace: 'propagation' });
    expect(held.metadata?.finalizers).toContain('foregroundDeletion');
    expect(held.metadata?.deletionTimestamp).toBeInstanceOf(Date);
    // Poll until the Deployment is gone; its pods must be gone by then.
    await waitFor(
      async () => {
        const deploymentGone = await gone(() => apps.readNamespacedDeployment({ name: 'fg', namespace: 'propagation' }));
        const pods = await core.listNamespacedPod({ namespace: 'propagation', labelSelector: 'app=fg' });
        if (deploymentGone) expect(pods.items).toEqual([]);
        return deploymentGone;
      },
      Boolean,
      10_000,
      10,
    );
  });

  it('Orphan leaves the ReplicaSet and pods without their owner', async () => {
    await apps.createNamespacedDeployment({ namespace: 'propagation', body: deployment('orphans', 'nginx:1.27') });
    await waitFor(() => core.listNamespacedPod({ namespace: 'propagation', labelSelector: 'app=orphans' }), (l) => l.items.length === 1, 10_000, 20);
    await apps.deleteNamespacedDeployment({ name: 'orphans', namespace: 'propagation', propagationPolicy: 'Orphan', gracePeriodSeconds: 0 });
    const rs = await waitFor(
      () => apps.listNamespacedReplicaSet({ namespace: 'propagation', labelSelector: 'app=orphans' }),
      (l) => l.items.length === 1 && !l.items[0].metadata?.ownerReferences,
      10_000,
      20,
    );
    expect(rs.items[0].metadata?.name).toMatch(/^orphans-/);
    expect((await core.listNamespacedPod({ namespace: 'propagation', labelSelector: 'app=orphans' })).items).toHaveLength(1);
  });
});

describe('DaemonSets and StatefulSets', () => {
  beforeAll(async () => {
    await core.createNamespace({ body: { metadata: { name: 'sets' } } });
  });

  it('a DaemonSet schedules one pod per node and reports desired = node count', async () => {
    const ds: V1DaemonSet = {
      metadata: { name: 'collector' },
      spec: {
        selector: { matchLabels: { app: 'collector' } },
        template: { metadata: { labels: { app: 'collector' } }, spec: { nodeSelector: { 'kubernetes.io/os': 'linux' }, containers: [{ name: 'c', image: 'collector:1' }] } },
      },
    };
    await apps.createNamespacedDaemonSet({ namespace: 'sets', body: ds });
    const ready = await waitFor(
      () => apps.readNamespacedDaemonSet({ name: 'collector', namespace: 'sets' }),
      (x) => x.status?.numberReady === 3,
      10_000,
      20,
    );
    expect(ready.status).toMatchObject({
      observedGeneration: 1,
      desiredNumberScheduled: 3,
      currentNumberScheduled: 3,
      numberReady: 3,
      updatedNumberScheduled: 3,
      numberAvailable: 3,
      numberMisscheduled: 0,
    });
    const pods = await core.listNamespacedPod({ namespace: 'sets', labelSelector: 'app=collector' });
    expect(pods.items.map((p) => p.spec?.nodeName).sort()).toEqual(['n1', 'n2', 'n3']);
  });

  it('a DaemonSet whose node selector matches no node wants zero pods', async () => {
    const ds: V1DaemonSet = {
      metadata: { name: 'nowhere' },
      spec: {
        selector: { matchLabels: { app: 'nowhere' } },
        template: { metadata: { labels: { app: 'nowhere' } }, spec: { nodeSelector: { gpu: 'yes' }, containers: [{ name: 'c', image: 'x:1' }] } },
      },
    };
    await apps.createNamespacedDaemonSet({ namespace: 'sets', body: ds });
    const d = await waitFor(() => apps.readNamespacedDaemonSet({ name: 'nowhere', namespace: 'sets' }), (x) => x.status?.observedGeneration === 1, 10_000, 20);
    expect(d.status).toMatchObject({ desiredNumberScheduled: 0, currentNumberScheduled: 0, numberReady: 0 });
  });

  it('a StatefulSet creates ordered pods and reports revisions', async () => {
    const sts: V1StatefulSet = {
      metadata: { name: 'db' },
      spec: { serviceName: 'db', replicas: 2, selector: { matchLabels: { app: 'db' } }, template: template('db', 'mongo:7') },
    };
    await apps.createNamespacedStatefulSet({ namespace: 'sets', body: sts });
    const first = await waitFor(() => core.listNamespacedPod({ namespace: 'sets', labelSelector: 'app=db' }), (l) => l.items.length >= 1, 10_000, 10);
    expect(first.items[0].metadata?.name).toBe('db-0');
    const ready = await waitFor(
      () => apps.readNamespacedStatefulSet({ name: 'db', namespace: 'sets' }),
      (x) => x.status?.readyReplicas === 2,
      10_000,
      20,
    );
    expect(ready.status).toMatchObject({ observedGeneration: 1, replicas: 2, readyReplicas: 2, currentReplicas: 2, updatedReplicas: 2 });
    expect(ready.status?.currentRevision).toBe(ready.status?.updateRevision);
    expect(ready.status?.updateRevision).toMatch(/^db-/);
    const pods = await core.listNamespacedPod({ namespace: 'sets', labelSelector: 'app=db' });
    expect(pods.items.map((p) => p.metadata?.name)).toEqual(['db-0', 'db-1']);
  });
});

describe('rolling updates of sets', () => {
  it('a StatefulSet and a DaemonSet replace their pods after a template change', async () => {
    const sts = await apps.readNamespacedStatefulSet({ name: 'db', namespace: 'sets' });
    const oldRevision = sts.status?.updateRevision;
    sts.spec!.template.spec!.containers[0].image = 'mongo:8';
    await apps.replaceNamespacedStatefulSet({ name: 'db', namespace: 'sets', body: { ...sts, metadata: { ...sts.metadata, resourceVersion: undefined } } });
    const midway = await waitFor(() => apps.readNamespacedStatefulSet({ name: 'db', namespace: 'sets' }), (x) => x.status?.observedGeneration === 2, 10_000, 10);
    expect(midway.status?.updateRevision).not.toBe(oldRevision);
    expect(midway.status?.currentRevision).toBe(oldRevision);
    const done = await waitFor(
      () => apps.readNamespacedStatefulSet({ name: 'db', namespace: 'sets' }),
      (x) => x.status?.currentRevision === x.status?.updateRevision && x.status?.readyReplicas === 2,
      10_000,
      20,
    );
    expect(done.status).toMatchObject({ replicas: 2, updatedReplicas: 2, currentReplicas: 2 });
    const stsPods = await core.listNamespacedPod({ namespace: 'sets', labelSelector: 'app=db' });
    expect(stsPods.items.map((p) => p.spec?.containers[0].image)).toEqual(['mongo:8', 'mongo:8']);

    const ds = await apps.readNamespacedDaemonSet({ name: 'collector', namespace: 'sets' });
    ds.spec!.template.spec!.containers[0].image = 'collector:2';
    await apps.replaceNamespacedDaemonSet({ name: 'collector', namespace: 'sets', body: { ...ds, metadata: { ...ds.metadata, resourceVersion: undefined } } });
    const rolled = await waitFor(
      () => apps.readNamespacedDaemonSet({ name: 'collector', namespace: 'sets' }),
      (x) => x.status?.observedGeneration === 2 && x.status?.updatedNumberScheduled === 3 && x.status?.numberAvailable === 3,
      10_000,
      20,
    );
    expect(rolled.status?.desiredNumberScheduled).toBe(3);
    const dsPods = await waitFor(() => core.listNamespacedPod({ namespace: 'sets', labelSelector: 'app=collector' }), (l) => l.items.length === 3, 10_000, 20);
    expect(dsPods.items.every((p) => p.spec?.containers[0].image === 'collector:2')).toBe(true);
  });
});

describe('namespaces', () => {
  it('deleting a namespace deletes what is in it, then the namespace', async () => {
    await core.createNamespace({ body: { metadata: { name: 'doomed' } } });
    await apps.createNamespacedDeployment({ namespace: 'doomed', body: deployment('app', 'nginx:1.27') });
    await core.createNamespacedConfigMap({ namespace: 'doomed', body: { metadata: { name: 'cfg' } } });
    await waitFor(() => core.listNamespacedPod({ namespace: 'doomed' }), (l) => l.items.length === 1, 10_000, 20);

    await core.deleteNamespace({ name: 'doomed' });
    const terminating = await core.readNamespace({ name: 'doomed' });
    expect(terminating.status?.phase).toBe('Terminating');
    const refused = await core.createNamespacedConfigMap({ namespace: 'doomed', body: { metadata: { name: 'late' } } }).catch((e: ApiException<string>) => e);
    expect(refused).toBeInstanceOf(ApiException);
    expect((refused as ApiException<string>).code).toBe(403);

    await waitFor(() => gone(() => core.readNamespace({ name: 'doomed' })), Boolean, 10_000, 20);
    expect(kube.objects({ namespace: 'doomed' })).toEqual([]);
  });
});
