/**
 * Infra settings of one cluster: the gateway's configuration (env, parsed and validated by
 * @ccg/config at boot) combined with the cluster entry's `config` (publicHostname, useGateway,
 * policy settings, intervals, `infra.rollbackOnFailure`).
 */
import { createHash } from 'node:crypto';
import { GatewayError, InputError, type JsonObject } from '@ccg/contracts';

/** Same shape as @ccg/config's InfraConfig (kept structural so this package need not depend on config). */
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
  allowKubeconfigExec: boolean;
  images: InfraImages;
  namespaces: { metrics: string; controllers: string };
  nodePorts: InfraNodePorts;
  globalServices: Record<string, string>;
  stepTimeoutMs: number;
  deleteTimeoutMs: number;
  pollInitialMs: number;
  pollMaxMs: number;
  requestTimeoutMs: number;
  rollbackOnFailure: boolean;
  ingressClassName: string;
  ingressPort: number;
}

/** GLOBAL_SERVICES_MAP keys creation needs (reference §9.2); a missing one fails before anything is applied. */
export const REQUIRED_GLOBAL_SERVICES = [
  'global_block_metrics_redis_host',
  'global_cluster_metrics_redis_host',
  'global_vdag_metrics_redis_host',
  'policy_db_url',
  'blocks_db_url',
  'cluster_db_url',
  'vdag_db_url',
  'vdag_controller_db_url',
] as const;

export type Exposure = 'nodeport' | 'ingress';

/** Label keys and values on every object the gateway creates. */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'cluster-controller-gateway';
export const CLUSTER_ID_LABEL = 'aios.cluster-id';
/** The real cluster id, in case the label value had to be hashed. */
export const CLUSTER_ID_ANNOTATION = 'aios.cluster-id';

export interface InfraSettings extends Omit<InfraConfig, 'globalServices'> {
  clusterId: string;
  /** The cluster id as a label value (hashed if it is not a valid one). */
  clusterLabel: string;
  /** The cluster id as the start of DNS-1035 object names (`<slug>-controller`). */
  clusterSlug: string;
  globals: Record<string, string>;
  exposure: Exposure;
  /** Required for creation (the urlMap is built from it); removal works without it. */
  publicHostname?: string;
  cluster: {
    policyExecutorId: string;
    policyExecutionMode: string;
    actionsPolicyMap: JsonObject;
    collectIntervalSeconds: number;
    writeIntervalSeconds: number;
  };
}

const hash = (s: string, n: number) => createHash('sha256').update(s).digest('hex').slice(0, n);

const LABEL_VALUE = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/;

/** A valid label value for the id: itself when it is one, otherwise a stable hash. */
export function clusterLabelValue(id: string): string {
  return LABEL_VALUE.test(id) ? id : `h-${hash(id, 40)}`;
}

/**
 * The id as a name prefix valid for every kind (Service names are DNS-1035 labels of at most
 * 63 characters, and `-controller-svc` follows). Ids that already fit are kept as they are, so
 * `<id>-controller-svc` is the name the AIOS controller itself expects; others get a hash suffix.
 */
export function clusterSlug(id: string): string {
  if (/^[a-z]([a-z0-9-]{0,38}[a-z0-9])?$/.test(id)) return id;
  let s = id.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/-+/g, '-').replace(/^-+|-+$/g, '');
  if (!/^[a-z]/.test(s)) s = `c${s}`;
  return `${s.slice(0, 30).replace(/-+$/, '')}-${hash(id, 8)}`;
}

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

function positiveSeconds(v: unknown, def: number): number {
  const n = typeof v === 'string' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : def;
}

const HOSTNAME = /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const IPV6 = /^\[[0-9a-fA-F:.]+\]$/;

/**
 * The settings for one cluster. `cluster` is the cluster entry (as the registry returns it).
 * The cluster's `config.infra.rollbackOnFailure` (boolean) overrides INFRA_ROLLBACK_ON_FAILURE.
 */
export function resolveInfraSettings(config: InfraConfig, cluster: JsonObject): InfraSettings {
  const id = String(cluster.id);
  const c = isObject(cluster.config) ? cluster.config : {};
  const infra = isObject(c.infra) ? c.infra : {};
  const { globalServices, ...rest } = config;
  const host = typeof c.publicHostname === 'string' && c.publicHostname.trim() !== '' ? c.publicHostname.trim() : undefined;
  return {
    ...rest,
    clusterId: id,
    clusterLabel: clusterLabelValue(id),
    clusterSlug: clusterSlug(id),
    globals: { ...globalServices },
    exposure: c.useGateway === true ? 'ingress' : 'nodeport',
    publicHostname: host,
    rollbackOnFailure: typeof infra.rollbackOnFailure === 'boolean' ? infra.rollbackOnFailure : config.rollbackOnFailure,
    cluster: {
      policyExecutorId: typeof c.policyExecutorId === 'string' ? c.policyExecutorId : '',
      policyExecutionMode: typeof c.policyExecutionMode === 'string' && c.policyExecutionMode !== '' ? c.policyExecutionMode : 'local',
      actionsPolicyMap: isObject(c.actionsPolicyMap) ? c.actionsPolicyMap : {},
      collectIntervalSeconds: positiveSeconds(c.clusterMetricsCollectInterval, 30),
      writeIntervalSeconds: positiveSeconds(c.clusterMetricsWriteInterval, 30),
    },
  };
}

/**
 * What creation needs before it applies anything: a public hostname for the urlMap and the
 * GLOBAL_SERVICES_MAP entries the cluster components are configured with. The API can call it
 * to answer 400 before submitting; the task calls it again before step a.
 */
export function checkCreatePrerequisites(s: InfraSettings): void {
  if (!s.publicHostname) {
    throw new InputError(`cluster ${s.clusterId} has no config.publicHostname: infra creation builds the cluster's public URLs from it; set it with PATCH /clusters/update/${s.clusterId} {"config.publicHostname": "<host or IP>"}`, { field: 'config.publicHostname' });
  }
  if (!HOSTNAME.test(s.publicHostname) && !IPV6.test(s.publicHostname)) {
    throw new InputError(`cluster ${s.clusterId} config.publicHostname "${s.publicHostname}" must be a bare host name or IP address (no scheme, port or path)`, { field: 'config.publicHostname' });
  }
  const missing = REQUIRED_GLOBAL_SERVICES.filter((k) => !s.globals[k]);
  if (missing.length > 0) {
    // The operator's configuration, not the request, is wrong: 500 with a code that says so.
    throw new GatewayError(500, 'INFRA_NOT_CONFIGURED', `the gateway's GLOBAL_SERVICES_MAP lacks ${missing.join(', ')}: cluster components need these public addresses of the management services (docs/ARCHITECTURE.md "Cluster infrastructure")`, { variable: 'GLOBAL_SERVICES_MAP', missing });
  }
}
