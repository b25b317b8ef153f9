import { randomBytes } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Server } from 'node:http';
import { pino } from 'pino';
import { Redis } from 'ioredis';
import { loadConfig, type Config } from '@ccg/config';
import { connectDb, migrateToLatest, type DbHandle } from '@ccg/db';
import { createApp, createServices, listen, type Services } from '@ccg/api';
import { startWorker, type WorkerHandle } from '@ccg/worker';
import { createCatalogue, queueConnection } from '@ccg/runtime';
import { QueueBackend } from '@ccg/tasks';
import { createPolicySystem, type PolicySystem } from '@ccg/policy';
import { testDatabaseUrl, testRedisUrl } from './services.js';
import { http, type HttpResult } from './http.js';

export type BackendName = 'postgres' | 'redis';

/** The queue backends this run can test: Postgres always, Redis when one is reachable. */
export function queueBackends(): BackendName[] {
  return testRedisUrl() ? ['postgres', 'redis'] : ['postgres'];
}

export interface TestGatewayOptions {
  backend?: BackendName;
  /** Run the job workers in this process too. @defaultValue true */
  worker?: boolean;
  /** Extra environment for the gateway's config (e.g. short lock timings). */
  env?: Record<string, string>;
  /** Run as another replica of this gateway: same database schema, queue and key (a restart, or a second API process). */
  replicaOf?: TestGateway;
}

export interface TestGateway {
  url: string;
  /** Environment that points another process (a worker) at this gateway's database and queue. */
  env: Record<string, string>;
  config: Config;
  schema: string;
  db: DbHandle;
  services: Services;
  /** The Express app the server runs (route-walking tests enumerate its router). */
  app: ReturnType<typeof createApp>;
  policy: PolicySystem;
  queues: QueueBackend;
  worker?: WorkerHandle;
  request<T = any>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<HttpResult<T>>;
  close(): Promise<void>;
}

/** The database URL with the test schema pinned through the connection's search_path. */
function withSearchPath(base: string, schema: string): string {
  const u = new URL(base);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return u.toString();
}

export function repoRoot(): string {
  let dir = process.cwd();
  while (!existsSync(path.join(dir, 'pnpm-workspace.yaml'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('repository root not found');
    dir = up;
  }
  return dir;
}

/**
 * A fresh Postgres schema name for a test: `t_<run id><6 hex>`. The global teardown drops the
 * run's schemas; tests must not drop them themselves (another file's migrator may be reading).
 */
export function newTestSchemaName(): string {
  const runId = /^[0-9a-f]{4}$/.test(process.env.CCG_TEST_RUN_ID ?? '') ? process.env.CCG_TEST_RUN_ID! : randomBytes(2).toString('hex');
  return `t_${runId}${randomBytes(3).toString('hex')}`;
}

/**
 * Starts the gateway in-process on a free port with its own Postgres schema and queue
 * namespace, so test files never see each other's data and can run in parallel.
 */
export async function startTestGateway(opts: TestGatewayOptions = {}): Promise<TestGateway> {
  const backend = opts.backend ?? 'postgres';
  const schema = opts.replicaOf ? opts.replicaOf.schema : newTestSchemaName();
  const id = schema.slice(2);
  const baseUrl = testDatabaseUrl();
  const redisUrl = testRedisUrl();
  if (backend === 'redis' && !redisUrl) throw new Error('Redis backend requested but no Redis is reachable');
  const env: Record<string, string> = {
    DATABASE_URL: withSearchPath(baseUrl, schema),
    QUEUE_PREFIX: `t_${id}`,
    KUBECONFIG_ENCRYPTION_KEY: opts.replicaOf?.env.KUBECONFIG_ENCRYPTION_KEY ?? randomBytes(32).toString('hex'),
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    RECONCILE_INTERVAL_MS: '3600000',
    ...(backend === 'redis' ? { REDIS_URL: redisUrl! } : {}),
    ...opts.replicaOf?.env,
    ...opts.env,
  };
  const config = loadConfig(env);
  const log = pino({ level: config.logLevel });
  const db = await connectDb({ connectionString: baseUrl, schema, max: 10 });
  await migrateToLatest(db.db);
  const queues = new QueueBackend(queueConnection(config, baseUrl));
  const catalogue = createCatalogue();
  const policy = await createPolicySystem(env.DATABASE_URL, config.policy, log);
  const services = createServices(db.db, queues, catalogue, config, policy);
  const worker = opts.worker === false ? undefined : startWorker(db.db, queues, createCatalogue, config, log, undefined, policy);
  const app = createApp(services, { bodyLimitBytes: config.bodyLimitBytes, log });
  const server: Server = await listen(app, 0, '127.0.0.1');
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    url,
    env,
    config,
    schema,
    db,
    services,
    app,
    policy,
    queues,
    worker,
    request: (method, p, body, headers) => http(url, method, p, body, headers),
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await worker?.close();
      await policy.close();
      await queues.close();
      await db.close();
      await dropRedisKeys(config, redisUrl);
    },
  };
}

/**
 * Frees the test's Redis keys. Its Postgres schemas stay until the global teardown drops this
 * run's: dropping a schema while another file runs Kysely's migrator (which introspects every
 * schema) makes that migrator fail.
 */
async function dropRedisKeys(config: Config, redisUrl?: string): Promise<void> {
  if (config.queueBackend !== 'redis' || !redisUrl) return;
  const r = new Redis(redisUrl);
  try {
    const keys = await r.keys(`{${config.queuePrefix}}:*`);
    if (keys.length) await r.del(...keys);
  } finally {
    r.disconnect();
  }
}

/**
 * Starts a separate worker process (the built apps/worker) on a test gateway's database and
 * queue: for crash and cross-process tests. `npm test` builds before running.
 */
export function spawnWorker(gw: TestGateway, env: Record<string, string> = {}): ChildProcess {
  const main = path.join(repoRoot(), 'apps/worker/dist/main.js');
  if (!existsSync(main)) throw new Error(`${main} is missing: run npm run build (npm test does)`);
  const child = spawn(process.execPath, [main], {
    env: { PATH: process.env.PATH ?? '', ...gw.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (d) => (err = (err + d.toString()).slice(-4000)));
  child.on('exit', (code, signal) => {
    if (code && code !== 0 && signal !== 'SIGKILL') process.stderr.write(`[testkit] worker exited ${code}: ${err}\n`);
  });
  return child;
}
