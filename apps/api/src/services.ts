import type { Kysely } from 'kysely';
import type { Config } from '@ccg/config';
import { BlockRepository, ClusterRepository, MetricsRepository, TaskRepository, type Database } from '@ccg/db';
import { MetricsService } from '@ccg/metrics';
import { ClusterClient } from '@ccg/cluster-client';
import { ControllerService, MembershipService, MgmtService, NodeService, VdagControllerService, type OperationsContext } from '@ccg/operations';
import { BlockService, ClusterService } from '@ccg/registry';
import { TaskService, type QueueBackend, type TaskCatalogue } from '@ccg/tasks';
import type { PolicySystem } from '@ccg/policy';
import { BlockActionsService } from '@ccg/placement';
import { InfraService, kubeconfigText, parseKubeconfig } from '@ccg/kube';
import { PolicyAdmin } from './policy-admin.js';
import { GatewayMetrics } from '@ccg/runtime';

export interface Services {
  db: Kysely<Database>;
  queues: QueueBackend;
  /** Every task type (lanes for the queue dashboard and metrics, input schemas for the OpenAPI document). */
  catalogue: TaskCatalogue;
  /** The process's Prometheus registry and the observers that feed it (pass them to startWorker in-process). */
  telemetry: GatewayMetrics;
  clusters: ClusterService;
  blocks: BlockService;
  tasks: TaskService;
  policy: PolicySystem;
  policyAdmin: PolicyAdmin;
  metrics: MetricsService;
  clusterClient: ClusterClient;
  /** Shared by the per-cluster operations services. */
  operations: OperationsContext;
  /** Spec §8 node add/remove. */
  nodes: NodeService;
  /** Membership-server proxies (original gateway §1.7). */
  membership: MembershipService;
  /** Scaling and the original controller proxies (spec §3; original gateway §1.3, §1.4). */
  controller: ControllerService;
  /** Management commands (spec §6, §7). */
  mgmt: MgmtService;
  /** vDAG controller proxy (spec §5). */
  vdag: VdagControllerService;
  /** Block allocation: dry run, cluster selection, allocate / de-allocate tasks (placement pipeline). */
  blockActions: BlockActionsService;
  /** Cluster infrastructure create/remove tasks (spec API §4). */
  infra: InfraService;
}

export function createServices(db: Kysely<Database>, queues: QueueBackend, catalogue: TaskCatalogue, config: Config, policy: PolicySystem): Services {
  const blockRepo = new BlockRepository(db);
  const clusterRepo = new ClusterRepository(db);
  const telemetry = new GatewayMetrics({ queues, lanes: () => catalogue.lanes() });
  policy.gate.observe(telemetry.observePrecheck);
  const clusterClient = new ClusterClient({ timeoutMs: config.clusterClient.timeoutMs, longTimeoutMs: config.clusterClient.longTimeoutMs, onCall: telemetry.observeUpstream });
  const metrics = new MetricsService(new MetricsRepository(db), clusterRepo, { ...config.metrics, fetchLive: (c) => clusterClient.clusterMetrics(c) });
  const operations: OperationsContext = { clusters: clusterRepo, blocks: blockRepo, metrics, client: clusterClient, gate: policy.gate };
  const tasks = new TaskService(new TaskRepository(db), catalogue, queues, {
    encryptionKey: config.encryptionKey,
    attempts: config.worker.attempts,
    backoffMs: config.worker.backoffMs,
    // A retried infra task brings its kubeconfig again: checked like the first time.
    secretChecks: { kube_config_data: (value, field) => kubeconfigText(parseKubeconfig(value, { allowExec: config.infra.allowKubeconfigExec, field })) },
  });
  return {
    db,
    queues,
    catalogue,
    telemetry,
    policy,
    metrics,
    clusterClient,
    operations,
    nodes: new NodeService(operations),
    membership: new MembershipService(operations),
    controller: new ControllerService(operations),
    mgmt: new MgmtService(operations),
    vdag: new VdagControllerService(operations),
    policyAdmin: new PolicyAdmin(policy, config.policy.timeoutMs),
    clusters: new ClusterService(clusterRepo, blockRepo, policy.gate, (id) => metrics.forPrecheck(id)),
    blocks: new BlockService(blockRepo),
    tasks,
    blockActions: new BlockActionsService({ ...operations, db, policy, options: config.placement }, tasks),
    infra: new InfraService({ clusters: clusterRepo, gate: policy.gate, tasks, settings: config.infra }),
  };
}
