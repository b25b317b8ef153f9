import { randomBytes } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Server } from 'node:http';
import { Redis } from 'ioredis';
import { loadConfig, type Config } from '@ccg/config';
import { connectDb, migrateToLatest, type DbHandle } from '@ccg/db';
import { createApp, createAuth, createServices, listen, type AuthSystem, type Services } from '@ccg/api';
import { startWorker, type WorkerHandle } from '@ccg/worker';
import { createCatalogue, createLogger, queueConnection } from '@ccg/runtime';
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
  /** Where the gateway's log lines go (with `env: {LOG_LEVEL: ...}`); stdout by default. */
  logDestination?: { write(line: string): void };
  /** Start with AUTH_DISABLED=true (every route open, as the spec's scripts expect). @defaultValue false */
  authDisabled?: boolean;
  /** Also start the internal listener (INTERNAL_PORT) on a free port: `internalUrl`, `internalRequest`. */
  internal?: boolean;
}

/** A key made through POST /auth/keys. */
export interface TestKey {
  id: string;
  name: string;
  role: string;
  token: string;
  /** `{Authorization: Bearer <token>}` */
  headers: Record<string, string>;
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
  /**
   * A request to the external listener with the admin token attached, unless `headers` has its
   * own Authorization (an empty one sends none).
   */
  request<T = any>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<HttpResult<T>>;
  /** A request with this token (null: without any). */
  requestAs<T = any>(token: string | null, method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<HttpResult<T>>;
  /** The admin token (GATEWAY_ADMIN_TOKEN of this gateway; replicas share it). */
  adminToken: string;
  /** `{Authorization: Bearer <admin token>}` for raw fetch calls. */
  authHeaders: Record<string, string>;
  /** A new key of this role (name defaults to `<role>-<random>`). */
  createKey(role: string, name?: string): Promise<TestKey>;
  auth: AuthSystem;
  /** With `internal: true`: the internal listener (no tokens; only the management services' routes). */
  internalUrl?: string;
  internalRequest<T = any>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<HttpResult<T>>;
  close(): Promise<void>;
}

/** Headers with the token as a bearer, unless the caller set Authorization itself ('' = none). */
function withToken(token: string | null, headers: Record<string, string> = {}): Record<string, string> {
  const own = Object.keys(headers).find((k) => k.toLowerCase() === 'authorization');
  if (own !== undefined) {
    if (headers[own] !== '') return headers;
    const { [own]: _dropped, ...rest } = headers;
    return rest;
  }
  return token ? { ...headers, Authorization: `Bearer ${token}` } : headers;
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
    GATEWAY_ADMIN_TOKEN: `ccg_test_${randomBytes(24).toString('base64url')}`,
    ...(opts.authDisabled ? { AUTH_DISABLED: 'true' } : {}),
    ...(backend === 'redis' ? { REDIS_URL: redisUrl! } : {}),
    ...opts.replicaOf?.env,
    ...opts.env,
  };
  const config = loadConfig(env);
  const log = createLogger(config, 'ccg', opts.logDestination);
  const db = await connectDb({ connectionString: baseUrl, schema, max: 10 });
  await migrateToLatest(db.db);
  const queues = new QueueBackend(queueConnection(config, baseUrl));
  const catalogue = createCatalogue();
  const policy = await createPolicySystem(env.DATABASE_URL, config.policy, log);
  const services = createServices(db.db, queues, catalogue, config, policy);
  await queues.warmUp(catalogue.lanes());
  const worker =
    opts.worker === false
      ? undefined
      : startWorker(db.db, queues, createCatalogue, config, log, undefined, policy, { onJobEnd: services.telemetry.observeJob, onUpstreamCall: services.telemetry.observeUpstream });
  const auth = await createAuth(db.db, env.DATABASE_URL, config.auth, log);
  const app = createApp(services, { bodyLimitBytes: config.bodyLimitBytes, log, auth });
  const server: Server = await listen(app, 0, '127.0.0.1');
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const internalServer = opts.internal ? await listen(createApp(services, { bodyLimitBytes: config.bodyLimitBytes, log, auth, listener: 'internal' }), 0, '127.0.0.1') : undefined;
  const internalUrl = internalServer ? `http://127.0.0.1:${(internalServer.address() as { port: number }).port}` : undefined;
  const adminToken = config.auth.adminToken!;
  const request = (token: string | null, method: string, p: string, body?: unknown, headers?: Record<string, string>) => http(url, method, p, body, withToken(token, headers));
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
    request: (method, p, body, headers) => request(adminToken, method, p, body, headers),
    requestAs: (token, method, p, body, headers) => request(token, method, p, body, headers),
    adminToken,
    authHeaders: { Authorization: `Bearer ${adminToken}` },
    async createKey(role, name) {
      const res = await request(adminToken, 'POST', '/auth/keys', { name: name ?? `${role}-${randomBytes(4).toString('hex')}`, role });
      if (res.status !== 201) throw new Error(`could not create a ${role} key: ${res.status} ${res.text}`);
      const k = res.body.data;
      return { id: k.id, name: k.name, role: k.role, token: k.token, headers: { Authorization: `Bearer ${k.token}` } };
    },
    auth,
    internalUrl,
    internalRequest(method, p, body, headers) {
      if (!internalUrl) throw new Error('start the test gateway with {internal: true} for the internal listener');
      return http(internalUrl, method, p, body, headers);
    },
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      internalServer?.closeAllConnections();
      if (internalServer) await new Promise((r) => internalServer.close(r));
      await auth.close();
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
