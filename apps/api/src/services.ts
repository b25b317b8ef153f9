import type { Kysely } from 'kysely';
import type { Config } from '@ccg/config';
import { BlockRepository, ClusterRepository, MetricsRepository, TaskRepository, type Database } from '@ccg/db';
import { MetricsService } from '@ccg/metrics';
import { BlockService, ClusterService } from '@ccg/registry';
import { TaskService, type QueueBackend, type TaskCatalogue } from '@ccg/tasks';
import type { PolicySystem } from '@ccg/policy';
import { PolicyAdmin } from './policy-admin.js';

export interface Services {
  db: Kysely<Database>;
  queues: QueueBackend;
  clusters: ClusterService;
  blocks: BlockService;
  tasks: TaskService;
  policy: PolicySystem;
  policyAdmin: PolicyAdmin;
  metrics: MetricsService;
}

export function createServices(db: Kysely<Database>, queues: QueueBackend, catalogue: TaskCatalogue, config: Config, policy: PolicySystem): Services {
  const blockRepo = new BlockRepository(db);
  const clusterRepo = new ClusterRepository(db);
  const metrics = new MetricsService(new MetricsRepository(db), clusterRepo, config.metrics);
  return {
    db,
    queues,
    policy,
    metrics,
    policyAdmin: new PolicyAdmin(policy, config.policy.timeoutMs),
    clusters: new ClusterService(clusterRepo, blockRepo, policy.gate, (id) => metrics.forPrecheck(id)),
    blocks: new BlockService(blockRepo),
    tasks: new TaskService(new TaskRepository(db), catalogue, queues, {
      encryptionKey: config.encryptionKey,
      attempts: config.worker.attempts,
      backoffMs: config.worker.backoffMs,
    }),
  };
}
