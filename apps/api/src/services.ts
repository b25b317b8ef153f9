import type { Kysely } from 'kysely';
import type { Config } from '@ccg/config';
import { BlockRepository, ClusterRepository, TaskRepository, type Database } from '@ccg/db';
import { BlockService, ClusterService } from '@ccg/registry';
import { TaskService, type QueueBackend, type TaskCatalogue } from '@ccg/tasks';

export interface Services {
  db: Kysely<Database>;
  queues: QueueBackend;
  clusters: ClusterService;
  blocks: BlockService;
  tasks: TaskService;
}

export function createServices(db: Kysely<Database>, queues: QueueBackend, catalogue: TaskCatalogue, config: Config): Services {
  return {
    db,
    queues,
    clusters: new ClusterService(new ClusterRepository(db)),
    blocks: new BlockService(new BlockRepository(db)),
    tasks: new TaskService(new TaskRepository(db), catalogue, queues, {
      encryptionKey: config.encryptionKey,
      attempts: config.worker.attempts,
      backoffMs: config.worker.backoffMs,
    }),
  };
}
