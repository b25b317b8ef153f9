import { randomUUID } from 'node:crypto';
import { UnrecoverableError, WaitingError, type Job, type Worker } from 'bullmq';
import type { Logger } from 'pino';
import type { JsonObject } from '@ccg/contracts';
import type { TaskRepository, TaskWithSteps } from '@ccg/db';
import type { TaskCatalogue, TaskContext } from './definition.js';
import type { JobPayload, QueueBackend } from './queue.js';
import { openSecrets } from './secrets.js';
import { LeaseLostError, RetryableError, TaskCancelledError, TaskFailedError, WorkerShutdownError, errorMessage } from './errors.js';

export interface RunnerOptions {
  concurrency: number;
  lockDurationMs: number;
  stalledIntervalMs: number;
  maxStalledCount: number;
  encryptionKey?: Buffer;
  /** How often running tasks look for a cancel request written by another process. @defaultValue 500 */
  cancelPollMs?: number;
  /** Told when a run ends the task (for metrics); runs that retry or lose their lease are not reported. Must not throw. */
  onJobEnd?: (run: JobRun) => void;
}

/** A run that ended its task: its type, outcome and how long the run took. */
export interface JobRun {
  taskType: string;
  outcome: 'completed' | 'failed' | 'cancelled';
  durationMs: number;
}

interface InFlight {
  controller: AbortController;
}

/**
 * Runs the catalogue's jobs: claims the task in Postgres, runs its steps while recording each
 * one, honours cancellation from any process, and writes the final state. Postgres is the
 * truth; BullMQ only delivers the job (at least once).
 */
export class TaskRunner {
  private readonly workers: Worker<JobPayload>[] = [];
  private readonly inFlight = new Map<string, InFlight>();
  private cancelTimer?: NodeJS.Timeout;

  constructor(
    private readonly repo: TaskRepository,
    private readonly catalogue: TaskCatalogue,
    private readonly queues: QueueBackend,
    private readonly log: Logger,
    private readonly opts: RunnerOptions,
  ) {}

  start(): void {
    for (const lane of this.catalogue.lanes()) {
      this.workers.push(
        this.queues.worker(lane, (job, token) => this.process(job, token), {
          concurrency: this.opts.concurrency,
          lockDuration: this.opts.lockDurationMs,
          stalledInterval: this.opts.stalledIntervalMs,
          maxStalledCount: this.opts.maxStalledCount,
        }),
      );
    }
    this.cancelTimer = setInterval(() => void this.pollCancels(), this.opts.cancelPollMs ?? 500);
    this.cancelTimer.unref();
  }

