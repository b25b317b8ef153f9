/**
 * Every environment variable the gateway reads, parsed and validated once at boot.
 * A bad value throws ConfigError naming the variable; entry points print it and exit.
 */
export class ConfigError extends Error {
  constructor(readonly variable: string, problem: string) {
    super(`configuration error: ${variable} ${problem}`);
    this.name = 'ConfigError';
  }
}

import { actionMapSchema, validate, type JsonObject } from '@ccg/contracts';

export type QueueBackend = 'redis' | 'postgres';

/** Authentication of the external listener (docs/AUTH.md). */
export interface AuthConfig {
  /** AUTH_DISABLED=true: every route open (trusted in-cluster use); a warning at every start. */
  disabled: boolean;
  /** GATEWAY_ADMIN_TOKEN: the token of the first admin key, ensured at every start. */
  adminToken?: string;
}

export interface Config {
  /** External listener port. @defaultValue 5000 */
  port: number;
  host: string;
  /** Internal listener (management services, no tokens); unset: none. */
  internalPort?: number;
  internalHost: string;
  /** On SIGTERM, requests in flight get this long before their connections are closed. */
  httpDrainMs: number;
  auth: AuthConfig;
  /** Unset: the zero-setup launcher starts an embedded Postgres under dataDir. */
  databaseUrl?: string;
  /** Unset: BullMQ runs on its Postgres backend in the gateway's database. */
  redisUrl?: string;
  queueBackend: QueueBackend;
  /** Queue key prefix; on Redis it is wrapped in a hash tag so Redis Cluster keeps a queue on one slot. */
  queuePrefix: string;
  dataDir: string;
  logLevel: string;
  /** Longest wait of a log line in stdout's write batch (LOG_FLUSH_MS); 0: every line at once. */
  logFlushMs: number;
  bodyLimitBytes: number;
  /** 32-byte key (base64 or hex) that encrypts secrets inside queued job payloads. */
  encryptionKey?: Buffer;
  worker: {
    concurrency: number;
    lockDurationMs: number;
    stalledIntervalMs: number;
    maxStalledCount: number;
    attempts: number;
    backoffMs: number;
    /** On SIGTERM, running tasks get this long to finish before they are handed back to the queue. */
    shutdownGraceMs: number;
    /** A separate worker process serves `GET /metrics` and `/healthz` here (WORKER_METRICS_PORT); unset: not served. */
    metricsPort?: number;
  };
  reconciler: {
    intervalMs: number;
    /** A pending task older than this with no job in the queue is enqueued again. */
    pendingGraceMs: number;
  };
  taskRetentionMs: number;
  clusterClient: {
    /** Time limit of a call to a cluster's services. */
    timeoutMs: number;
    /** Time limit of the slow controller actions (create_block, remove_block sleep upstream). */
    longTimeoutMs: number;
  };
  metrics: {
    /** How often the worker pulls metrics from clusters with a metrics service (0: never). */
    pullIntervalMs: number;
    /** Metrics older than this are served with `stale: true`. */
    staleAfterMs: number;
    /** History entries kept per cluster. */
    historyLimit: number;
  };
  placement: {
    /** Candidates the placement filter passes on, best first by the built-in ranking (a clusterAllocator rule's `filter_result`). */
    candidateLimit: number;
  };
  policy: {
    /** The spec's CLUSTER_CONTROLLER_GATEWAY_ACTIONS_MAP: action -> rule URI or options. */
    actionsMap: JsonObject;
    /** Default per-evaluation time limit. */
    timeoutMs: number;
    jsMemoryLimitBytes: number;
    /** Worker threads running JS rules (QuickJS blocks the thread it runs on). */
    jsThreads: number;
    pythonWorkers: number;
    pythonPath: string;
    /** The AIOS policies system, for rule URIs not registered in the gateway. */
    policyDbUrl?: string;
  };
  /** Cluster infrastructure creation/removal on target clusters (packages/kube). */
  infra: InfraConfig;
}

/** Images of the objects infra creation applies (docs/ARCHITECTURE.md "Cluster infrastructure"). */
export interface InfraImages {
  metricsDb: string;
  metricsWriter: string;
  metricsRedis: string;
  metricsCollector: string;
  controllerRedis: string;
  infra: string;
  blockTransactions: string;
  parameterUpdater: string;
  monitor: string;
  health: string;
  membershipServer: string;
  grpcProxy: string;
}

