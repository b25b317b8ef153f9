import type { Command } from 'commander';
import { enc, type CommandContext, type ContextOf } from '../context.js';
import { readText } from '../files.js';
import { show, table } from '../output.js';
import { watchTask, type TaskView } from '../watch.js';

const stepLine = (t: TaskView) =>
  [
    `task ${t.task_id}  ${t.task_type}  ${t.task_status}`,
    ...t.steps.map((s) => `  ${s.status.padEnd(11)} ${s.name}${s.message ? `  — ${s.message}` : ''}`),
    ...(t.task_status_data?.error ? [`error: ${t.task_status_data.error}`] : []),
  ].join('\n');

/** Prints a started task, or follows it to its end with `--wait`. */
export async function startedTask(ctx: CommandContext, task: TaskView, wait: boolean): Promise<void> {
  if (!wait) {
    show(ctx.o, task, (t: TaskView) => `task ${t.task_id} scheduled (${t.task_type}); follow it with: ccg tasks watch ${t.task_id}`);
    return;
  }
  const final = await watchTask(ctx.client, task.task_id, ctx.o);
  show(ctx.o, final, (t: TaskView) => `task ${t.task_id} completed`);
}

export function taskCommands(program: Command, ctx: ContextOf): void {
  const tasks = program.command('tasks').description('the task registry');
  tasks.command('get <taskId>').description('one task with its steps').action(async (id: string) => {
    const c = ctx();
    show(c.o, await c.client.call('GET', `/tasks/${enc(id)}`), stepLine);
  });
  tasks
    .command('list')
    .description('recent tasks, newest first')
    .option('--status <status>', 'pending | in_progress | completed | failed | cancelled')
    .option('--type <type>', 'task type, e.g. cluster_infra_creation')
    .option('--cluster <clusterId>', 'tasks of one cluster')
    .option('--limit <n>', 'page size', '50')
    .action(async (opts: { status?: string; type?: string; cluster?: string; limit: string }) => {
      const c = ctx();
      const q = new URLSearchParams({ limit: opts.limit });
      if (opts.status) q.set('task_status', opts.status);
      if (opts.type) q.set('task_type', opts.type);
      if (opts.cluster) q.set('cluster_id', opts.cluster);
      const page = await c.client.call('GET', `/tasks?${q}`);
      show(c.o, page, (p) => table(p.items, ['task_id', 'task_type', 'task_status', 'cluster_id', 'created_at']));
    });
  tasks.command('watch <taskId>').description('follow a task step by step until it ends').action(async (id: string) => {
    const c = ctx();
    const final = await watchTask(c.client, id, c.o);
    show(c.o, final, (t: TaskView) => `task ${t.task_id} completed`);
  });
  tasks.command('cancel <taskId>').description('cancel a pending or running task').action(async (id: string) => {
    const c = ctx();
    show(c.o, await c.client.call('POST', `/tasks/${enc(id)}/cancel`, {}), stepLine);
  });
  tasks
    .command('retry <taskId>')
    .description('run a failed or cancelled task again from its failed step')
    .option('--kubeconfig <path>', 'infra tasks: the kubeconfig again (it is never stored)')
    .option('--wait', 'follow the task until it ends')
    .action(async (id: string, opts: { kubeconfig?: string; wait?: boolean }) => {
      const c = ctx();
      const body = opts.kubeconfig ? { secrets: { kube_config_data: await readText(opts.kubeconfig, 'kubeconfig') } } : {};
      await startedTask(c, await c.client.call('POST', `/tasks/${enc(id)}/retry`, body), Boolean(opts.wait));
    });
}
