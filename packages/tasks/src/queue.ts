import { Queue, Worker, createPostgresBackend, withBackend, type Processor, type WorkerOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { createRedisClient } from './redis-client.js';

export interface JobPayload {
  task_id: string;
  /** Sealed secrets (see secrets.ts); absent when the task has none. */
  secrets?: string;
}

export type QueueConnection =
  | { backend: 'redis'; url: string; prefix: string }
  | { backend: 'postgres'; connectionString: string; schema: string };

/**
 * The two BullMQ backends behind one interface. On Redis the prefix is a hash tag so every key
 * of a queue lands on one Redis Cluster slot; on Postgres queues live in their own schema.
 */
export class QueueBackend {
  private readonly queues = new Map<string, Queue<JobPayload>>();
  private readonly producerRedis?: Redis;
  /** BullMQ does not close connections it was handed, so the backend closes them itself. */
  private readonly workerRedis: Redis[] = [];
  private readonly pg = withBackend(createPostgresBackend);

  constructor(readonly connection: QueueConnection) {
    if (connection.backend === 'redis') {
      // Producers fail fast while Redis is down (no offline queue), so requests answer 503.
      this.producerRedis = createRedisClient(connection.url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2_000, lazyConnect: false });
      this.producerRedis.on('error', () => undefined);
    }
  }

  get name(): 'redis' | 'postgres' {
    return this.connection.backend;
  }

  queue(lane: string): Queue<JobPayload> {
    let q = this.queues.get(lane);
    if (!q) {
      const c = this.connection;
      q =
        c.backend === 'redis'
          ? new Queue<JobPayload>(lane, { connection: this.producerRedis!, prefix: `{${c.prefix}}` })
          : (new this.pg.Queue<JobPayload>(lane, { connection: { connectionString: c.connectionString, schema: c.schema, migrate: true, max: 4 } }) as unknown as Queue<JobPayload>);
      q.on('error', () => undefined);
      this.queues.set(lane, q);
    }
    return q;
  }

  worker(lane: string, processor: Processor<JobPayload>, opts: Omit<WorkerOptions, 'connection' | 'prefix'>): Worker<JobPayload> {
    const c = this.connection;
    const w =
      c.backend === 'redis'
        ? new Worker<JobPayload>(lane, processor, { ...opts, connection: this.ownedRedis(c.url), prefix: `{${c.prefix}}` })
        : (new this.pg.Worker<JobPayload>(lane, processor as never, { ...opts, connection: { connectionString: c.connectionString, schema: c.schema, migrate: true, max: 4 } } as never) as unknown as Worker<JobPayload>);
    w.on('error', () => undefined);
    return w;
  }

  private ownedRedis(url: string): Redis {
    const r = createRedisClient(url, { maxRetriesPerRequest: null });
    r.on('error', () => undefined);
    this.workerRedis.push(r);
    return r;
  }

  /**
   * Opens each lane's queue and waits (best effort) until its store answers: on the Postgres
   * backend the first use migrates the queue schema, which must not eat a request's enqueue
   * timeout. A store that is down is not an error here (/readyz reports it).
   */
  async warmUp(lanes: string[], timeoutMs = 30_000): Promise<boolean> {
    const results = await Promise.allSettled(lanes.map((lane) => withTimeout(this.queue(lane).getJobCounts('waiting'), timeoutMs, `queue ${lane} warm-up`)));
    return results.every((r) => r.status === 'fulfilled');
  }

  /** Is the queue store reachable? Used by /readyz. */
  async ping(lane = 'default'): Promise<boolean> {
    try {
      await withTimeout(this.queue(lane).getJobCounts('waiting'), 2_000, 'queue ping');
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.queues.values()].map((q) => q.close()));
    this.queues.clear();
    this.producerRedis?.disconnect();
    for (const r of this.workerRedis.splice(0)) r.disconnect();
  }
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