/** NodePorts of NodePort exposure (and the grpc proxy in both modes). */
export interface InfraNodePorts {
  controller: number;
  metricsWriter: number;
  blockTransactions: number;
  parameterUpdater: number;
  monitor: number;
  health: number;
  membershipServer: number;
  grpcProxy: number;
}

export interface InfraConfig {
  /** Allow kubeconfig `exec` / `auth-provider` commands and file paths (they run on the worker). */
  allowKubeconfigExec: boolean;
  images: InfraImages;
  namespaces: { metrics: string; controllers: string };
  nodePorts: InfraNodePorts;
  /** Public addresses of the management services handed to cluster components (the original's GLOBAL_SERVICES_MAP). */
  globalServices: Record<string, string>;
  /** Readiness wait limit of one creation step. */
  stepTimeoutMs: number;
  /** How long removal waits for an object to disappear before deleting it with gracePeriodSeconds 0. */
  deleteTimeoutMs: number;
  /** Readiness/deletion polling: first delay, doubled up to the max. */
  pollInitialMs: number;
  pollMaxMs: number;
  /** Time limit of one Kubernetes API request. */
  requestTimeoutMs: number;
  /** A failed creation removes what it created (a cluster's `config.infra.rollbackOnFailure` overrides). */
  rollbackOnFailure: boolean;
  /** Ingress exposure (`config.useGateway: true`): class and the public port of the ingress controller. */
  ingressClassName: string;
  ingressPort: number;
}
type Env = Record<string, string | undefined>;

