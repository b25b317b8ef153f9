import { createHash, randomUUID } from 'node:crypto';
import {
  ConflictError,
  IdempotencyMismatchError,
  InputError,
  NotFoundError,
  UnavailableError,
  taskRetrySchema,
  validate,
  type JsonObject,
  type Page,
} from '@ccg/contracts';
import type { PageRequest, TaskFilter, TaskRepository } from '@ccg/db';
import type { TaskCatalogue, TaskDefinition } from './definition.js';
import { type QueueBackend, withTimeout } from './queue.js';
import { sealSecrets } from './secrets.js';
import { toTaskView, type TaskView } from './view.js';
import { errorMessage } from './errors.js';

export interface SubmitOptions {
  idempotencyKey?: string;
  actor?: string | null;
}

export interface TaskServiceOptions {
  encryptionKey?: Buffer;
  /** A task-starting request waits at most this long for the queue before answering 503. */
  enqueueTimeoutMs?: number;
  attempts: number;
  backoffMs: number;
  /**
   * Checks for secret fields sent again on a retry (by field name, e.g. `kube_config_data`):
   * return the value to queue, or throw an InputError naming `secrets.<field>`. Secrets are
   * checked by their route on submission; a retry has no route of its own.
   */
  secretChecks?: Record<string, (value: string, field: string) => string>;
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** What task_data shows in place of a secret field. */
export const REDACTED = '[redacted]';

const retryJobId = (taskId: string, n: number) => `${taskId}-r${n}`;

/** Task registry and producer: creates tasks, enqueues their jobs, cancels and retries them. */
export class TaskService {
  constructor(
    private readonly repo: TaskRepository,
    private readonly catalogue: TaskCatalogue,
    private readonly queues: QueueBackend,
    private readonly opts: TaskServiceOptions,
  ) {}

  private definition(type: string): TaskDefinition {
    const def = this.catalogue.get(type);
    if (!def) throw new InputError(`unknown task type ${type}`, { field: 'task_type' });
    return def;
  }

  private splitSecrets(def: TaskDefinition, input: JsonObject): { data: JsonObject; secrets: Record<string, string> } {
    const data = { ...input };
    const secrets: Record<string, string> = {};
    for (const f of def.secretFields ?? []) {
      if (data[f] !== undefined) {
        secrets[f] = typeof data[f] === 'string' ? (data[f] as string) : JSON.stringify(data[f]);
        data[f] = REDACTED;
      }
    }
    return { data, secrets };
  }

  private sealed(secrets: Record<string, string>): string | undefined {
    if (Object.keys(secrets).length === 0) return undefined;
    if (!this.opts.encryptionKey) throw new UnavailableError('secrets cannot be queued: KUBECONFIG_ENCRYPTION_KEY is not set', 60);
    return sealSecrets(this.opts.encryptionKey, secrets);
  }

  private async enqueue(def: TaskDefinition, taskId: string, jobId: string, secrets: Record<string, string>): Promise<void> {
    const queue = this.queues.queue(def.lane ?? 'default');
    await withTimeout(
      queue.add(def.type, { task_id: taskId, secrets: this.sealed(secrets) }, {
        jobId,
        attempts: def.attempts ?? this.opts.attempts,
        backoff: { type: 'exponential', delay: this.opts.backoffMs },
        removeOnComplete: true,
        removeOnFail: true,
      }),
      this.opts.enqueueTimeoutMs ?? 1_500,
      'enqueue',
    );
  }

