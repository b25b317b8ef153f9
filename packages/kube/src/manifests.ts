/**
 * Pure builders of the objects infra creation applies, per step (reference §3.3, bugs fixed):
 * every Service has ports; the metrics writer's Redis (6379) is reachable in-cluster only;
 * public exposure lives in separate objects of step e (NodePort Services, or Ingresses with
 * `config.useGateway`); no cluster-admin for default service accounts, only dedicated service
 * accounts with the permissions their components use; readiness probes on every workload;
 * every object labelled with the manager and the cluster id.
 */
import type { JsonObject } from '@ccg/contracts';
import {
  CLUSTER_ID_ANNOTATION,
  CLUSTER_ID_LABEL,
  MANAGED_BY,
  MANAGED_BY_LABEL,
  type InfraSettings,
} from './settings.js';

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

/** The identity of an object: what teardown and reports need. */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
}

export const refOf = (o: KubeObject): ObjectRef => ({
  apiVersion: o.apiVersion,
  kind: o.kind,
  ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}),
  name: o.metadata.name,
});

/** `Deployment controllers/x-controller`, `Namespace metrics`. */
export const describeRef = (r: ObjectRef): string => `${r.kind} ${r.namespace ? `${r.namespace}/` : ''}${r.name}`;

/** Creation steps, the spec's a–f. */
export const CREATION_STEPS = ['metrics-db', 'metrics-services', 'metrics-collector', 'cluster-controller', 'exposure', 'url-map'] as const;
/** Removal steps: the exact reverse. */
export const REMOVAL_STEPS = ['exposure', 'cluster-controller', 'metrics-collector', 'metrics-services', 'metrics-db', 'url-map'] as const;
export type ObjectStep = Exclude<(typeof CREATION_STEPS)[number], 'url-map'>;
export const OBJECT_STEPS: readonly ObjectStep[] = ['metrics-db', 'metrics-services', 'metrics-collector', 'cluster-controller', 'exposure'];

/** Ports of the components (reference §9.3). */
export const PORTS = {
  mongo: 27017,
  metricsWriter: 5000,
  redis: 6379,
  collector: 9999,
  infra: 4000,
  blockTransactions: 7500,
  parameterUpdater: 10000,
  monitor: 8500,
  health: 5555,
  membership: 8080,
  grpcProxy: 9000,
} as const;

export const KUBE_SYSTEM = 'kube-system';

/** Names of the objects for one cluster (reference names where they are part of AIOS's conventions). */
export function objectNames(s: InfraSettings) {
  return {
    metricsDb: 'cluster-metrics',
    metricsDbSvc: 'cluster-metrics-svc',
    metricsWriter: 'metrics-writer',
    metricsWriterSvc: 'metrics-writer-svc',
    metricsWriterPublic: 'metrics-writer-public',
    collector: 'metrics-collector',
    controller: `${s.clusterSlug}-controller`,
    controllerSvc: `${s.clusterSlug}-controller-svc`,
    controllerPublic: `${s.clusterSlug}-controller-public`,
    controllerAccount: 'aios-cluster-controller',
    membership: 'membership-server',
    membershipSvc: 'membership-server-svc',
    membershipPublic: 'membership-server-public',
    membershipAccount: 'aios-membership-server',
    bootstrapRole: 'bootstrap-token-writer',
    bootstrapBinding: 'bootstrap-token-writer-binding',
    grpcProxy: 'grpc-proxy',
    grpcProxySvc: 'grpc-proxy',
    grpcProxyPublic: 'grpc-proxy-public',
    controllersIngress: 'aios-cluster-gateway',
    metricsIngress: 'aios-metrics-gateway',
  };
}

/** In-cluster addresses the components are configured with. */
export function inClusterUrls(s: InfraSettings) {
  const n = objectNames(s);
  const metricsHost = `${n.metricsWriterSvc}.${s.namespaces.metrics}.svc.cluster.local`;
  return {
    metricsService: `http://${metricsHost}:${PORTS.metricsWriter}`,
    metricsRedisHost: metricsHost,
    mongo: `mongodb://${n.metricsDbSvc}.${s.namespaces.metrics}.svc.cluster.local:${PORTS.mongo}/metrics`,
  };
}

