import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { withAdvisoryLock, type Database, type TaskRepository } from '@ccg/db';
import type { TaskCatalogue } from './definition.js';
import type { QueueBackend } from './queue.js';
import { errorMessage } from './errors.js';

export interface ReconcilerOptions {
  intervalMs: number;
  pendingGraceMs: number;
  retentionMs: number;
  attempts: number;
  backoffMs: number;
}

/** Advisory-lock key: one replica reconciles at a time. */
const LOCK_KEY = 424_242;

/**
 * Repairs what crashes leave behind: a pending task whose job never reached the queue is
 * enqueued again; a running task whose job has vanished is failed; old finished tasks are purged.
 */
export class Reconciler {
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly repo: TaskRepository,
    private readonly catalogue: TaskCatalogue,
    private readonly queues: QueueBackend,
    private readonly log: Logger,
    private readonly opts: ReconcilerOptions,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      if (!this.running) this.running = this.tick().finally(() => (this.running = undefined));
    }, this.opts.intervalMs);
    this.timer.unref();
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One pass; returns what it did (tests and logs use it). */
  async tick(): Promise<{ requeued: number; failed: number; purged: number }> {
    const result = { requeued: 0, failed: 0, purged: 0 };
    try {
      await withAdvisoryLock(this.db, LOCK_KEY, async () => {
        result.requeued = await this.requeuePending();
        result.failed = await this.failOrphans();
        result.purged = await this.repo.purgeFinishedBefore(new Date(Date.now() - this.opts.retentionMs));
      });
    } catch (err) {
      this.log.warn({ err: errorMessage(err) }, 'reconciler pass failed');
    }
    if (result.requeued || result.failed || result.purged) this.log.info(result, 'reconciler pass');
    return result;
  }

  private lane(type: string): string {
    return this.catalogue.get(type)?.lane ?? 'default';
  }

  private async requeuePending(): Promise<number> {
    let n = 0;
    for (const t of await this.repo.findQuiet('pending', this.opts.pendingGraceMs)) {
      const queue = this.queues.queue(this.lane(t.task_type));
      if (await queue.getJob(t.job_id)) continue;
      const def = this.catalogue.get(t.task_type);
      const hasSecret = (def?.secretFields ?? []).some((f) => (t.task_data as Record<string, unknown>)[f] !== undefined);
      if (!def || hasSecret) {
        // Secrets live only in the job: without it the task cannot run.
        if (await this.repo.failOrphan(t.task_id, 'pending', 'its job was lost before it ran; retry it with the secret')) {
          this.log.warn({ task_id: t.task_id, task_type: t.task_type }, 'pending task failed: its job was lost and only the job held its secrets');
          n++;
        }
        continue;
      }
      await queue.add(t.task_type, { task_id: t.task_id }, {
        jobId: t.job_id,
        attempts: def.attempts ?? this.opts.attempts,
        backoff: { type: 'exponential', delay: this.opts.backoffMs },
        removeOnComplete: true,
        removeOnFail: true,
      });
      await this.repo.markRequeued(t.task_id);
      this.log.info({ task_id: t.task_id, task_type: t.task_type }, 'pending task enqueued again: its job was missing');
      n++;
    }
    return n;
  }

  private async failOrphans(): Promise<number> {
    let n = 0;
    for (const t of await this.repo.findQuiet('in_progress', this.opts.pendingGraceMs)) {
      const job = await this.queues.queue(this.lane(t.task_type)).getJob(t.job_id);
      const state = job ? await job.getState() : 'missing';
      if (state === 'missing' || state === 'failed' || state === 'completed' || state === 'unknown') {
        if (await this.repo.failOrphan(t.task_id, 'in_progress', `its job is gone from the queue (${state}); the worker running it stopped`)) {
          this.log.warn({ task_id: t.task_id, task_type: t.task_type, job_state: state }, 'running task failed: its job is gone from the queue');
          n++;
        }
      }
    }
    return n;
  }
}
