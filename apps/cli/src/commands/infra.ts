import type { Command } from 'commander';
import type { ContextOf } from '../context.js';
import { defaultKubeconfigPath, readText } from '../files.js';
import { startedTask } from './tasks.js';

/** `ccg infra create|remove`: the spec's sample scripts as one command. */
export function infraCommands(program: Command, ctx: ContextOf): void {
  const infra = program.command('infra').description('cluster infrastructure on a target Kubernetes cluster');
  for (const [verb, path, what] of [
    ['create', '/create-cluster-infra', 'create the cluster controller infrastructure'],
    ['remove', '/remove-cluster-infra', 'remove the cluster controller infrastructure'],
  ] as const) {
    infra
      .command(`${verb} <clusterId>`)
      .description(`${what} (a background task)`)
      .option('--kubeconfig <path>', 'kubeconfig of the target cluster', defaultKubeconfigPath())
      .option('--wait', 'follow the task step by step until it ends')
      .action(async (clusterId: string, opts: { kubeconfig: string; wait?: boolean }) => {
        const c = ctx();
        const kubeconfig = await readText(opts.kubeconfig, 'kubeconfig');
        const data = await c.client.call('POST', path, { cluster_id: clusterId, kube_config_data: kubeconfig });
        await startedTask(c, { task_type: verb, steps: [], ...data }, Boolean(opts.wait));
      });
  }
}
