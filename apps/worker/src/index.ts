import type { Logger } from 'pino';
import type { Kysely } from 'kysely';
import type { Config } from '@ccg/config';
import { BlockRepository, ClusterRepository, MetricsRepository, TaskRepository, type Database } from '@ccg/db';
import { ClusterClient, type ClusterClientOptions } from '@ccg/cluster-client';
import { MetricsService } from '@ccg/metrics';
import { MetricsPuller } from './metrics-puller.js';
import { Reconciler, TaskRunner, type QueueBackend, type RunnerOptions, type TaskCatalogue } from '@ccg/tasks';
import type { PolicySystem } from '@ccg/policy';
import { createInfraDeps, type CatalogueDeps } from '@ccg/runtime';

/** A catalogue, or a factory the worker calls with its services (so block tasks can run: `createCatalogue`). */
export type WorkerCatalogue = TaskCatalogue | ((deps: CatalogueDeps) => TaskCatalogue);

export { MetricsPuller } from './metrics-puller.js';

/**
 * Metrics observers of the composition root (@ccg/runtime's GatewayMetrics: the gateway's or the worker's):
 * the worker's packages report to them without depending on prom-client.
 */
export interface WorkerObservers {
  /** Each task run that ended its task. */
  onJobEnd?: RunnerOptions['onJobEnd'];
  /** Each call of the worker's ClusterClient (block tasks, the metrics pull). */
  onUpstreamCall?: ClusterClientOptions['onCall'];
}

export interface WorkerHandle {
  runner: TaskRunner;
  reconciler: Reconciler;
  metricsPuller: MetricsPuller;
  /** Stops the worker; with `graceMs`, tasks still running after it are handed back to the queue. */
  close(graceMs?: number): Promise<void>;
}

/**
 * Starts the job processors and the reconciler of one worker process. Given a catalogue factory
 * and the policy system, the block allocation tasks get the placement services.
 */
export function startWorker(db: Kysely<Database>, queues: QueueBackend, catalogueOrFactory: WorkerCatalogue, config: Config, log: Logger, encryptionKey?: Buffer, policy?: PolicySystem, observers: WorkerObservers = {}): WorkerHandle {
  const repo = new TaskRepository(db);
  const clusters = new ClusterRepository(db);
  const client = new ClusterClient({ timeoutMs: config.clusterClient.timeoutMs, longTimeoutMs: config.clusterClient.longTimeoutMs, onCall: observers.onUpstreamCall });
  const metrics = new MetricsService(new MetricsRepository(db), clusters, { ...config.metrics, fetchLive: (c) => client.clusterMetrics(c) });
  const catalogue =
    typeof catalogueOrFactory === 'function'
      ? catalogueOrFactory({
          ...(policy ? { placement: { db, clusters, blocks: new BlockRepository(db), metrics, client, gate: policy.gate, policy, options: config.placement } } : {}),
          // Infra tasks need only the cluster registry and the INFRA_* settings.
          infra: createInfraDeps({ clusterRepository: clusters, settings: config.infra, log: log.child({ component: 'infra' }) }),
        })
      : catalogueOrFactory;
  const runner = new TaskRunner(repo, catalogue, queues, log.child({ component: 'runner' }), {
    concurrency: config.worker.concurrency,
    lockDurationMs: config.worker.lockDurationMs,
    stalledIntervalMs: config.worker.stalledIntervalMs,
    maxStalledCount: config.worker.maxStalledCount,
    encryptionKey: encryptionKey ?? config.encryptionKey,
    onJobEnd: observers.onJobEnd,
  });
  const reconciler = new Reconciler(db, repo, catalogue, queues, log.child({ component: 'reconciler' }), {
    intervalMs: config.reconciler.intervalMs,
    pendingGraceMs: config.reconciler.pendingGraceMs,
    retentionMs: config.taskRetentionMs,
    attempts: config.worker.attempts,
    backoffMs: config.worker.backoffMs,
  });
  const metricsPuller = new MetricsPuller(db, clusters, metrics, log.child({ component: 'metrics-puller' }), config.metrics.pullIntervalMs);
  runner.start();
  reconciler.start();
  metricsPuller.start();
  return {
    runner,
    reconciler,
    metricsPuller,
    async close(graceMs?: number) {
      await metricsPuller.close();
      await reconciler.close();
      await runner.close(graceMs);
    },
  };
}
