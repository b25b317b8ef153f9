import { expect } from '@jest/globals';
import type { JsonObject } from '@ccg/contracts';
import { sampleCluster, type FakeKube, type TestGateway } from '@ccg/testkit';

/** GLOBAL_SERVICES_MAP: the management services' public addresses the cluster components get. */
export const GLOBAL_SERVICES = {
  global_block_metrics_redis_host: 'block-metrics.mgmt.example.net',
  global_cluster_metrics_redis_host: 'cluster-metrics.mgmt.example.net',
  global_vdag_metrics_redis_host: 'vdag-metrics.mgmt.example.net',
  policy_db_url: 'http://policies.mgmt.example.net:30102',
  blocks_db_url: 'http://blocks.mgmt.example.net:30100',
  cluster_db_url: 'http://clusters.mgmt.example.net:30101',
  vdag_db_url: 'http://vdags.mgmt.example.net:30103',
  vdag_controller_db_url: 'http://vdag-controllers.mgmt.example.net:30104',
};

/** Infra settings that keep tests quick: fast polling, short step and delete timeouts. */
export const infraEnv = (extra: Record<string, string> = {}): Record<string, string> => ({
  GLOBAL_SERVICES_MAP: JSON.stringify(GLOBAL_SERVICES),
  INFRA_POLL_INITIAL_MS: '50',
  INFRA_POLL_MAX_MS: '200',
  INFRA_STEP_TIMEOUT_MS: '6000',
  INFRA_DELETE_TIMEOUT_MS: '5000',
  ...extra,
});

export const PUBLIC_HOST = 'gpu-west.example.net';

/** The spec's sample cluster, exposed through NodePorts on PUBLIC_HOST. */
export function infraCluster(id: string): JsonObject {
  const c = sampleCluster(id) as JsonObject & { config: JsonObject };
  return { ...c, config: { ...c.config, useGateway: false, publicHostname: PUBLIC_HOST } };
}

export async function registerCluster(gw: TestGateway, id: string): Promise<void> {
  const res = await gw.request('POST', '/clusters/create', infraCluster(id));
  expect(res.status).toBe(200);
}

export async function waitForTask(gw: TestGateway, taskId: string, done: (t: any) => boolean = (t) => ['completed', 'failed', 'cancelled'].includes(t.task_status), timeoutMs = 40_000): Promise<any> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const res = await gw.request('GET', `/tasks/${taskId}`);
    if (res.status === 200 && done(res.body.data)) return res.body.data;
    if (Date.now() > until) throw new Error(`task ${taskId} did not get there in time: ${JSON.stringify(res.body.data?.steps?.map((s: any) => [s.name, s.status]))} ${res.body.data?.task_status}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * What the gateway applied on the fake API server, as `Kind namespace/name`; with `owned`, also
 * what the workload controllers made from it (ReplicaSets, Pods carry the template's labels).
 */
export function managedObjects(kube: FakeKube, owned = false): string[] {
  return kube
    .objects({ labelSelector: 'app.kubernetes.io/managed-by=cluster-controller-gateway' })
    .filter((o) => owned || !(o.metadata as { ownerReferences?: unknown[] }).ownerReferences?.length)
    .map((o) => `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`)
    .sort();
}