  /**
   * Stops taking jobs and waits for the running ones. With `graceMs`, runs still going after it
   * are handed back: their interrupted step is left unrecorded and the job returns to the queue,
   * where another worker (or this one after a restart) resumes the task from that step.
   */
  async close(graceMs?: number): Promise<void> {
    clearInterval(this.cancelTimer);
    const drained = Promise.allSettled(this.workers.map((w) => w.close()));
    if (graceMs === undefined) {
      await drained;
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([drained.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), graceMs)))]);
    clearTimeout(timer);
    if (finished) return;
    this.log.warn({ tasks: [...this.inFlight.keys()], grace_ms: graceMs }, 'shutdown grace period over: handing running tasks back to the queue');
    for (const f of this.inFlight.values()) f.controller.abort(new WorkerShutdownError());
    await drained;
  }

  /** One query per tick for every task in flight (not one per task). */
  private async pollCancels(): Promise<void> {
    const ids = [...this.inFlight].filter(([, f]) => !f.controller.signal.aborted).map(([id]) => id);
    try {
      for (const id of await this.repo.cancelRequestedAmong(ids)) this.inFlight.get(id)?.controller.abort(new TaskCancelledError());
    } catch {
      /* database blip: try again next tick */
    }
  }

  private async process(job: Job<JobPayload>, token?: string): Promise<string> {
    const taskId = job.data.task_id;
    const runId = randomUUID();
    const task = await this.repo.startRun(taskId, runId);
    if (!task) return 'already finished';
    const def = this.catalogue.get(task.task_type);
    const log = this.log.child({ task_id: taskId, task_type: task.task_type, run_id: runId });
    const started = performance.now();
    const ended = (outcome: JobRun['outcome']) => this.report({ taskType: task.task_type, outcome, durationMs: performance.now() - started });
    if (!def) {
      await this.repo.finish(taskId, runId, 'failed', { error: `no handler for task type ${task.task_type}` });
      ended('failed');
      return 'no handler';
    }
    const controller = new AbortController();
    this.inFlight.set(taskId, { controller });
    if (task.cancel_requested) controller.abort(new TaskCancelledError());
    let currentStep: string | undefined;
    try {
      const secrets = this.secretsOf(job.data);
      const ctx = this.context(task, runId, secrets, controller.signal, log, (name) => (currentStep = name));
      const result = await def.run(ctx);
      if (controller.signal.aborted) throw abortError(controller.signal);
      await this.repo.finish(taskId, runId, 'completed', { result: (result ?? null) as JsonObject });
      ended('completed');
      log.info('task completed');
      return 'completed';
    } catch (err) {
      if (err instanceof LeaseLostError) {
        log.warn('another run took this task over; stopping');
        return 'lease lost';
      }
      if (controller.signal.reason instanceof WorkerShutdownError) {
        // Back to the queue as it is (task in progress, this step unrecorded); BullMQ must not count it as a failure.
        await job.moveToWait(token);
        log.info({ step: currentStep }, 'task handed back to the queue');
        throw new WaitingError();
      }
      if (err instanceof TaskCancelledError || (controller.signal.aborted && controller.signal.reason instanceof TaskCancelledError)) {
        await this.repo.finish(taskId, runId, 'cancelled', { error: 'cancelled', cancelled_at_step: currentStep ?? null });
        ended('cancelled');
        log.info({ step: currentStep }, 'task cancelled');
        return 'cancelled';
      }
      const attemptsLeft = (job.opts.attempts ?? 1) - job.attemptsMade - 1;
      if (err instanceof RetryableError && attemptsLeft > 0) {
        log.warn({ err: errorMessage(err), attempts_left: attemptsLeft }, 'retryable failure; will retry');
        throw err;
      }
      await this.repo.finish(taskId, runId, 'failed', { error: errorMessage(err), failed_step: currentStep ?? null, ...(err instanceof TaskFailedError ? { details: err.details as JsonObject } : {}) });
      ended('failed');
      log.warn({ err: errorMessage(err), step: currentStep }, 'task failed');
      // The task is finished in Postgres; BullMQ must not retry it.
      if (err instanceof RetryableError) throw new UnrecoverableError(errorMessage(err));
      return 'failed';
    } finally {
      this.inFlight.delete(taskId);
    }
  }

  private report(run: JobRun): void {
    try {
      this.opts.onJobEnd?.(run);
    } catch {
      /* a metrics hook must never fail a job */
    }
  }

  private secretsOf(payload: JobPayload): Record<string, string> {
    if (!payload.secrets) return {};
    if (!this.opts.encryptionKey) throw new Error('this worker has no KUBECONFIG_ENCRYPTION_KEY, so it cannot read the task\'s secrets');
    try {
      return openSecrets(this.opts.encryptionKey, payload.secrets);
    } catch {
      throw new Error('the task\'s secrets could not be decrypted: API and workers must share KUBECONFIG_ENCRYPTION_KEY');
    }
  }

  private context(
    task: TaskWithSteps,
    runId: string,
    secrets: Record<string, string>,
    signal: AbortSignal,
    log: Logger,
    onStep: (name: string) => void,
  ): TaskContext<JsonObject> {
    const repo = this.repo;
    const steps = new Map(task.steps.map((s) => [s.name, s]));
    return {
      taskId: task.task_id,
      input: task.task_data,
      secrets,
      signal,
      log,
      async step<T>(name: string, fn: (s: { signal: AbortSignal; attempt: number }) => Promise<T>): Promise<T> {
        const planned = steps.get(name);
        if (!planned) throw new Error(`step "${name}" is not in the task's plan`);
        if (planned.status === 'completed') return planned.output as T;
        if (signal.aborted) throw abortError(signal);
        onStep(name);
        if (!(await repo.startStep(task.task_id, runId, name))) throw new LeaseLostError(task.task_id);
        const attempt = planned.attempts + 1;
        planned.attempts = attempt;
        try {
          const out = await fn({ signal, attempt });
          if (signal.aborted) throw abortError(signal);
          if (!(await repo.endStep(task.task_id, runId, name, 'completed', { output: out ?? null }))) throw new LeaseLostError(task.task_id);
          planned.status = 'completed';
          return out;
        } catch (err) {
          if (err instanceof LeaseLostError) throw err;
          if (signal.reason instanceof WorkerShutdownError) throw signal.reason;
          const cancelled = signal.aborted;
          await repo.endStep(task.task_id, runId, name, cancelled ? 'cancelled' : 'failed', { message: cancelled ? 'cancelled' : errorMessage(err) });
          throw cancelled ? new TaskCancelledError() : err;
        }
      },
    };
  }
}

/** Why an aborted run stops: a shutdown hand-back, or a cancel. */
const abortError = (signal: AbortSignal): Error => (signal.reason instanceof WorkerShutdownError ? signal.reason : new TaskCancelledError());
