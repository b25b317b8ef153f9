import { CompiledQuery, type Kysely, sql } from 'kysely';
import { ConflictError, type JsonObject, type Page, type StepStatus, type TaskStatus } from '@ccg/contracts';
import type { Database, TaskRow, TaskStepRow } from '../schema.js';
import { decodeCursor, toPage, type PageRequest } from '../pagination.js';
import { pgCode, UNIQUE_VIOLATION } from '../errors.js';

export interface NewTask {
  task_id: string;
  task_type: string;
  task_data: JsonObject;
  cluster_id?: string | null;
  job_id: string;
  idempotency_key?: string | null;
  request_hash?: string | null;
  actor?: string | null;
  exclusive_key?: string | null;
  steps: string[];
}

export interface TaskFilter {
  task_type?: string;
  task_status?: TaskStatus;
  cluster_id?: string;
}

export type TaskWithSteps = TaskRow & { steps: TaskStepRow[] };

/**
 * A task row and its planned steps in one statement (the steps insert is a CTE). Written out
 * rather than built with Kysely: task submission is a hot path, and building and compiling this
 * query cost about 7% of a submission's CPU (bench/task-submit.mjs).
 */
const INSERT_TASK_WITH_STEPS = `
  with planned as (
    insert into task_steps (task_id, idx, name, status)
    select $1::uuid, u.i - 1, u.name, 'pending' from unnest($10::text[]) with ordinality as u(name, i)
  )
  insert into tasks (task_id, task_type, task_data, task_status, task_status_data, cluster_id, job_id, run_id,
                     idempotency_key, request_hash, actor, exclusive_key, started_at, finished_at)
  values ($1, $2, $3, 'pending', '{}', $4, $5, null, $6, $7, $8, $9, null, null)
  returning *`;

/**
 * Persistence of tasks and their ordered steps. Every write a worker makes names its run id:
 * once another run has taken the task over (after a crash or stall), a stale run's writes match
 * no row and the caller learns it lost the task.
 */
