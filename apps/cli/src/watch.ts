import { createParser } from 'eventsource-parser';
import { Listr } from 'listr2';
import { ApiError, type GatewayClient } from './client.js';
import { TaskFailedError } from './errors.js';
import type { Output } from './output.js';

export interface StepView {
  name: string;
  status: 'pending' | 'in_progress' | 'completed' | 'failed' | 'cancelled';
  message: string | null;
  attempts: number;
  started_at: string | null;
  finished_at: string | null;
}

export interface TaskView {
  task_id: string;
  task_type: string;
  task_status: 'pending' | 'in_progress' | 'completed' | 'failed' | 'cancelled';
  task_status_data: any;
  steps: StepView[];
}

const TERMINAL = ['completed', 'failed', 'cancelled'];
export const isTerminal = (t: TaskView): boolean => TERMINAL.includes(t.task_status);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Task views from `GET /tasks/:id/events`; ends when the server ends the stream. */
async function* streamEvents(client: GatewayClient, taskId: string): AsyncGenerator<TaskView> {
  const res = await fetch(client.url(`/tasks/${encodeURIComponent(taskId)}/events`), { headers: client.headers({ Accept: 'text/event-stream' }) });
  if (!res.ok || !res.body || !res.headers.get('content-type')?.startsWith('text/event-stream')) {
    await res.body?.cancel();
    throw new ApiError(`no event stream (HTTP ${res.status})`, res.status);
  }
  const queue: TaskView[] = [];
  const parser = createParser({
    onEvent: (e) => {
      if (e.event === 'task') queue.push(JSON.parse(e.data) as TaskView);
    },
  });
  const decoder = new TextDecoder();
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    parser.feed(decoder.decode(chunk, { stream: true }));
    while (queue.length) yield queue.shift()!;
  }
}

/** Task views by polling `GET /tasks/:id`: the fallback when the event stream is unavailable. */
async function* pollTask(client: GatewayClient, taskId: string, pollMs: number): AsyncGenerator<TaskView> {
  for (;;) {
    const t = await client.call<TaskView>('GET', `/tasks/${encodeURIComponent(taskId)}`);
    yield t;
    if (isTerminal(t)) return;
    await sleep(pollMs);
  }
}

/** Server-sent events first; polling when the stream cannot be opened or breaks before the end. */
export async function* taskUpdates(client: GatewayClient, taskId: string, pollMs = 1000): AsyncGenerator<TaskView> {
  let last: TaskView | undefined;
  try {
    for await (const t of streamEvents(client, taskId)) {
      last = t;
      yield t;
    }
  } catch {
    // fall through to polling
  }
  if (last && isTerminal(last)) return;
  yield* pollTask(client, taskId, pollMs);
}

/** Resolves each step's waiter when the task shows it finished (or the task ends without it). */
class StepBoard {
  private readonly waiters = new Map<string, (s: StepView) => void>();
  private latest?: TaskView;

  update(t: TaskView): void {
    this.latest = t;
    for (const [name, resolve] of this.waiters) {
      const s = t.steps.find((x) => x.name === name);
      if (s && (['completed', 'failed', 'cancelled'].includes(s.status) || isTerminal(t))) {
        this.waiters.delete(name);
        resolve(s);
      }
    }
  }

  wait(name: string): Promise<StepView> {
    return new Promise((resolve) => {
      this.waiters.set(name, resolve);
      if (this.latest) this.update(this.latest);
    });
  }

  /** Releases every waiter (the update source ended or failed). */
  release(): void {
    for (const [name, resolve] of this.waiters) resolve({ name, status: 'cancelled', message: 'the task could not be followed', attempts: 0, started_at: null, finished_at: null });
    this.waiters.clear();
  }
}

const seconds = (s: StepView): string => {
  if (!s.started_at || !s.finished_at) return '';
  return ` (${((Date.parse(s.finished_at) - Date.parse(s.started_at)) / 1000).toFixed(1)} s${s.attempts > 1 ? `, attempt ${s.attempts}` : ''})`;
};

/** Why a task did not complete, in one line. */
export function failureSummary(t: TaskView): string {
  const step = t.task_status_data?.failed_step ?? t.steps.find((s) => s.status === 'failed')?.name;
  const error = t.task_status_data?.error ?? 'no error recorded';
  return `task ${t.task_id} ${t.task_status}${step ? ` at step ${step}` : ''}: ${error}`;
}

/**
 * Follows a task to its end. Humans see each step live (listr2; plain lines when stdout is not a
 * terminal); `--json` prints only the final task. Resolves with the completed task; a failed or
 * cancelled task rejects with TaskFailedError naming the step.
 */
export async function watchTask(client: GatewayClient, taskId: string, o: Output, pollMs = 1000): Promise<TaskView> {
  const updates = taskUpdates(client, taskId, pollMs);
  const first = await updates.next();
  if (first.done) throw new ApiError(`task ${taskId}: no state received`, 0);
  let final: TaskView = first.value;
  const board = new StepBoard();
  board.update(final);
  const consume = (async () => {
    try {
      for await (const t of updates) {
        final = t;
        board.update(t);
      }
    } finally {
      board.release();
    }
  })();

  if (!o.json) {
    o.out(`task ${final.task_id} (${final.task_type})`);
    const list = new Listr(
      final.steps.map((step) => ({
        title: step.name,
        task: async (_ctx: unknown, item: { title: string; skip(msg?: string): void }) => {
          const s = await board.wait(step.name);
          if (s.status === 'completed') item.title = `${step.name}${seconds(s)}`;
          else if (s.status === 'failed') throw new Error(`${step.name}: ${s.message ?? 'failed'}`);
          else item.skip(`${step.name}: not run`);
        },
      })),
      { concurrent: false, exitOnError: true, rendererOptions: { collapseErrors: false }, fallbackRendererOptions: { timestamp: undefined } as never },
    );
    await list.run().catch(() => undefined);
  }
  await consume;
  if (final.task_status !== 'completed') throw new TaskFailedError(failureSummary(final), final);
  return final;
}
