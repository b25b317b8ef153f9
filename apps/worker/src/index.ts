import type { Logger } from 'pino';
import type { Kysely } from 'kysely';
import type { Config } from '@ccg/config';
import { TaskRepository, type Database } from '@ccg/db';
import { Reconciler, TaskRunner, type QueueBackend, type TaskCatalogue } from '@ccg/tasks';

export interface WorkerHandle {
  runner: TaskRunner;
  reconciler: Reconciler;
  close(): Promise<void>;
}

/** Starts the job processors and the reconciler of one worker process. */
export function startWorker(db: Kysely<Database>, queues: QueueBackend, catalogue: TaskCatalogue, config: Config, log: Logger, encryptionKey?: Buffer): WorkerHandle {
  const repo = new TaskRepository(db);
  const runner = new TaskRunner(repo, catalogue, queues, log.child({ component: 'runner' }), {
    concurrency: config.worker.concurrency,
    lockDurationMs: config.worker.lockDurationMs,
    stalledIntervalMs: config.worker.stalledIntervalMs,
    maxStalledCount: config.worker.maxStalledCount,
    encryptionKey: encryptionKey ?? config.encryptionKey,
  });
  const reconciler = new Reconciler(db, repo, catalogue, queues, log.child({ component: 'reconciler' }), {
    intervalMs: config.reconciler.intervalMs,
    pendingGraceMs: config.reconciler.pendingGraceMs,
    retentionMs: config.taskRetentionMs,
    attempts: config.worker.attempts,
    backoffMs: config.worker.backoffMs,
  });
  runner.start();
  reconciler.start();
  return {
    runner,
    reconciler,
    async close() {
      await reconciler.close();
      await runner.close();
    },
  };
}
