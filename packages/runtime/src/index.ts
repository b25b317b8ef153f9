/**
 * The composition root shared by the entry points (api, worker, all-in-one gateway): turns a
 * Config into a logger, a migrated database, a queue backend and the job catalogue.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pino, type DestinationStream, type Logger } from 'pino';
import { DEFAULT_LOG_FLUSH_MS, type Config } from '@ccg/config';
import { REDACT_PATHS, REDACTED, redactSecrets } from './log-redaction.js';
import { connectDb, migrateToLatest, type DbHandle, type EmbeddedDb } from '@ccg/db';
import { QueueBackend, TaskCatalogue, diagnosticTask, type QueueConnection } from '@ccg/tasks';
import { blockTasks, type PlacementDeps } from '@ccg/placement';
import { infraTasks, type InfraDeps } from '@ccg/kube';

/** Stdout is written in batches of about this many bytes (or every LOG_FLUSH_MS). */
const LOG_BATCH_BYTES = 4096;

/**
 * The one logger factory (API, worker, gateway, tests): JSON lines; secrets at any depth are
 * redacted (log-redaction.ts). `destination` defaults to stdout, written in batches: a write per
 * line (one per request, for the access log) cost the API about a sixth of its cluster-read
 * throughput (bench/cluster-read.mjs). Lines wait at most `logFlushMs`; pino flushes at exit;
 * a SIGKILL loses at most that much. `logFlushMs` 0 writes every line at once.
 */
export function createLogger(config: Pick<Config, 'logLevel'> & Partial<Pick<Config, 'logFlushMs'>>, name = 'ccg', destination?: DestinationStream): Logger {
  const options = {
    name,
    level: config.logLevel,
    redact: { paths: REDACT_PATHS, censor: REDACTED },
    formatters: { log: (o: Record<string, unknown>) => redactSecrets(o) },
  };
  if (destination) return pino(options, destination);
  const flushMs = config.logFlushMs ?? DEFAULT_LOG_FLUSH_MS;
  if (flushMs === 0) return pino(options);
  return pino(options, pino.destination({ dest: 1, sync: false, minLength: LOG_BATCH_BYTES, periodicFlush: flushMs }));
}

/** What task handlers need; the worker passes it (the API builds the catalogue without, for validation and plans). */
export interface CatalogueDeps {
  placement?: PlacementDeps;
  infra?: InfraDeps;
}

/** Every task type the gateway knows. API and workers must load the same catalogue. */
export function createCatalogue(deps: CatalogueDeps = {}): TaskCatalogue {
  return new TaskCatalogue([diagnosticTask, ...blockTasks(deps.placement), ...infraTasks(deps.infra)]);
}

/** The Postgres schema BullMQ's Postgres backend keeps its queues in. */
export const queueSchemaName = (config: Pick<Config, 'queuePrefix'>): string => `${config.queuePrefix.replace(/-/g, '_')}_queue`;

export function queueConnection(config: Config, databaseUrl: string): QueueConnection {
  if (config.redisUrl) return { backend: 'redis', url: config.redisUrl, prefix: config.queuePrefix };
  // A search_path in the URL's `options` would override the queue schema BullMQ pins.
  const url = new URL(databaseUrl);
  url.searchParams.delete('options');
  return { backend: 'postgres', connectionString: url.toString(), schema: queueSchemaName(config) };
}

export interface Database {
  url: string;
  handle: DbHandle;
  embedded?: EmbeddedDb;
  close(): Promise<void>;
}

/**
 * Connects to DATABASE_URL, or with none starts the embedded Postgres under DATA_DIR, and
 * migrates it. `allowEmbedded` is false for the split api/worker processes, which must share
 * one database.
 */
export async function openDatabase(config: Config, log: Logger, allowEmbedded: boolean): Promise<Database> {
  let embedded: EmbeddedDb | undefined;
  let url = config.databaseUrl;
  if (!url) {
    if (!allowEmbedded) throw new Error('configuration error: DATABASE_URL is required when the API and workers run as separate processes');
    log.info({ data_dir: config.dataDir }, 'DATABASE_URL is not set: starting the embedded Postgres');
    // Loaded only here: the split api/worker images never start it.
    const { startEmbeddedPostgres } = await import('@ccg/db/embedded');
    embedded = await startEmbeddedPostgres(path.join(config.dataDir, 'postgres'), (m) => log.debug({ postgres: m }));
    url = embedded.url;
  }
  const handle = await connectDb({ connectionString: url, max: 20 });
  const applied = await migrateToLatest(handle.db);
  if (applied.length) log.info({ migrations: applied }, 'database migrated');
  return {
    url,
    handle,
    embedded,
    async close() {
      await handle.close();
      await embedded?.stop();
    },
  };
}

export function createQueues(config: Config, databaseUrl: string): QueueBackend {
  return new QueueBackend(queueConnection(config, databaseUrl));
}

/**
 * The zero-setup mode keeps a generated secrets key under DATA_DIR so queued secrets survive a
 * restart; configured deployments pass KUBECONFIG_ENCRYPTION_KEY to API and workers alike.
 */
export async function ensureEncryptionKey(config: Config, log: Logger): Promise<Buffer> {
  if (config.encryptionKey) return config.encryptionKey;
  const file = path.join(config.dataDir, 'secrets', 'queue-encryption.key');
  let existing: Buffer | undefined;
  try {
    existing = Buffer.from((await readFile(file, 'utf8')).trim(), 'base64');
  } catch {
    existing = undefined;
  }
  if (existing && existing.length === 32) return existing;
  if (existing) throw new Error(`configuration error: ${file} does not hold a 32-byte key; remove it to generate a new one`);
  {
    await mkdir(config.dataDir, { recursive: true });
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    const key = randomBytes(32);
    await writeFile(file, key.toString('base64'), { mode: 0o600 });
    await chmod(file, 0o600);
    log.info({ file }, 'generated a queue encryption key (set KUBECONFIG_ENCRYPTION_KEY to choose one)');
    return key;
  }
}
export { runMain } from './run-main.js';
export { redactSecrets, SECRET_LOG_KEYS, REDACT_PATHS, REDACTED } from './log-redaction.js';
export { createInfraDeps, type InfraDeps } from '@ccg/kube';

export { GatewayMetrics, QUEUE_STATES, type GatewayMetricsOptions } from './metrics.js';
export { serveMetrics, type MetricsServer } from './metrics-server.js';
