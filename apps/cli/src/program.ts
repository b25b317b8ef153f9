import { Command, CommanderError } from 'commander';
import { ApiError, GatewayClient } from './client.js';
import type { CommandContext } from './context.js';
import { TaskFailedError, UsageError } from './errors.js';
import { consoleOutput } from './output.js';
import { blockCommands } from './commands/blocks.js';
import { clusterCommands } from './commands/clusters.js';
import { infraCommands } from './commands/infra.js';
import { keyCommands } from './commands/keys.js';
import { metricsCommands } from './commands/metrics.js';
import { policyCommands } from './commands/policies.js';
import { taskCommands } from './commands/tasks.js';

/** Exit codes: 0 done, 1 the gateway refused or a task failed, 2 a usage mistake. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

interface GlobalOptions {
  url: string;
  token?: string;
  json?: boolean;
}

export function buildProgram(): { program: Command; context: () => CommandContext } {
  const program = new Command('ccg')
    .description('Cluster Controller Gateway command line')
    .option('--url <url>', 'gateway URL (env CCG_URL)', process.env.CCG_URL ?? 'http://127.0.0.1:5000')
    .option('--token <token>', 'API key (env CCG_TOKEN)', process.env.CCG_TOKEN)
    .option('--json', 'machine-readable output')
    .showHelpAfterError()
    .exitOverride();
  const context = (): CommandContext => {
    const g = program.opts<GlobalOptions>();
    return { client: new GatewayClient({ url: g.url, token: g.token || undefined }), o: consoleOutput(Boolean(g.json)) };
  };
  for (const add of [clusterCommands, infraCommands, taskCommands, blockCommands, policyCommands, metricsCommands, keyCommands]) add(program, context);
  for (const c of program.commands) c.exitOverride();
  return { program, context };
}

/** Runs the CLI on argv (without node and script) and returns the exit code. */
export async function runCli(argv: string[]): Promise<number> {
  const { program } = buildProgram();
  const json = argv.includes('--json');
  const o = consoleOutput(json);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (err instanceof UsageError) {
      o.err(`error: ${err.message}`);
      return EXIT.usage;
    }
    if (err instanceof TaskFailedError) {
      if (json) o.out(JSON.stringify(err.task, null, 2));
      o.err(`error: ${err.message}`);
      return EXIT.failed;
    }
    if (err instanceof ApiError) {
      if (json && err.body) o.out(JSON.stringify(err.body, null, 2));
      const { field, reason } = (err.details ?? {}) as { field?: string; reason?: unknown };
      o.err(`error: ${err.message}${err.status ? ` (HTTP ${err.status}${err.code ? ` ${err.code}` : ''}${field ? `, field ${field}` : ''})` : ''}`);
      // A pre-check denial's reason is what the rule said.
      if (reason !== undefined && reason !== null) o.err(`reason: ${typeof reason === 'string' ? reason : JSON.stringify(reason)}`);
      return EXIT.failed;
    }
    o.err(`error: ${err instanceof Error ? err.message : String(err)}`);
    return EXIT.failed;
  }
}