function labels(s: InfraSettings, app?: string): Record<string, string> {
  return {
    [MANAGED_BY_LABEL]: MANAGED_BY,
    [CLUSTER_ID_LABEL]: s.clusterLabel,
    'app.kubernetes.io/part-of': 'aios-cluster-infra',
    ...(app ? { app } : {}),
  };
}

function meta(s: InfraSettings, name: string, namespace?: string, app?: string): KubeObject['metadata'] {
  return {
    name,
    ...(namespace ? { namespace } : {}),
    labels: labels(s, app),
    annotations: { [CLUSTER_ID_ANNOTATION]: s.clusterId },
  };
}

const env = (vars: Record<string, string>) => Object.entries(vars).map(([name, value]) => ({ name, value }));

const tcpProbe = (port: number) => ({ tcpSocket: { port }, initialDelaySeconds: 5, periodSeconds: 5, failureThreshold: 6 });

interface ContainerSpec {
  name: string;
  image: string;
  port?: { name: string; containerPort: number };
  env?: Array<Record<string, unknown>>;
  probe?: boolean;
  args?: string[];
  extra?: JsonObject;
}

function container(c: ContainerSpec): JsonObject {
  return {
    name: c.name,
    image: c.image,
    // Tagged `latest` images must be pulled to pick up new builds; pinned ones need not be.
    imagePullPolicy: /:latest$|^[^:]+$/.test(c.image.replace(/^[^/]+\//, '')) ? 'Always' : 'IfNotPresent',
    ...(c.args ? { args: c.args } : {}),
    ...(c.port ? { ports: [{ name: c.port.name, containerPort: c.port.containerPort, protocol: 'TCP' }] } : {}),
    ...(c.env?.length ? { env: c.env } : {}),
    ...(c.probe && c.port ? { readinessProbe: tcpProbe(c.port.containerPort) } : {}),
    ...c.extra,
  } as JsonObject;
}

function deployment(s: InfraSettings, name: string, namespace: string, podSpec: JsonObject): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(s, name, namespace, name),
    spec: {
      replicas: 1,
      revisionHistoryLimit: 3,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: labels(s, name), annotations: { [CLUSTER_ID_ANNOTATION]: s.clusterId } }, spec: podSpec },
    },
  };
}

function service(s: InfraSettings, name: string, namespace: string, app: string, ports: Array<{ name: string; port: number; nodePort?: number }>, type: 'ClusterIP' | 'NodePort' = 'ClusterIP'): KubeObject {
  if (ports.length === 0) throw new Error(`Service ${namespace}/${name} has no ports`);
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(s, name, namespace),
    spec: {
      type,
      selector: { app },
      ports: ports.map((p) => ({ name: p.name, port: p.port, targetPort: p.port, protocol: 'TCP', ...(type === 'NodePort' && p.nodePort ? { nodePort: p.nodePort } : {}) })),
    },
  };
}

const namespaceObject = (s: InfraSettings, name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: meta(s, name) });

/** Step a: the metrics database (MongoDB; ephemeral, as in the original) and its in-cluster Service. */
function metricsDb(s: InfraSettings): KubeObject[] {
  const n = objectNames(s);
  const ns = s.namespaces.metrics;
  return [
    namespaceObject(s, ns),
    deployment(s, n.metricsDb, ns, {
      automountServiceAccountToken: false,
      containers: [
        container({
          name: 'mongodb',
          image: s.images.metricsDb,
          port: { name: 'db', containerPort: PORTS.mongo },
          probe: true,
          extra: { volumeMounts: [{ name: 'data', mountPath: '/data/db' }] },
        }),
      ],
      volumes: [{ name: 'data', emptyDir: {} }],
    }),
    service(s, n.metricsDbSvc, ns, n.metricsDb, [{ name: 'db', port: PORTS.mongo }]),
  ];
}

