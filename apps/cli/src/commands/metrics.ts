import type { Command } from 'commander';
import { enc, type ContextOf } from '../context.js';
import { show } from '../output.js';

export function metricsCommands(program: Command, ctx: ContextOf): void {
  const metrics = program.command('metrics').description('cluster and node metrics');
  metrics
    .command('cluster <clusterId>')
    .description('the latest metrics of a cluster')
    .option('--live', 'ask the cluster\'s metrics service now instead of the stored report')
    .action(async (id: string, opts: { live?: boolean }) => {
      const c = ctx();
      show(c.o, await c.client.call('GET', `/cluster-metrics/${enc(id)}${opts.live ? '?live=true' : ''}`));
    });
  metrics.command('node <clusterId> <nodeId>').description('the latest metrics of one node').action(async (clusterId: string, nodeId: string) => {
    const c = ctx();
    show(c.o, await c.client.call('GET', `/cluster-metrics/node/${enc(clusterId)}/${enc(nodeId)}`));
  });
}
