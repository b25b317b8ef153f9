import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';

jest.setTimeout(180_000);
import { allObjects, CREATION_STEPS, resolveInfraSettings } from '@ccg/kube';
import { spawnWorker, startFakeKube, startTestGateway, type FakeKube, type TestGateway } from '@ccg/testkit';
import { infraEnv, managedObjects, registerCluster, waitForTask } from './infra/helpers.js';

const describeRef = (o: { kind: string; metadata: { namespace?: string; name: string } }) => `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;

describe('a worker killed during infra creation', () => {
  let kube: FakeKube;
  let gw: TestGateway;
  beforeAll(async () => {
    // Slow readiness so step d is still waiting when the worker dies.
    kube = await startFakeKube({ readyDelayMs: 1500, deleteDelayMs: 50 });
    gw = await startTestGateway({ worker: false, env: infraEnv({ JOB_LOCK_DURATION_MS: '1500', JOB_STALLED_INTERVAL_MS: '1000', INFRA_STEP_TIMEOUT_MS: '20000' }) });
  });
  afterAll(async () => {
    await gw.close();
    await kube.close();
  });

  it('SIGKILL during step d: a restarted worker completes the task, no duplicate objects, no step recorded twice', async () => {
    await registerCluster(gw, 'cluster-crash');
    const first = spawnWorker(gw);
    let second: ReturnType<typeof spawnWorker> | undefined;
    try {
      const res = await gw.request('POST', '/create-cluster-infra', { cluster_id: 'cluster-crash', kube_config_data: kube.kubeconfigYaml() });
      expect(res.status).toBe(200);
      const taskId = res.body.data.task_id;
      await waitForTask(gw, taskId, (t) => t.steps[3].status === 'in_progress', 60_000);
      first.kill('SIGKILL');
      second = spawnWorker(gw);
      const done = await waitForTask(gw, taskId, undefined, 90_000);
      expect([done.task_status, done.task_status_data.error]).toEqual(['completed', undefined]);
      // Steps a–c ran once; d was cut off and ran again in the new run; e and f once.
      expect(done.steps.map((s: any) => [s.name, s.status, s.attempts])).toEqual(CREATION_STEPS.map((n, i) => [n, 'completed', i === 3 ? 2 : 1]));
      expect(done.attempts).toBe(2);

      const cluster = (await gw.request('GET', '/clusters/read/cluster-crash')).body.data;
      expect(managedObjects(kube)).toEqual(allObjects(resolveInfraSettings(gw.config.infra, cluster)).map(describeRef).sort());
      // Re-applying the controller created no second copy: one ReplicaSet and one pod per one-replica Deployment.
      for (const d of kube.objects({ kind: 'Deployment', labelSelector: 'aios.cluster-id=cluster-crash' }) as any[]) {
        const owned = (kind: string) => kube.objects({ kind, namespace: d.metadata.namespace }).filter((o: any) => o.metadata.labels?.app === d.spec.selector.matchLabels.app);
        expect([d.metadata.name, owned('ReplicaSet').length, owned('Pod').length]).toEqual([d.metadata.name, 1, d.spec.replicas ?? 1]);
      }
      expect(Object.values(cluster.config.urlMap).every((u) => typeof u === 'string')).toBe(true);
    } finally {
      first.kill('SIGKILL');
      second?.kill('SIGKILL');
    }
  });
});