/**
 * Step b: the metrics writer (reader/writer API on 5000) with the Redis the collectors push to.
 * The Service is ClusterIP: 6379 is for the collectors inside the cluster, never a NodePort.
 */
function metricsServices(s: InfraSettings): KubeObject[] {
  const n = objectNames(s);
  const ns = s.namespaces.metrics;
  const g = s.globals;
  return [
    deployment(s, n.metricsWriter, ns, {
      automountServiceAccountToken: false,
      containers: [
        container({
          name: 'metrics-writer',
          image: s.images.metricsWriter,
          port: { name: 'api', containerPort: PORTS.metricsWriter },
          probe: true,
          env: env({
            CLUSTER_ID: s.clusterId,
            BLOCK_METRICS_GLOBAL_DB_REDIS_HOST: g.global_block_metrics_redis_host ?? '',
            CLUSTER_METRICS_GLOBAL_DB_REDIS_HOST: g.global_cluster_metrics_redis_host ?? '',
            VDAG_METRICS_GLOBAL_DB_REDIS_HOST: g.global_vdag_metrics_redis_host ?? '',
            CLUSTER_METRICS_WRITE_INTERVAL: String(s.cluster.writeIntervalSeconds),
            MONGO_URL: inClusterUrls(s).mongo,
          }),
        }),
        container({ name: 'metrics-redis', image: s.images.metricsRedis, port: { name: 'redis', containerPort: PORTS.redis }, probe: true }),
      ],
    }),
    service(s, n.metricsWriterSvc, ns, n.metricsWriter, [
      { name: 'api', port: PORTS.metricsWriter },
      { name: 'redis', port: PORTS.redis },
    ]),
  ];
}

