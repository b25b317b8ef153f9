import type { Command } from 'commander';
import { enc, type ContextOf } from '../context.js';
import { show, table } from '../output.js';

export function keyCommands(program: Command, ctx: ContextOf): void {
  const keys = program.command('keys').description('API keys (admin)');
  keys
    .command('create <name>')
    .description('create a key; its token is shown once')
    .requiredOption('--role <role>', 'admin | operator | parser | reporter | viewer')
    .action(async (name: string, opts: { role: string }) => {
      const c = ctx();
      show(c.o, await c.client.call('POST', '/auth/keys', { name, role: opts.role }), (d) => `key ${d.id} (${d.role}) created; its token, shown only now:\n${d.token}`);
    });
  keys.command('list').description('keys, without their tokens').action(async () => {
    const c = ctx();
    show(c.o, await c.client.call('GET', '/auth/keys'), (p) => table(p.items ?? p, ['id', 'name', 'role', 'token_prefix', 'created_at', 'revoked_at']));
  });
  keys.command('revoke <keyId>').description('revoke a key at once, on every replica').action(async (id: string) => {
    const c = ctx();
    show(c.o, await c.client.call('DELETE', `/auth/keys/${enc(id)}`), () => `key ${id} revoked`);
  });
}