export class TaskRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Inserts a task with its planned steps, in one statement (the steps insert is a CTE: one
   * round trip, atomic, no explicit transaction). A new task comes back with its steps as stored.
   * With an idempotency key already taken, nothing is inserted and the existing task comes back
   * with `created: false` (without steps).
   */
  async create(t: NewTask): Promise<{ task: TaskRow; steps?: TaskStepRow[]; created: boolean }> {
    try {
      const { rows } = await this.db.executeQuery<TaskRow>(
        CompiledQuery.raw(INSERT_TASK_WITH_STEPS, [
          t.task_id,
          t.task_type,
          JSON.stringify(t.task_data),
          t.cluster_id ?? null,
          t.job_id,
          t.idempotency_key ?? null,
          t.request_hash ?? null,
          t.actor ?? null,
          t.exclusive_key ?? null,
          t.steps,
        ]),
      );
      const task = rows[0];
      // What the CTE stored: the planned steps with the table's defaults.
      const steps: TaskStepRow[] = t.steps.map((name, idx) => ({ task_id: t.task_id, idx, name, status: 'pending', message: null, output: null, attempts: 0, started_at: null, finished_at: null }));
      return { task, steps, created: true };
    } catch (err) {
      if (pgCode(err) !== UNIQUE_VIOLATION) throw err;
      // The same Idempotency-Key again is the same request, whichever constraint fired first.
      if (t.idempotency_key) {
        const existing = await this.db.selectFrom('tasks').selectAll().where('idempotency_key', '=', t.idempotency_key).executeTakeFirst();
        if (existing) return { task: existing, created: false };
      }
      if ((err as { constraint?: string }).constraint === 'tasks_exclusive_active_uq') {
        const active = await this.db.selectFrom('tasks').select(['task_id', 'task_status']).where('exclusive_key', '=', t.exclusive_key ?? '').where('task_status', 'in', ['pending', 'in_progress']).executeTakeFirst();
        throw new ConflictError(`${t.exclusive_key} is already taken by task ${active?.task_id ?? '(finishing)'}`, { exclusive_key: t.exclusive_key, task_id: active?.task_id ?? null, task_status: active?.task_status ?? null }, 'TASK_RUNNING');
      }
      throw err;
    }
  }

  async find(taskId: string): Promise<TaskWithSteps | undefined> {
    const task = await this.db.selectFrom('tasks').selectAll().where('task_id', '=', taskId).executeTakeFirst();
    if (!task) return undefined;
    const steps = await this.db.selectFrom('task_steps').selectAll().where('task_id', '=', taskId).orderBy('idx').execute();
    return { ...task, steps };
  }

  async list(filter: TaskFilter, page: PageRequest): Promise<Page<TaskWithSteps>> {
    const after = decodeCursor(page.cursor, 2);
    let q = this.db.selectFrom('tasks').selectAll().orderBy('created_at', 'desc').orderBy('task_id', 'desc').limit(page.limit + 1);
    if (filter.task_type !== undefined) q = q.where('task_type', '=', filter.task_type);
    if (filter.task_status !== undefined) q = q.where('task_status', '=', filter.task_status);
    if (filter.cluster_id !== undefined) q = q.where('cluster_id', '=', filter.cluster_id);
    if (after) {
      const [ts, id] = after as [string, string];
      q = q.where((eb) => eb.or([eb('created_at', '<', new Date(ts)), eb.and([eb('created_at', '=', new Date(ts)), eb('task_id', '<', id)])]));
    }
    const { items, next_cursor } = toPage(await q.execute(), page.limit, (t) => [t.created_at.toISOString(), t.task_id]);
    const ids = items.map((r) => r.task_id);
    const steps = ids.length ? await this.db.selectFrom('task_steps').selectAll().where('task_id', 'in', ids).orderBy('idx').execute() : [];
    const byTask = new Map<string, TaskStepRow[]>();
    for (const s of steps) byTask.set(s.task_id, [...(byTask.get(s.task_id) ?? []), s]);
    return { items: items.map((t) => ({ ...t, steps: byTask.get(t.task_id) ?? [] })), next_cursor };
  }

  /** Removes a task that was never enqueued (the queue refused it). */
  async deleteUnstarted(taskId: string): Promise<void> {
    await this.db.deleteFrom('tasks').where('task_id', '=', taskId).where('task_status', '=', 'pending').where('attempts', '=', 0).execute();
  }

  /** Claims the task for a worker run; undefined when the task is already finished. */
  async startRun(taskId: string, runId: string): Promise<TaskWithSteps | undefined> {
    const row = await this.db
      .updateTable('tasks')
      .set((eb) => ({
        task_status: 'in_progress' as const,
        run_id: runId,
        attempts: eb('attempts', '+', 1),
        started_at: sql`coalesce(started_at, now())`,
        updated_at: new Date(),
      }))
      .where('task_id', '=', taskId)
      .where('task_status', 'in', ['pending', 'in_progress'])
      .returningAll()
      .executeTakeFirst();
    if (!row) return undefined;
    return { ...row, steps: await this.db.selectFrom('task_steps').selectAll().where('task_id', '=', taskId).orderBy('idx').execute() };
  }

  /** Marks a step started. False when this run no longer owns the task. */
  async startStep(taskId: string, runId: string, name: string): Promise<boolean> {
    const r = await this.db
      .updateTable('task_steps')
      .set((eb) => ({ status: 'in_progress' as const, attempts: eb('attempts', '+', 1), started_at: new Date(), finished_at: null, message: null }))
      .where('task_id', '=', taskId)
      .where('name', '=', name)
      .where('status', '!=', 'completed')
      .where(({ exists, selectFrom }) => exists(selectFrom('tasks').select('task_id').where('task_id', '=', taskId).where('run_id', '=', runId).where('task_status', '=', 'in_progress')))
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async endStep(taskId: string, runId: string, name: string, status: StepStatus, fields: { message?: string | null; output?: unknown }): Promise<boolean> {
    const r = await this.db
      .updateTable('task_steps')
      .set({
        status,
        message: fields.message ?? null,
        output: fields.output === undefined ? null : JSON.stringify(fields.output),
        finished_at: status === 'in_progress' ? null : new Date(),
      })
      .where('task_id', '=', taskId)
      .where('name', '=', name)
      .where(({ exists, selectFrom }) => exists(selectFrom('tasks').select('task_id').where('task_id', '=', taskId).where('run_id', '=', runId)))
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** Ends the run's task in a terminal state; steps that never finished are cancelled alongside a cancel. */
  async finish(taskId: string, runId: string, status: 'completed' | 'failed' | 'cancelled', statusData: JsonObject): Promise<boolean> {
    const end = (db: Kysely<Database>) =>
      db
        .updateTable('tasks')
        .set({ task_status: status, task_status_data: JSON.stringify(statusData), finished_at: new Date(), updated_at: new Date() })
        .where('task_id', '=', taskId)
        .where('run_id', '=', runId)
        .where('task_status', '=', 'in_progress')
        .executeTakeFirst();
    // One statement unless the steps change too (every task ends here: no transaction round trips).
    if (status !== 'cancelled') return Number((await end(this.db)).numUpdatedRows) === 1;
    return this.db.transaction().execute(async (tx) => {
      if (Number((await end(tx)).numUpdatedRows) !== 1) return false;
      await tx.updateTable('task_steps').set({ status: 'cancelled', finished_at: new Date() }).where('task_id', '=', taskId).where('status', 'in', ['pending', 'in_progress']).execute();
      return true;
    });
  }

  /** Writes progress (a partial status document) without changing the status. */
  async touch(taskId: string, runId: string): Promise<boolean> {
    const r = await this.db.updateTable('tasks').set({ updated_at: new Date() }).where('task_id', '=', taskId).where('run_id', '=', runId).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** Which of `taskIds` have a cancel request (one query for every task a worker runs). */
  async cancelRequestedAmong(taskIds: string[]): Promise<string[]> {
    if (taskIds.length === 0) return [];
    const rows = await this.db.selectFrom('tasks').select('task_id').where('task_id', 'in', taskIds).where('cancel_requested', '=', true).execute();
    return rows.map((r) => r.task_id);
  }

  async isCancelRequested(taskId: string): Promise<boolean> {
    const r = await this.db.selectFrom('tasks').select('cancel_requested').where('task_id', '=', taskId).executeTakeFirst();
    return r?.cancel_requested ?? false;
  }

  /** A pending task is cancelled at once; a running one is flagged for its worker. */
  async requestCancel(taskId: string, actor?: string | null): Promise<TaskRow | undefined> {
    return this.db.transaction().execute(async (tx) => {
      const row = await tx.selectFrom('tasks').selectAll().where('task_id', '=', taskId).forUpdate().executeTakeFirst();
      if (!row) return undefined;
      if (row.task_status === 'pending') {
        await tx.updateTable('task_steps').set({ status: 'cancelled', finished_at: new Date() }).where('task_id', '=', taskId).where('status', 'in', ['pending', 'in_progress']).execute();
        return tx
          .updateTable('tasks')
          .set({ task_status: 'cancelled', cancel_requested: true, finished_at: new Date(), updated_at: new Date(), task_status_data: JSON.stringify({ error: 'cancelled before it started', cancelled_by: actor ?? null }) })
          .where('task_id', '=', taskId)
          .returningAll()
          .executeTakeFirstOrThrow();
      }
      if (row.task_status === 'in_progress') {
        return tx.updateTable('tasks').set({ cancel_requested: true, updated_at: new Date() }).where('task_id', '=', taskId).returningAll().executeTakeFirstOrThrow();
      }
      return row;
    });
  }

  /**
   * Puts a failed or cancelled task back to pending for a new run: completed steps are kept,
   * the rest start again. Undefined when the task is not in a retryable state.
   */
  async prepareRetry(taskId: string, nextJobId: (retries: number) => string): Promise<TaskRow | undefined> {
    return this.db.transaction().execute((tx) => this.retryIn(tx, taskId, nextJobId)).catch((err) => {
      if (pgCode(err) === UNIQUE_VIOLATION) throw new ConflictError(`task ${taskId} cannot run again while another task holds its exclusive key`, { task_id: taskId }, 'TASK_RUNNING');
      throw err;
    });
  }

  private async retryIn(tx: Kysely<Database>, taskId: string, nextJobId: (retries: number) => string): Promise<TaskRow | undefined> {
    const row = await tx.selectFrom('tasks').selectAll().where('task_id', '=', taskId).forUpdate().executeTakeFirst();
    if (!row || (row.task_status !== 'failed' && row.task_status !== 'cancelled')) return undefined;
    await tx.updateTable('task_steps').set({ status: 'pending', finished_at: null, message: null }).where('task_id', '=', taskId).where('status', '!=', 'completed').execute();
    return tx
      .updateTable('tasks')
      .set({
        task_status: 'pending',
        task_status_data: '{}',
        job_id: nextJobId(row.retries + 1),
        retries: row.retries + 1,
        run_id: null,
        cancel_requested: false,
        finished_at: null,
        updated_at: new Date(),
      })
      .where('task_id', '=', taskId)
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  /** Tasks in `status` not updated for `olderThanMs` (the reconciler's candidates). */
  async findQuiet(status: 'pending' | 'in_progress', olderThanMs: number, limit = 100): Promise<TaskRow[]> {
    return this.db
      .selectFrom('tasks')
      .selectAll()
      .where('task_status', '=', status)
      .where('updated_at', '<', new Date(Date.now() - olderThanMs))
      .orderBy('updated_at')
      .limit(limit)
      .execute();
  }

  async markRequeued(taskId: string): Promise<void> {
    await this.db.updateTable('tasks').set({ updated_at: new Date() }).where('task_id', '=', taskId).where('task_status', '=', 'pending').execute();
  }

  /** Fails a task regardless of which run owns it (the reconciler, when its job is gone). */
  async failOrphan(taskId: string, expectedStatus: TaskStatus, message: string): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const r = await tx
        .updateTable('tasks')
        .set({ task_status: 'failed', task_status_data: JSON.stringify({ error: message }), finished_at: new Date(), updated_at: new Date() })
        .where('task_id', '=', taskId)
        .where('task_status', '=', expectedStatus)
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) return false;
      await tx.updateTable('task_steps').set({ status: 'failed', message, finished_at: new Date() }).where('task_id', '=', taskId).where('status', '=', 'in_progress').execute();
      return true;
    });
  }

  /** Deletes finished tasks older than the retention; returns how many went. */
  async purgeFinishedBefore(before: Date): Promise<number> {
    const r = await this.db.deleteFrom('tasks').where('task_status', 'in', ['completed', 'failed', 'cancelled']).where('finished_at', '<', before).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