function str(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

function int(env: Env, name: string, def: number, min: number, max: number): number {
  const raw = str(env, name);
  if (raw === undefined) return def;
  if (!/^-?\d+$/.test(raw)) throw new ConfigError(name, `must be an integer, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${n}`);
  return n;
}

function url(env: Env, name: string, protocols: string[]): string | undefined {
  const raw = str(env, name);
  if (raw === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(name, 'is not a valid URL');
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(name, `must use ${protocols.join(' or ')} (got ${parsed.protocol})`);
  }
  return raw;
}

function bytes(env: Env, name: string, def: number): number {
  const raw = str(env, name);
  if (raw === undefined) return def;
  const m = /^(\d+)\s*(b|kb|mb)?$/i.exec(raw);
  if (!m) throw new ConfigError(name, `must be a size such as 1mb or 512kb, got "${raw}"`);
  const unit = (m[2] ?? 'b').toLowerCase();
  const n = Number(m[1]) * (unit === 'mb' ? 1024 * 1024 : unit === 'kb' ? 1024 : 1);
  if (n < 1024 || n > 64 * 1024 * 1024) throw new ConfigError(name, 'must be between 1kb and 64mb');
  return n;
}

function key(env: Env, name: string): Buffer | undefined {
  const raw = str(env, name);
  if (raw === undefined) return undefined;
  const buf = /^[0-9a-fA-F]{64}$/.test(raw) ? Buffer.from(raw, 'hex') : Buffer.from(raw, 'base64');
  if (buf.length !== 32) throw new ConfigError(name, 'must be 32 bytes, as 64 hex digits or base64');
  return buf;
}

function bool(env: Env, name: string, def: boolean): boolean {
  const raw = str(env, name);
  if (raw === undefined) return def;
  if (/^(true|1|yes)$/i.test(raw)) return true;
  if (/^(false|0|no)$/i.test(raw)) return false;
  throw new ConfigError(name, `must be true or false, got "${raw}"`);
}

function jsonObject(env: Env, name: string): Record<string, unknown> | undefined {
  const raw = str(env, name);
  if (raw === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    throw new ConfigError(name, `is not valid JSON (${(err as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ConfigError(name, 'must be a JSON object');
  return parsed as Record<string, unknown>;
}

/** Image references: registry host (optionally :port), path, and a tag or digest. */
const IMAGE_REF = /^[a-z0-9]([a-z0-9._:/-]*[a-z0-9])?(:[\w][\w.-]{0,127})?(@sha256:[a-f0-9]{64})?$/i;

function image(env: Env, name: string, def: string): string {
  const v = str(env, name) ?? def;
  if (v.includes('://') || !IMAGE_REF.test(v) || v.length > 512) throw new ConfigError(name, `is not an image reference, got "${v}"`);
  return v;
}

const DNS_LABEL = /^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;

function namespace(env: Env, name: string, def: string): string {
  const v = str(env, name) ?? def;
  if (!DNS_LABEL.test(v)) throw new ConfigError(name, `must be a Kubernetes namespace name (lowercase DNS label), got "${v}"`);
  return v;
}

const NODE_PORT_DEFAULTS: InfraNodePorts = {
  controller: 32300,
  metricsWriter: 32301,
  blockTransactions: 32302,
  parameterUpdater: 32303,
  monitor: 32304,
  health: 32305,
  membershipServer: 30501,
  grpcProxy: 32000,
};

function nodePorts(env: Env): InfraNodePorts {
  const ports = { ...NODE_PORT_DEFAULTS };
  const overrides = jsonObject(env, 'INFRA_NODE_PORTS') ?? {};
  for (const [k, v] of Object.entries(overrides)) {
    if (!(k in ports)) throw new ConfigError('INFRA_NODE_PORTS', `has an unknown key "${k}" (known: ${Object.keys(ports).join(', ')})`);
    if (!Number.isInteger(v) || (v as number) < 30000 || (v as number) > 32767) throw new ConfigError('INFRA_NODE_PORTS', `${k} must be an integer NodePort between 30000 and 32767`);
    ports[k as keyof InfraNodePorts] = v as number;
  }
  // The original's two single-port variables still work.
  ports.membershipServer = int(env, 'MEMBERSHIP_NODE_PORT', ports.membershipServer, 30000, 32767);
  ports.grpcProxy = int(env, 'GRPC_PROXY_NODE_PORT', ports.grpcProxy, 30000, 32767);
  const seen = new Map<number, string>();
  for (const [k, v] of Object.entries(ports)) {
    if (seen.has(v)) throw new ConfigError('INFRA_NODE_PORTS', `gives ${seen.get(v)} and ${k} the same NodePort ${v}`);
    seen.set(v, k);
  }
  return ports;
}

function globalServices(env: Env): Record<string, string> {
  const map = jsonObject(env, 'GLOBAL_SERVICES_MAP') ?? {};
  for (const [k, v] of Object.entries(map)) {
    if (typeof v !== 'string') throw new ConfigError('GLOBAL_SERVICES_MAP', `value of "${k}" must be a string`);
  }
  return map as Record<string, string>;
}

/**
 * Default images: the AIOS cluster images under INFRA_IMAGE_REGISTRY (the original pulled them
 * from an HTTP registry by IP; point this at the registry that holds them), plus public mongo
 * and redis. Every image can be set on its own with the original's variable names.
 */
function infraImages(env: Env): InfraImages {
  const registry = str(env, 'INFRA_IMAGE_REGISTRY') ?? 'ghcr.io/opencyberspace/aios';
  if (registry.includes('://') || !/^[a-z0-9]([a-z0-9._:/-]*[a-z0-9])?$/i.test(registry)) throw new ConfigError('INFRA_IMAGE_REGISTRY', `is not a registry/path prefix (no scheme), got "${registry}"`);
  const aios = (path: string) => `${registry}/${path}:latest`;
  return {
    metricsDb: image(env, 'INFRA_METRICS_DB_IMAGE', 'mongo:7.0'),
    metricsWriter: image(env, 'METRICS_WRITER_SERVICE_IMAGE_NAME', aios('cluster/metrics')),
    metricsRedis: image(env, 'INFRA_REDIS_IMAGE', 'redis:7.2-alpine'),
    metricsCollector: image(env, 'METRICS_DAEMONSET_IMAGE_NAME', aios('cluster/daemon')),
    controllerRedis: image(env, 'INFRA_REDIS_IMAGE', 'redis:7.2-alpine'),
    infra: image(env, 'INFRA_CONTAINER_IMAGE_NAME', aios('cluster/infra')),
    blockTransactions: image(env, 'BLOCK_TRANSACTIONS_CONTAINER_IMAGE_NAME', aios('cluster/block-tx')),
    parameterUpdater: image(env, 'PARAMETER_UPDATER_CONTAINER_IMAGE_NAME', aios('cluster/parameter-updater')),
    monitor: image(env, 'CLUSTER_MONITOR_CONTAINER_IMAGE_NAME', aios('cluster/monitor')),
    health: image(env, 'HEALTH_CHECKER_CONTAINER_IMAGE_NAME', aios('cluster/stability-checker')),
    membershipServer: image(env, 'MEMBERSHIP_SERVER_IMAGE', aios('cluster/membership')),
    grpcProxy: image(env, 'GRPC_PROXY_IMAGE', aios('cluster/rpc')),
  };
}

function infraConfig(env: Env): InfraConfig {
  const pollInitialMs = int(env, 'INFRA_POLL_INITIAL_MS', 250, 10, 60_000);
  const pollMaxMs = int(env, 'INFRA_POLL_MAX_MS', 5_000, 10, 300_000);
  if (pollMaxMs < pollInitialMs) throw new ConfigError('INFRA_POLL_MAX_MS', `must be at least INFRA_POLL_INITIAL_MS (${pollInitialMs})`);
  const metrics = namespace(env, 'INFRA_METRICS_NAMESPACE', 'metrics');
  const controllers = namespace(env, 'INFRA_CONTROLLERS_NAMESPACE', 'controllers');
  if (metrics === controllers) throw new ConfigError('INFRA_CONTROLLERS_NAMESPACE', 'must differ from INFRA_METRICS_NAMESPACE');
  return {
    allowKubeconfigExec: bool(env, 'ALLOW_KUBECONFIG_EXEC', false),
    images: infraImages(env),
    namespaces: { metrics, controllers },
    nodePorts: nodePorts(env),
    globalServices: globalServices(env),
    stepTimeoutMs: int(env, 'INFRA_STEP_TIMEOUT_MS', 300_000, 100, 3_600_000),
    deleteTimeoutMs: int(env, 'INFRA_DELETE_TIMEOUT_MS', 60_000, 100, 3_600_000),
    pollInitialMs,
    pollMaxMs,
    requestTimeoutMs: int(env, 'INFRA_REQUEST_TIMEOUT_MS', 30_000, 100, 600_000),
    rollbackOnFailure: bool(env, 'INFRA_ROLLBACK_ON_FAILURE', true),
    ingressClassName: (() => {
      const v = str(env, 'INFRA_INGRESS_CLASS') ?? 'nginx';
      if (!/^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/.test(v)) throw new ConfigError('INFRA_INGRESS_CLASS', `is not an IngressClass name, got "${v}"`);
      return v;
    })(),
    ingressPort: int(env, 'INFRA_INGRESS_PORT', 80, 1, 65535),
  };
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], def: T): T {
  const raw = str(env, name);
  if (raw === undefined) return def;
  if (!allowed.includes(raw as T)) throw new ConfigError(name, `must be one of ${allowed.join(', ')}, got "${raw}"`);
  return raw as T;
}

function actionsMap(env: Env, name: string): JsonObject {
  const raw = str(env, name);
  if (raw === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    throw new ConfigError(name, `is not valid JSON (${(err as Error).message})`);
  }
  try {
    return validate<JsonObject>(actionMapSchema(false), parsed, name);
  } catch (err) {
    throw new ConfigError(name, (err as Error).message.replace(/^invalid [A-Z_]+: /, 'is invalid: '));
  }
}

function authConfig(env: Env): AuthConfig {
  const adminToken = str(env, 'GATEWAY_ADMIN_TOKEN');
  if (adminToken !== undefined && !/^[\x21-\x7e]{24,512}$/.test(adminToken)) {
    throw new ConfigError('GATEWAY_ADMIN_TOKEN', 'must be 24-512 visible ASCII characters (e.g. openssl rand -base64 32)');
  }
  return { disabled: bool(env, 'AUTH_DISABLED', false), adminToken };
}

function internalPort(env: Env, port: number): number | undefined {
  if (str(env, 'INTERNAL_PORT') === undefined) return undefined;
  const p = int(env, 'INTERNAL_PORT', 0, 0, 65535);
  if (p !== 0 && p === port) throw new ConfigError('INTERNAL_PORT', `must differ from PORT (${port})`);
  return p;
}

/** LOG_FLUSH_MS default: log lines reach stdout within a fifth of a second. */
export const DEFAULT_LOG_FLUSH_MS = 200;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export function loadConfig(env: Env = process.env): Config {
  const redisUrl = url(env, 'REDIS_URL', ['redis:', 'rediss:']);
  const prefix = str(env, 'QUEUE_PREFIX') ?? 'ccg';
  if (!/^[a-zA-Z0-9_-]{1,40}$/.test(prefix)) throw new ConfigError('QUEUE_PREFIX', 'must be 1-40 letters, digits, _ or -');
  const port = int(env, 'PORT', 5000, 0, 65535);
  const host = str(env, 'HOST') ?? '0.0.0.0';
  return {
    port,
    host,
    internalPort: internalPort(env, port),
    internalHost: str(env, 'INTERNAL_HOST') ?? host,
    httpDrainMs: int(env, 'HTTP_DRAIN_MS', 10_000, 0, 600_000),
    auth: authConfig(env),
    databaseUrl: url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']),
    redisUrl,
    queueBackend: redisUrl ? 'redis' : 'postgres',
    queuePrefix: prefix,
    dataDir: str(env, 'DATA_DIR') ?? '.data',
    logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    logFlushMs: int(env, 'LOG_FLUSH_MS', DEFAULT_LOG_FLUSH_MS, 0, 10_000),
    bodyLimitBytes: bytes(env, 'BODY_LIMIT', 1024 * 1024),
    encryptionKey: key(env, 'KUBECONFIG_ENCRYPTION_KEY'),
    worker: {
      concurrency: int(env, 'WORKER_CONCURRENCY', 8, 1, 1000),
      lockDurationMs: int(env, 'JOB_LOCK_DURATION_MS', 30_000, 500, 3_600_000),
      stalledIntervalMs: int(env, 'JOB_STALLED_INTERVAL_MS', 30_000, 500, 3_600_000),
      maxStalledCount: int(env, 'JOB_MAX_STALLED_COUNT', 5, 0, 1000),
      attempts: int(env, 'JOB_ATTEMPTS', 3, 1, 100),
      backoffMs: int(env, 'JOB_BACKOFF_MS', 1_000, 0, 3_600_000),
      shutdownGraceMs: int(env, 'WORKER_SHUTDOWN_GRACE_MS', 20_000, 0, 3_600_000),
      metricsPort: str(env, 'WORKER_METRICS_PORT') === undefined ? undefined : int(env, 'WORKER_METRICS_PORT', 0, 0, 65535),
    },
    reconciler: {
      intervalMs: int(env, 'RECONCILE_INTERVAL_MS', 30_000, 100, 86_400_000),
      pendingGraceMs: int(env, 'RECONCILE_PENDING_GRACE_MS', 60_000, 0, 86_400_000),
    },
    taskRetentionMs: int(env, 'TASK_RETENTION_HOURS', 24 * 7, 1, 24 * 3650) * 3_600_000,
    clusterClient: {
      timeoutMs: int(env, 'CLUSTER_CLIENT_TIMEOUT_MS', 10_000, 50, 600_000),
      longTimeoutMs: int(env, 'CLUSTER_CLIENT_LONG_TIMEOUT_MS', 120_000, 50, 3_600_000),
    },
    metrics: {
      pullIntervalMs: int(env, 'METRICS_PULL_INTERVAL_MS', 30_000, 0, 86_400_000),
      staleAfterMs: int(env, 'METRICS_STALE_AFTER_MS', 120_000, 1_000, 86_400_000),
      historyLimit: int(env, 'METRICS_HISTORY_LIMIT', 100, 1, 100_000),
    },
    placement: {
      candidateLimit: int(env, 'PLACEMENT_CANDIDATE_LIMIT', 100, 1, 10_000),
    },
    policy: {
      actionsMap: actionsMap(env, 'CLUSTER_CONTROLLER_GATEWAY_ACTIONS_MAP'),
      timeoutMs: int(env, 'POLICY_TIMEOUT_MS', 1_000, 1, 60_000),
      jsMemoryLimitBytes: int(env, 'POLICY_JS_MEMORY_MB', 32, 4, 1024) * 1024 * 1024,
      jsThreads: int(env, 'POLICY_JS_THREADS', 2, 1, 64),
      pythonWorkers: int(env, 'POLICY_PYTHON_WORKERS', 2, 1, 64),
      pythonPath: str(env, 'POLICY_PYTHON') ?? 'python3',
      policyDbUrl: url(env, 'POLICY_DB_URL', ['http:', 'https:']),
    },
    infra: infraConfig(env),
  };
}
