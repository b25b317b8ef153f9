import type { Command } from 'commander';
import { enc, type ContextOf } from '../context.js';
import { readDocument } from '../files.js';
import { UsageError } from '../errors.js';
import { show, table } from '../output.js';
import { startedTask } from './tasks.js';

/** A dry run in a few lines: what each condition removed, the selection, each score, the pick. */
function dryRunSummary(d: any): string {
  const lines = [`block ${d.block_id}: ${d.candidates?.length ?? 0} cluster(s) match the filter: ${(d.candidates ?? []).join(', ') || 'none'}`];
  for (const c of d.excluded_by_condition?.conditions ?? []) {
    const cond = c.condition ?? {};
    lines.push(`  ${cond.variable} ${cond.operator} ${JSON.stringify(cond.value)}: removed ${c.excluded_count}${c.excluded_ids?.length ? ` (${c.excluded_ids.join(', ')})` : ''}`);
  }
  if (d.selection) lines.push(`selection (${d.selection.by}${d.selection.policy_rule_uri ? ` ${d.selection.policy_rule_uri}` : ''}): ${(d.selection.cluster_ids ?? []).join(', ') || 'none'}`);
  for (const r of d.dry_runs ?? []) lines.push(`  dry run on ${r.cluster_id}: ${r.error ? `error: ${typeof r.error === 'string' ? r.error : JSON.stringify(r.error)}` : `score ${r.score_data?.score ?? JSON.stringify(r.score_data)}`}`);
  lines.push(d.pick ? `pick: ${d.pick.id}` : `nothing fits: ${d.reason_nothing_fits ?? 'no candidate'}`);
  return lines.join('\n');
}

export function blockCommands(program: Command, ctx: ContextOf): void {
  const blocks = program.command('blocks').description('blocks: placement and the blocks registry');
  blocks
    .command('list')
    .description('allocated blocks')
    .option('--limit <n>', 'page size', '50')
    .action(async (opts: { limit: string }) => {
      const c = ctx();
      show(c.o, await c.client.call('GET', `/blocks?limit=${enc(opts.limit)}`), (p) => table(p.items, ['id', 'cluster_id', 'status', 'updated_at']));
    });
  blocks.command('get <blockId>').description('one block').action(async (id: string) => {
    const c = ctx();
    show(c.o, await c.client.call('GET', `/blocks/${enc(id)}`));
  });
  blocks.command('dry-run <file>').description('explain where a block (JSON/YAML) would go, without allocating').action(async (file: string) => {
    const c = ctx();
    show(c.o, await c.client.call('POST', '/blockActions/dryRun', await readDocument(file, 'block file')), dryRunSummary);
  });
  blocks.command('select <file>').description('the clusters a block could go to').action(async (file: string) => {
    const c = ctx();
    show(c.o, await c.client.call('POST', '/blockActions/selectClusters', await readDocument(file, 'block file')), (d) => (d.clusters ?? []).join('\n') || '(none)');
  });
  blocks
    .command('allocate <file>')
    .description('allocate a block (a background task)')
    .option('--wait', 'follow the task until it ends')
    .action(async (file: string, opts: { wait?: boolean }) => {
      const c = ctx();
      await startedTask(c, await c.client.call('POST', '/blockActions/allocate', await readDocument(file, 'block file')), Boolean(opts.wait));
    });
  blocks
    .command('scale <clusterId> <blockId>')
    .description('scale a block on its cluster by new instances (spec §3; pre-checked by scale_block)')
    .requiredOption('--instances <n>', 'how many instances to add')
    .option('--on <node:gpus...>', 'where each instance goes, e.g. node-1:0,2 (else the block\'s resource allocator decides)')
    .action(async (clusterId: string, blockId: string, opts: { instances: string; on?: string[] }) => {
      const c = ctx();
      const count = Number(opts.instances);
      if (!Number.isInteger(count) || count < 1) throw new UsageError(`--instances must be a positive integer, got ${opts.instances}`);
      const allocation = (opts.on ?? []).map((spec) => {
        const [node_id, gpus = ''] = spec.split(':');
        return { node_id, gpu_ids: gpus ? gpus.split(',').map(Number) : [] };
      });
      const body = { operation: 'scale', block_id: blockId, instances_count: count, ...(allocation.length ? { allocation_data: allocation } : {}) };
      show(c.o, await c.client.call('POST', `/controller/block-scaling/${enc(clusterId)}`, body));
    });
  blocks
    .command('deallocate <blockId>')
    .description('remove an allocated block (a background task)')
    .option('--wait', 'follow the task until it ends')
    .action(async (id: string, opts: { wait?: boolean }) => {
      const c = ctx();
      await startedTask(c, await c.client.call('POST', '/blockActions/deallocate', { block_id: id }), Boolean(opts.wait));
    });
}
