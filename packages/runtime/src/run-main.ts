import { ConfigError } from '@ccg/config';
import { createLogger } from './index.js';
import type { Logger } from 'pino';

/**
 * Runs an entry point: configuration errors print one clear line and exit 2; SIGINT/SIGTERM
 * close everything in order (a second signal exits at once).
 */
export async function runMain(name: string, start: (log: Logger) => Promise<() => Promise<void>>): Promise<void> {
  // Before the configuration is loaded (it validates both and exits on a bad value).
  const log = createLogger(
    {
      logLevel: process.env.LOG_LEVEL && /^(fatal|error|warn|info|debug|trace|silent)$/.test(process.env.LOG_LEVEL) ? process.env.LOG_LEVEL : 'info',
      logFlushMs: process.env.LOG_FLUSH_MS && /^\d{1,5}$/.test(process.env.LOG_FLUSH_MS) ? Number(process.env.LOG_FLUSH_MS) : undefined,
    },
    name,
  );
  let stop: () => Promise<void>;
  try {
    stop = await start(log);
  } catch (err) {
    if (err instanceof ConfigError || (err instanceof Error && err.message.startsWith('configuration error'))) {
      console.error(err.message);
      process.exit(2);
    }
    log.fatal({ err }, 'failed to start');
    process.exit(1);
  }
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    log.info({ signal }, 'shutting down');
    // Connections we are closing may still report their own termination; that is expected now.
    process.on('uncaughtException', (err) => log.debug({ err: err.message }, 'error during shutdown'));
    try {
      await stop();
      process.exit(0);
    } catch (err) {
      log.error({ err }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}