/** Step c: the per-node hardware collector. Privileged with read-only /proc and /sys, as the collector reads host counters. */
function metricsCollector(s: InfraSettings): KubeObject[] {
  const n = objectNames(s);
  const ns = s.namespaces.metrics;
  return [
    {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: meta(s, n.collector, ns, n.collector),
      spec: {
        selector: { matchLabels: { app: n.collector } },
        updateStrategy: { type: 'RollingUpdate' },
        template: {
          metadata: { labels: labels(s, n.collector), annotations: { [CLUSTER_ID_ANNOTATION]: s.clusterId } },
          spec: {
            automountServiceAccountToken: false,
            tolerations: [{ operator: 'Exists' }],
            nodeSelector: { 'kubernetes.io/os': 'linux' },
            containers: [
              container({
                name: 'metrics-collector',
                image: s.images.metricsCollector,
                port: { name: 'http', containerPort: PORTS.collector },
                probe: true,
                env: [
                  ...env({
                    CLUSTER_ID: s.clusterId,
                    COLLECT_INTERVAL: String(s.cluster.collectIntervalSeconds),
                    METRICS_REDIS_HOST: inClusterUrls(s).metricsRedisHost,
                    PORT: String(PORTS.collector),
                    NVIDIA_VISIBLE_DEVICES: 'all',
                    NVIDIA_DRIVER_CAPABILITIES: 'all',
                  }),
                  { name: 'KUBERNETES_NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
                ],
                extra: {
                  securityContext: { privileged: true },
                  volumeMounts: [
                    { name: 'proc', mountPath: '/host/proc', readOnly: true },
                    { name: 'sys', mountPath: '/host/sys', readOnly: true },
                  ],
                },
              }),
            ],
            volumes: [
              { name: 'proc', hostPath: { path: '/proc' } },
              { name: 'sys', hostPath: { path: '/sys' } },
            ],
          },
        },
      },
    },
  ];
}

/**
 * RBAC of the controller stack. The original bound cluster-admin to the `default` service
 * account of five namespaces. Here each component gets its own service account:
 * - the controller creates and scales block workloads (Deployments, Services, HPAs, gateway
 *   routes) in namespaces it creates itself (blocks, vdags, default), watches pods and labels
 *   nodes: a ClusterRole with exactly those resources, no secrets, no RBAC;
 * - the membership server labels, lists and removes nodes (drain: pods, evictions) and writes
 *   kubeadm bootstrap tokens, which are Secrets in kube-system: a ClusterRole for nodes and the
 *   reference's kube-system Role `bootstrap-token-writer` (create secrets) bound to it only.
 */
function rbac(s: InfraSettings): KubeObject[] {
  const n = objectNames(s);
  const ns = s.namespaces.controllers;
  const all = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'];
  const read = ['get', 'list', 'watch'];
  const account = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(s, name, ns) });
  const clusterRole = (name: string, rules: JsonObject[]): KubeObject => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: meta(s, name), rules });
  const clusterBinding = (name: string): KubeObject => ({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: meta(s, name),
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
    subjects: [{ kind: 'ServiceAccount', name, namespace: ns }],
  });
  return [
    account(n.controllerAccount),
    clusterRole(n.controllerAccount, [
      { apiGroups: ['apps'], resources: ['deployments', 'deployments/scale', 'replicasets', 'statefulsets', 'daemonsets'], verbs: all },
      { apiGroups: [''], resources: ['pods', 'services', 'configmaps', 'endpoints', 'persistentvolumeclaims'], verbs: all },
      { apiGroups: [''], resources: ['pods/log', 'events'], verbs: read },
      { apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'list', 'watch', 'create'] },
      { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch', 'patch'] },
      { apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers'], verbs: all },
      { apiGroups: ['gateway.networking.k8s.io'], resources: ['grpcroutes', 'httproutes'], verbs: all },
      { apiGroups: ['metrics.k8s.io'], resources: ['pods', 'nodes'], verbs: ['get', 'list'] },
    ]),
    clusterBinding(n.controllerAccount),
    account(n.membershipAccount),
    clusterRole(n.membershipAccount, [
      { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch', 'patch', 'update', 'delete'] },
      { apiGroups: [''], resources: ['pods'], verbs: read },
      { apiGroups: [''], resources: ['pods/eviction'], verbs: ['create'] },
    ]),
    clusterBinding(n.membershipAccount),
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: meta(s, n.bootstrapRole, KUBE_SYSTEM),
      rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['create'] }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: meta(s, n.bootstrapBinding, KUBE_SYSTEM),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: n.bootstrapRole },
      subjects: [{ kind: 'ServiceAccount', name: n.membershipAccount, namespace: ns }],
    },
  ];
}

/**
 * Step d: the cluster controller (one pod: redis, infra, block-transactions, parameter-updater,
 * monitor, health; configured from the cluster entry and GLOBAL_SERVICES_MAP), the membership
 * server and the gRPC proxy (the original's "controllers stack"), their in-cluster Services and
 * RBAC.
 */
