import type { TaskWithSteps } from '@ccg/db';

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);
const epoch = (d: Date): number => Math.floor(d.getTime() / 1000);

/** A task as users and AIOS pollers see it: the AIOS task fields plus our ordered steps. */
export function toTaskView(t: TaskWithSteps) {
  const done = t.steps.filter((s) => s.status === 'completed').length;
  return {
    task_id: t.task_id,
    task_type: t.task_type,
    task_data: t.task_data,
    task_status: t.task_status,
    task_status_data: t.task_status_data,
    task_create_timestamp: epoch(t.created_at),
    task_update_timestamp: epoch(t.updated_at),
    cluster_id: t.cluster_id,
    actor: t.actor,
    attempts: t.attempts,
    retries: t.retries,
    cancel_requested: t.cancel_requested,
    created_at: iso(t.created_at),
    updated_at: iso(t.updated_at),
    started_at: iso(t.started_at),
    finished_at: iso(t.finished_at),
    progress: { completed_steps: done, total_steps: t.steps.length },
    steps: t.steps.map((s) => ({
      index: s.idx,
      name: s.name,
      status: s.status,
      message: s.message,
      output: s.output,
      attempts: s.attempts,
      started_at: iso(s.started_at),
      finished_at: iso(s.finished_at),
    })),
  };
}

export type TaskView = ReturnType<typeof toTaskView>;
