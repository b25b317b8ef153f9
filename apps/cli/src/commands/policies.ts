import type { Command } from 'commander';
import { enc, type ContextOf } from '../context.js';
import { readDocument } from '../files.js';
import { show, table } from '../output.js';

const scope = (cluster?: string) => (cluster ? `?cluster_id=${enc(cluster)}` : '');

export function policyCommands(program: Command, ctx: ContextOf): void {
  const policies = program.command('policies').description('pre-check policy rules and the action map');
  policies.command('list').description('registered rules').action(async () => {
    const c = ctx();
    show(c.o, await c.client.call('GET', '/policies'), (p) => table(p.items, ['uri', 'runtime', 'code_sha256', 'created_at']));
  });
  policies.command('get <uri>').description('one rule').action(async (uri: string) => {
    const c = ctx();
    show(c.o, await c.client.call('GET', `/policies/${enc(uri)}`));
  });
  policies.command('register <file>').description('register a rule from a JSON/YAML file ({uri, runtime, code, ...})').action(async (file: string) => {
    const c = ctx();
    show(c.o, await c.client.call('POST', '/policies', await readDocument(file, 'policy file')), (d) => `registered ${d.uri}`);
  });
  policies.command('delete <uri>').description('remove a rule').action(async (uri: string) => {
    const c = ctx();
    show(c.o, await c.client.call('DELETE', `/policies/${enc(uri)}`), () => `deleted ${uri}`);
  });
  policies
    .command('eval <uri>')
    .description('evaluate a rule on an input, without acting on it')
    .requiredOption('--input <file>', 'the input_data (JSON/YAML)')
    .option('--parameters <file>', 'parameters (JSON/YAML)')
    .action(async (uri: string, opts: { input: string; parameters?: string }) => {
      const c = ctx();
      const body = { input: await readDocument(opts.input, 'input file'), ...(opts.parameters ? { parameters: await readDocument(opts.parameters, 'parameters file') } : {}) };
      show(c.o, await c.client.call('POST', `/policies/${enc(uri)}/eval`, body));
    });
  const map = policies.command('map').description('the action → rule map');
  map.command('show').option('--cluster <clusterId>', 'one cluster\'s map').description('the effective map').action(async (opts: { cluster?: string }) => {
    const c = ctx();
    show(c.o, await c.client.call('GET', `/pre-check-policies${scope(opts.cluster)}`));
  });
  map
    .command('update <file>')
    .description('set or remove (empty string) actions from a JSON/YAML file')
    .option('--cluster <clusterId>', 'update one cluster\'s map')
    .action(async (file: string, opts: { cluster?: string }) => {
      const c = ctx();
      show(c.o, await c.client.call('POST', `/pre-check-policies/update${scope(opts.cluster)}`, await readDocument(file, 'map file')));
    });
  map.command('history').option('--cluster <clusterId>').description('who changed the map, when').action(async (opts: { cluster?: string }) => {
    const c = ctx();
    show(c.o, await c.client.call('GET', `/pre-check-policies/history${scope(opts.cluster)}`), (p) => table(p.items, ['created_at', 'actor', 'changes']));
  });
  policies
    .command('decisions')
    .description('the decision log, newest first')
    .option('--action <action>', 'one action, e.g. add_cluster')
    .option('--limit <n>', 'page size', '50')
    .action(async (opts: { action?: string; limit: string }) => {
      const c = ctx();
      const q = new URLSearchParams({ limit: opts.limit, ...(opts.action ? { action: opts.action } : {}) });
      show(c.o, await c.client.call('GET', `/pre-check-policies/decisions?${q}`), (p) => table(p.items, ['created_at', 'action', 'outcome', 'rule_uri', 'actor']));
    });
}