function clusterController(s: InfraSettings): KubeObject[] {
  const n = objectNames(s);
  const ns = s.namespaces.controllers;
  const g = s.globals;
  const urls = inClusterUrls(s);
  const c = s.cluster;
  const infraEnv = env({
    CLUSTER_ID: s.clusterId,
    METRICS_SERVICE_URL: urls.metricsService,
    POLICY_SYSTEM_EXECUTOR_ID: c.policyExecutorId,
    CLUSTER_SERVICE_URL: g.cluster_db_url ?? '',
    BLOCKS_SERVICE_URL: g.blocks_db_url ?? '',
    VDAG_CONTROLLER_DB_URL: g.vdag_controller_db_url ?? '',
    METRICS_REDIS_HOST: urls.metricsRedisHost,
    VDAG_CONTROLLER_IMAGE_NAME: g.vdag_controller_image_name ?? '',
    VDAG_ADHOC_INFERENCE_SERVER_URL: g.vdag_adhoc_inference_server_url ?? '',
    CLUSTER_ACTIONS_MAP: JSON.stringify(c.actionsPolicyMap),
    CLUSTER_DEFAULT_POLICY_EXECUTOR: c.policyExecutorId,
    POLICY_EXECUTION_MODE: c.policyExecutionMode,
    POLICY_DB_URL: g.policy_db_url ?? '',
    VDAG_DB_API_URL: g.vdag_db_url ?? '',
    REDIS_URL: '',
    POLICY_RULE_REMOTE_URL: g.policy_db_url ?? '',
    POLICY_EXECUTOR_HOST_URL: g.policy_db_url ?? '',
    CLUSTER_DRY_RUN_MODE: '',
    CLUSTER_METRICS_SERVICE_URL: urls.metricsService,
  });
  const btEnv = env({ BLOCKS_SERVICE_URL: g.blocks_db_url ?? '', CLUSTER_ID: s.clusterId, CLUSTER_SERVICE_URL: g.cluster_db_url ?? '' });
  return [
    namespaceObject(s, ns),
    ...rbac(s),
    deployment(s, n.controller, ns, {
      serviceAccountName: n.controllerAccount,
      containers: [
        container({ name: 'redis', image: s.images.controllerRedis, port: { name: 'redis', containerPort: PORTS.redis }, probe: true }),
        container({ name: 'infra', image: s.images.infra, port: { name: 'infra', containerPort: PORTS.infra }, probe: true, env: infraEnv }),
        container({ name: 'block-transactions', image: s.images.blockTransactions, port: { name: 'bt', containerPort: PORTS.blockTransactions }, probe: true, env: btEnv }),
        container({ name: 'parameter-updater', image: s.images.parameterUpdater, port: { name: 'pu', containerPort: PORTS.parameterUpdater }, probe: true, env: btEnv }),
        container({ name: 'monitor', image: s.images.monitor, port: { name: 'mon', containerPort: PORTS.monitor }, probe: true, env: infraEnv }),
        // No probe: the reference maps 5555 but the stability checker image listens on 5000
        // (aios-neighbours §1.1); the port stays declared for exposure as in the original.
        container({ name: 'health', image: s.images.health, port: { name: 'health', containerPort: PORTS.health }, probe: false, env: infraEnv }),
      ],
    }),
    service(s, n.controllerSvc, ns, n.controller, [
      { name: 'infra', port: PORTS.infra },
      { name: 'bt', port: PORTS.blockTransactions },
      { name: 'pu', port: PORTS.parameterUpdater },
      { name: 'mon', port: PORTS.monitor },
      { name: 'health', port: PORTS.health },
    ]),
    deployment(s, n.membership, ns, {
      serviceAccountName: n.membershipAccount,
      containers: [
        container({
          name: 'flask-container',
          image: s.images.membershipServer,
          port: { name: 'http', containerPort: PORTS.membership },
          probe: true,
          env: env({
            PYTHONUNBUFFERED: '1',
            CLUSTER_ID: s.clusterId,
            CLUSTER_METRICS_SERVICE_URL: urls.metricsService,
            // The original passed the gateway's own in-cluster policy URL and a hard-coded
            // cluster registry IP; a remote cluster needs the public addresses.
            POLICY_DB_URL: g.policy_db_url ?? '',
            POLICY_EXECUTION_MODE: c.policyExecutionMode,
            CLUSTER_SERVICE_URL: g.cluster_db_url ?? '',
          }),
        }),
      ],
    }),
    service(s, n.membershipSvc, ns, n.membership, [{ name: 'http', port: PORTS.membership }]),
    deployment(s, n.grpcProxy, ns, {
      automountServiceAccountToken: false,
      containers: [container({ name: 'proxy', image: s.images.grpcProxy, port: { name: 'grpc', containerPort: PORTS.grpcProxy }, probe: true })],
    }),
    service(s, n.grpcProxySvc, ns, n.grpcProxy, [{ name: 'grpc', port: PORTS.grpcProxy }]),
  ];
}

