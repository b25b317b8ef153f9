import type { Command } from 'commander';
import { enc, parseAssignments, type ContextOf } from '../context.js';
import { readDocument } from '../files.js';
import { show, table } from '../output.js';

const clusterRow = (c: any) => ({ id: c.id, name: c.name ?? c.clusterMetadata?.name, region: c.region ?? c.clusterMetadata?.region, nodes: Array.isArray(c.nodes) ? c.nodes.length : c.nodes?.count, version: c.version });

export function clusterCommands(program: Command, ctx: ContextOf): void {
  const clusters = program.command('clusters').description('the cluster registry');
  clusters.command('create <file>').description('register a cluster from a JSON or YAML file (- for stdin)').action(async (file: string) => {
    const c = ctx();
    show(c.o, await c.client.call('POST', '/clusters/create', await readDocument(file, 'cluster file')), (d) => `cluster ${d.id} created (version ${d.version})`);
  });
  clusters.command('read <clusterId>').description('one cluster entry').action(async (id: string) => {
    const c = ctx();
    show(c.o, await c.client.call('GET', `/clusters/read/${enc(id)}`));
  });
  clusters
    .command('list')
    .description('registered clusters')
    .option('--limit <n>', 'page size', '50')
    .option('--cursor <cursor>', 'next page')
    .action(async (opts: { limit: string; cursor?: string }) => {
      const c = ctx();
      const q = new URLSearchParams({ limit: opts.limit, ...(opts.cursor ? { cursor: opts.cursor } : {}) });
      show(c.o, await c.client.call('GET', `/clusters?${q}`), (p) => `${table(p.items.map(clusterRow), ['id', 'name', 'region', 'nodes', 'version'])}${p.next_cursor ? `\nnext page: --cursor ${p.next_cursor}` : ''}`);
    });
  clusters
    .command('update <clusterId> [assignments...]')
    .description('update with dotted paths: ccg clusters update ID clusterMetadata.creator=\'"me"\' tags=\'["a"]\'')
    .option('--file <file>', 'the update document (JSON/YAML) instead of assignments')
    .option('--if-match <version>', 'refuse (412) unless the entry is at this version')
    .action(async (id: string, assignments: string[], opts: { file?: string; ifMatch?: string }) => {
      const c = ctx();
      const body = opts.file ? await readDocument(opts.file, 'update file') : parseAssignments(assignments);
      const headers: Record<string, string> = opts.ifMatch ? { 'If-Match': `"${opts.ifMatch}"` } : {};
      show(c.o, await c.client.call('PATCH', `/clusters/update/${enc(id)}`, body, headers), (d) => `cluster ${d.id} updated (version ${d.version})`);
    });
  clusters
    .command('delete <clusterId>')
    .description('remove a cluster entry')
    .option('--force', 'even while blocks are allocated on it')
    .action(async (id: string, opts: { force?: boolean }) => {
      const c = ctx();
      show(c.o, await c.client.call('DELETE', `/clusters/delete/${enc(id)}${opts.force ? '?force=true' : ''}`), (d) => `cluster ${d.id} deleted`);
    });
  clusters.command('query <file>').description('clusters matching a filter (the placement filter language)').action(async (file: string) => {
    const c = ctx();
    show(c.o, await c.client.call('POST', '/clusters/query', await readDocument(file, 'filter file')), (d) => table((d.items ?? d.clusters ?? d).map(clusterRow), ['id', 'name', 'region', 'nodes', 'version']));
  });
}