  /**
   * Validates the input, records the task (row first, then the job: job id = task id) and
   * returns it. A reused Idempotency-Key returns the first task for the same body, 422 otherwise.
   */
  async submit(type: string, body: unknown, options: SubmitOptions = {}): Promise<{ task: TaskView; created: boolean }> {
    const def = this.definition(type);
    const input = validate<JsonObject>(def.inputSchema, body ?? {}, 'body');
    const { data, secrets } = this.splitSecrets(def, input);
    const taskId = randomUUID();
    const requestHash = options.idempotencyKey ? createHash('sha256').update(type).update(canonical(input)).digest('hex') : null;
    const { task, steps, created } = await this.repo.create({
      task_id: taskId,
      task_type: def.type,
      task_data: data,
      cluster_id: def.clusterId?.(input) ?? null,
      job_id: taskId,
      idempotency_key: options.idempotencyKey ?? null,
      request_hash: requestHash,
      actor: options.actor ?? null,
      exclusive_key: def.exclusiveKey?.(input) ?? null,
      steps: def.plan(input),
    });
    if (!created) {
      if (task.request_hash !== requestHash) throw new IdempotencyMismatchError(options.idempotencyKey!);
      return { task: await this.get(task.task_id), created: false };
    }
    try {
      await this.enqueue(def, taskId, taskId, secrets);
    } catch (err) {
      if (err instanceof UnavailableError) {
        await this.repo.deleteUnstarted(taskId);
        throw err;
      }
      await this.repo.deleteUnstarted(taskId);
      throw new UnavailableError(`task queue unavailable: ${errorMessage(err)}`, 5);
    }
    // The row as inserted and its planned steps: no need to read them back.
    return { task: toTaskView({ ...task, steps: steps ?? [] }), created: true };
  }

  async get(taskId: string): Promise<TaskView> {
    const t = /^[0-9a-f-]{36}$/i.test(taskId) ? await this.repo.find(taskId) : undefined;
    if (!t) throw new NotFoundError(`task ${taskId} not found`, { task_id: taskId });
    return toTaskView(t);
  }

  async list(filter: TaskFilter, page: PageRequest): Promise<Page<TaskView>> {
    const p = await this.repo.list(filter, page);
    return { items: p.items.map(toTaskView), next_cursor: p.next_cursor };
  }

  /**
   * Cancels a pending task at once and asks a running one to stop (its worker, in whatever
   * process, sees the flag within a second). Cancelling a cancelled task is a no-op; a
   * finished one is a 409.
   */
  async cancel(taskId: string, actor?: string | null): Promise<TaskView> {
    const existing = await this.get(taskId);
    if (existing.task_status === 'completed' || existing.task_status === 'failed') {
      throw new ConflictError(`task ${taskId} already ${existing.task_status}`, { task_status: existing.task_status }, 'TASK_FINISHED');
    }
    const row = await this.repo.requestCancel(taskId, actor);
    if (row?.task_status === 'cancelled') {
      const def = this.catalogue.get(row.task_type);
      await this.queues.queue(def?.lane ?? 'default').remove(row.job_id).catch(() => undefined);
    }
    return this.get(taskId);
  }

  /** Runs a failed or cancelled task again from its first unfinished step. */
  async retry(taskId: string, body: unknown): Promise<TaskView> {
    const existing = await this.get(taskId);
    if (existing.task_status !== 'failed' && existing.task_status !== 'cancelled') {
      throw new ConflictError(`task ${taskId} is ${existing.task_status}; only failed or cancelled tasks can be retried`, { task_status: existing.task_status }, 'TASK_NOT_RETRYABLE');
    }
    const def = this.definition(existing.task_type);
    const { secrets = {} } = validate<{ secrets?: Record<string, string> }>(taskRetrySchema, body ?? {}, 'body');
    for (const f of def.secretFields ?? []) {
      if (secrets[f] === undefined && (existing.task_data as JsonObject)[f] === REDACTED) {
        throw new InputError(`invalid body: secrets.${f} is required: secrets are not stored, so a retry must send it again`, { field: `secrets.${f}` });
      }
      const check = this.opts.secretChecks?.[f];
      if (check && secrets[f] !== undefined) secrets[f] = check(secrets[f], `secrets.${f}`);
    }
    const row = await this.repo.prepareRetry(taskId, (n) => retryJobId(taskId, n));
    if (!row) throw new ConflictError(`task ${taskId} changed state; try again`, undefined, 'TASK_NOT_RETRYABLE');
    try {
      await this.enqueue(def, taskId, row.job_id, secrets);
    } catch (err) {
      await this.repo.failOrphan(taskId, 'pending', `retry could not be queued: ${errorMessage(err)}`);
      throw err instanceof UnavailableError ? err : new UnavailableError(`task queue unavailable: ${errorMessage(err)}`, 5);
    }
    return this.get(taskId);
  }
}