/** The public paths of gateway (Ingress) exposure and the Service port each one reaches. */
export const INGRESS_PATHS = {
  controller: '/controller',
  blocks: '/blocks',
  mgmt: '/mgmt',
  membership: '/membership',
  metrics: '/metrics',
} as const;

function ingress(s: InfraSettings, name: string, namespace: string, routes: Array<{ path: string; service: string; port: number }>): KubeObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: {
      ...meta(s, name, namespace),
      annotations: {
        [CLUSTER_ID_ANNOTATION]: s.clusterId,
        // Strip the prefix, as Ambassador's Mappings did: /controller/executeAction -> /executeAction.
        'nginx.ingress.kubernetes.io/rewrite-target': '/$2',
        'nginx.ingress.kubernetes.io/use-regex': 'true',
      },
    },
    spec: {
      ingressClassName: s.ingressClassName,
      rules: [
        {
          ...(s.publicHostname && !/^[0-9.]+$|^\[/.test(s.publicHostname) ? { host: s.publicHostname } : {}),
          http: {
            paths: routes.map((r) => ({
              path: `${r.path}(/|$)(.*)`,
              pathType: 'ImplementationSpecific',
              backend: { service: { name: r.service, port: { number: r.port } } },
            })),
          },
        },
      ],
    },
  };
}

/** NodePort exposure objects (step e without useGateway). */
function nodePortExposure(s: InfraSettings): KubeObject[] {
  const n = objectNames(s);
  const p = s.nodePorts;
  return [
    service(s, n.controllerPublic, s.namespaces.controllers, n.controller, [
      { name: 'infra', port: PORTS.infra, nodePort: p.controller },
      { name: 'bt', port: PORTS.blockTransactions, nodePort: p.blockTransactions },
      { name: 'pu', port: PORTS.parameterUpdater, nodePort: p.parameterUpdater },
      { name: 'mon', port: PORTS.monitor, nodePort: p.monitor },
      { name: 'health', port: PORTS.health, nodePort: p.health },
    ], 'NodePort'),
    service(s, n.metricsWriterPublic, s.namespaces.metrics, n.metricsWriter, [{ name: 'api', port: PORTS.metricsWriter, nodePort: p.metricsWriter }], 'NodePort'),
    service(s, n.membershipPublic, s.namespaces.controllers, n.membership, [{ name: 'http', port: PORTS.membership, nodePort: p.membershipServer }], 'NodePort'),
  ];
}

/** Ingress exposure objects (step e with useGateway): one Ingress per namespace, since backends must be local. */
function ingressExposure(s: InfraSettings): KubeObject[] {
  const n = objectNames(s);
  return [
    ingress(s, n.controllersIngress, s.namespaces.controllers, [
      { path: INGRESS_PATHS.controller, service: n.controllerSvc, port: PORTS.infra },
      { path: INGRESS_PATHS.blocks, service: n.controllerSvc, port: PORTS.blockTransactions },
      { path: INGRESS_PATHS.mgmt, service: n.controllerSvc, port: PORTS.parameterUpdater },
      { path: INGRESS_PATHS.membership, service: n.membershipSvc, port: PORTS.membership },
    ]),
    ingress(s, n.metricsIngress, s.namespaces.metrics, [{ path: INGRESS_PATHS.metrics, service: n.metricsWriterSvc, port: PORTS.metricsWriter }]),
  ];
}

/** The gRPC proxy speaks gRPC, not HTTP, so it keeps its own NodePort in both modes. */
function grpcExposure(s: InfraSettings): KubeObject[] {
  const n = objectNames(s);
  return [service(s, n.grpcProxyPublic, s.namespaces.controllers, n.grpcProxy, [{ name: 'grpc', port: PORTS.grpcProxy, nodePort: s.nodePorts.grpcProxy }], 'NodePort')];
}

/** Step e: make the services reachable from outside, by NodePort or by Ingress. */
function exposure(s: InfraSettings, mode: InfraSettings['exposure'] = s.exposure): KubeObject[] {
  return [...(mode === 'ingress' ? ingressExposure(s) : nodePortExposure(s)), ...grpcExposure(s)];
}

