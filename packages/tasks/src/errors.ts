/** Thrown inside a task to ask for another attempt with backoff (e.g. an upstream 503). */
export class RetryableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RetryableError';
  }
}

/** The task was cancelled; its run stops at the next step boundary or abort check. */
export class TaskCancelledError extends Error {
  constructor() {
    super('task was cancelled');
    this.name = 'TaskCancelledError';
  }
}

/**
 * The worker is shutting down and its grace period is over: the run stops without recording the
 * interrupted step, and the job goes back to the queue, where another worker resumes the task.
 */
export class WorkerShutdownError extends Error {
  constructor() {
    super('the worker is shutting down; the task is handed back to the queue');
    this.name = 'WorkerShutdownError';
  }
}

/** Another run has taken over this task (after a stall); this run must stop writing. */
export class LeaseLostError extends Error {
  constructor(taskId: string) {
    super(`run no longer owns task ${taskId}`);
    this.name = 'LeaseLostError';
  }
}

export const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * A task failure with structured details (e.g. the failed object, a pod's reason, what a
 * rollback removed): the runner writes them to task_status_data.details beside `error`.
 */
export class TaskFailedError extends Error {
  constructor(message: string, readonly details: Record<string, unknown>) {
    super(message);
    this.name = 'TaskFailedError';
  }
}
