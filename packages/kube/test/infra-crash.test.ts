/**
 * A worker process killed with SIGKILL during step d of infra creation: another worker takes
 * the job over, completed steps are not run again, the interrupted step re-runs safely (server-
 * side apply), and no object is duplicated or recreated. Uses the built apps/worker (spawnWorker).
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { UnavailableError } from '@ccg/contracts';
import { sampleCluster, spawnWorker, startFakeKube, startTestGateway, type FakeKube, type TestGateway } from '@ccg/testkit';
import { CLUSTER_ID_LABEL, CLUSTER_INFRA_CREATION, CREATION_STEPS, MANAGED_BY, MANAGED_BY_LABEL, allObjects, resolveInfraSettings } from '@ccg/kube';

const GLOBALS = Object.fromEntries(
  ['global_block_metrics_redis_host', 'global_cluster_metrics_redis_host', 'global_vdag_metrics_redis_host'].map((k) => [k, 'redis://mgmt.example:30200/0'] as [string, string])
    .concat(['policy_db_url', 'blocks_db_url', 'cluster_db_url', 'vdag_db_url', 'vdag_controller_db_url'].map((k) => [k, 'http://mgmt.example:30100'])),
);

let gw: TestGateway;
let fake: FakeKube;
beforeAll(async () => {
  gw = await startTestGateway({
    worker: false,
    env: {
      GLOBAL_SERVICES_MAP: JSON.stringify(GLOBALS),
      INFRA_POLL_INITIAL_MS: '25',
      INFRA_POLL_MAX_MS: '250',
      JOB_LOCK_DURATION_MS: '1500',
      JOB_STALLED_INTERVAL_MS: '1000',
    },
  });
  fake = await startFakeKube({ readyDelayMs: 150, deleteDelayMs: 30 });
});
afterAll(async () => {
  await gw?.close();
  await fake?.close();
});

const ours = (id: string) => fake.objects({ labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY},${CLUSTER_ID_LABEL}=${id}` }).filter((o) => o.kind !== 'Pod' && o.kind !== 'ReplicaSet');
const key = (o: { kind?: string; metadata: { namespace?: string; name: string } }) => `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`;

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

it('a worker killed during step d: a restarted worker completes the task, no duplicate objects, no step recorded twice', async () => {
  const id = 'infra-crash';
  const doc = sampleCluster(id) as Record<string, any>;
  const { urlMap: _u, ...config } = doc.config ?? {};
  doc.config = { ...config, publicHostname: 'gpu.example.org', useGateway: false };
  await gw.services.clusters.create(doc);
  const first = spawnWorker(gw);
  let second: ReturnType<typeof spawnWorker> | undefined;
  try {
    // A 503 (the queue did not answer in time on a busy machine) is retried, as a client would.
    const { task } = await until(
      () => gw.services.tasks.submit(CLUSTER_INFRA_CREATION, { cluster_id: id, kube_config_data: fake.kubeconfigYaml() }).catch((err) => {
        if (err instanceof UnavailableError) return undefined;
        throw err;
      }),
      20_000,
      'the submission',
    );
    // Step d's workloads take long enough to kill the worker while it waits for them.
    await until(async () => ((await gw.services.tasks.get(task.task_id)).steps[2].status === 'completed' ? true : undefined), 90_000, 'step c');
    fake.setReadyDelay(4_000);
    await until(async () => ((await gw.services.tasks.get(task.task_id)).steps[3].status === 'in_progress' ? true : undefined), 30_000, 'step d');
    await until(async () => (fake.get('Deployment', 'controllers', `${id}-controller`) ? true : undefined), 10_000, 'the controller Deployment');
    const before = new Map(ours(id).map((o) => [key(o), o.metadata.uid]));
    first.kill('SIGKILL');
    fake.setReadyDelay(150);
    second = spawnWorker(gw);
    const done = await until(async () => {
      const t = await gw.services.tasks.get(task.task_id);
      return ['completed', 'failed', 'cancelled'].includes(t.task_status) ? t : undefined;
    }, 90_000, 'the task to finish');
    expect([done.task_status, done.task_status_data]).toEqual(['completed', expect.anything()]);
    expect(done.steps.map((s) => [s.name, s.status, s.attempts])).toEqual(CREATION_STEPS.map((n) => [n, 'completed', n === 'cluster-controller' ? 2 : 1]));
    const entry = await gw.services.clusters.read(id);
    const expected = allObjects(resolveInfraSettings(gw.config.infra, entry)).map(key).sort();
    const live = ours(id);
    expect(live.map(key).sort()).toEqual(expected);
    // Nothing applied before the crash was recreated.
    for (const [k, uid] of before) expect([k, live.find((o) => key(o) === k)?.metadata.uid]).toEqual([k, uid]);
    expect(Object.values((entry.config as any).urlMap).every((v) => typeof v === 'string')).toBe(true);
  } finally {
    first.kill('SIGKILL');
    second?.kill('SIGKILL');
  }
}, 240_000);