/** The objects one creation step applies, in apply order. */
export function objectsForStep(step: ObjectStep, s: InfraSettings): KubeObject[] {
  switch (step) {
    case 'metrics-db':
      return metricsDb(s);
    case 'metrics-services':
      return metricsServices(s);
    case 'metrics-collector':
      return metricsCollector(s);
    case 'cluster-controller':
      return clusterController(s);
    case 'exposure':
      return exposure(s);
  }
}

/**
 * The objects one removal step deletes, in deletion order (the reverse of creation). Exposure
 * covers both modes, so removal is complete even if `useGateway` changed since creation.
 */
export function removalObjectsForStep(step: ObjectStep, s: InfraSettings): KubeObject[] {
  const objects = step === 'exposure' ? [...nodePortExposure(s), ...ingressExposure(s), ...grpcExposure(s)] : objectsForStep(step, s);
  return objects.reverse();
}

/** Every object of a creation, in apply order. */
export function allObjects(s: InfraSettings): KubeObject[] {
  return OBJECT_STEPS.flatMap((step) => objectsForStep(step, s));
}

/**
 * The cluster entry's `config.urlMap` (plain strings, the reference's intended map). NodePort
 * mode: one port per service on the public host; publicGateway is the gRPC proxy's port, as in
 * the reference. Ingress mode: paths on the ingress controller's host and port.
 */
export function urlMap(s: InfraSettings): Record<string, string> {
  const host = s.publicHostname;
  if (!host) throw new Error(`cluster ${s.clusterId} has no config.publicHostname`);
  const p = s.nodePorts;
  if (s.exposure === 'ingress') {
    const base = `http://${host}${s.ingressPort === 80 ? '' : `:${s.ingressPort}`}`;
    return {
      controllerService: `${base}${INGRESS_PATHS.controller}`,
      metricsService: `${base}${INGRESS_PATHS.metrics}`,
      parameterUpdater: `${base}${INGRESS_PATHS.mgmt}`,
      membershipServer: `${base}${INGRESS_PATHS.membership}`,
      blocksQuery: `${base}${INGRESS_PATHS.blocks}`,
      publicGateway: base,
    };
  }
  return {
    controllerService: `http://${host}:${p.controller}`,
    metricsService: `http://${host}:${p.metricsWriter}`,
    parameterUpdater: `http://${host}:${p.parameterUpdater}`,
    membershipServer: `http://${host}:${p.membershipServer}`,
    blocksQuery: `http://${host}:${p.blockTransactions}`,
    publicGateway: `http://${host}:${p.grpcProxy}`,
  };
}

/**
 * Which objects serve each urlMap key: removal clears a key only when none of them is left
 * (so a partial removal keeps the URLs of what still runs).
 */
export function urlMapServedBy(s: InfraSettings): Record<string, string[]> {
  const n = objectNames(s);
  const cs = s.namespaces.controllers;
  const ms = s.namespaces.metrics;
  const controller = [`Deployment ${cs}/${n.controller}`, `Service ${cs}/${n.controllerSvc}`, `Service ${cs}/${n.controllerPublic}`, `Ingress ${cs}/${n.controllersIngress}`];
  return {
    controllerService: controller,
    parameterUpdater: controller,
    blocksQuery: controller,
    metricsService: [`Deployment ${ms}/${n.metricsWriter}`, `Service ${ms}/${n.metricsWriterSvc}`, `Service ${ms}/${n.metricsWriterPublic}`, `Ingress ${ms}/${n.metricsIngress}`],
    membershipServer: [`Deployment ${cs}/${n.membership}`, `Service ${cs}/${n.membershipSvc}`, `Service ${cs}/${n.membershipPublic}`, `Ingress ${cs}/${n.controllersIngress}`],
    publicGateway: [`Deployment ${cs}/${n.grpcProxy}`, `Service ${cs}/${n.grpcProxyPublic}`, `Ingress ${cs}/${n.controllersIngress}`],
  };
}
