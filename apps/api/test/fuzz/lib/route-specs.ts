import {
  actionMapSchema,
  apiKeyCreateSchema,
  apiKeyListQuerySchema,
  blockListQuerySchema,
  blockMgmtSchema,
  clusterDeleteQuerySchema,
  clusterMgmtSchema,
  clusterSchema,
  createBlockSchema,
  decisionListQuerySchema,
  diagnosticTaskSchema,
  initStatusUpdateSchema,
  joinNodeSchema,
  listQuerySchema,
  liveQuerySchema,
  metricsReportSchema,
  nodeQuerySchema,
  nodeSchema,
  policyEvalSchema,
  policyRegistrationSchema,
  queryInitContainerSchema,
  reassignInstanceSchema,
  removeBlockSchema,
  removeInstanceSchema,
  removeNodeBodySchema,
  scaleUpSchema,
  scopeQuerySchema,
  taskListQuerySchema,
  taskRetrySchema,
  vdagControllerSchema,
} from '@ccg/contracts';
import { infraRequestSchema } from '@ccg/kube';

/**
 * What the fuzz tests know about each route: the JSON Schema its body is validated with (from
 * @ccg/contracts where the route uses one) and a valid example to mutate, its query schema, the
 * headers it reads. A route the router has and this table lacks fails the coverage test, so a new
 * route gets its entry (it is fuzzed with the route-independent cases meanwhile).
 */

export interface BodySpec {
  schema: object;
  example: unknown;
  /**
   * Set when the route validates with hand-written code instead of a contracts schema: the schema
   * here describes what that code checks (the fuzz cases are still derived from it).
   */
  described?: string;
  /** Another name the route's errors may use for a field, e.g. the body that is itself the filter. */
  fieldAliases?: Record<string, string>;
}

export interface Fixtures {
  /** An existing cluster the update routes may change. */
  clusterForUpdates: string;
  /** A fresh cancelled task (retry needs one to reach body validation). */
  cancelledTask(): Promise<string>;
}

export interface RouteSpec {
  /** Undefined: the route reads no body (hostile bodies still get the route-independent cases). */
  body?: BodySpec;
  /** The contracts schema the route validates its query string with. */
  query?: object;
  /** Headers the route reads and must refuse with a 400 naming them when malformed. */
  headers?: Array<'If-Match' | 'Idempotency-Key'>;
  /** Path parameter values for body cases, where the body is only validated for an existing resource. */
  params?: Record<string, (fx: Fixtures) => string | Promise<string>>;
  /** Query string for body cases (keeps writes in a scope no other route reads). */
  bodyQuery?: string;
  /** The route answers a stream for an existing resource (fuzzed only with absent ids). */
  stream?: boolean;
  /** A success is a document (HTML, JavaScript, Prometheus text, the OpenAPI JSON) or a redirect, not the success envelope. */
  nonJsonSuccess?: boolean;
}

const stringList = { type: 'array', items: { type: 'string' } } as const;

/** What `normaliseBlock` (packages/placement/src/block.ts) checks of a Parser block. */
const blockBody: BodySpec = {
  described: 'normaliseBlock in packages/placement/src/block.ts',
  schema: {
    type: 'object',
    required: ['id'],
    properties: {
      id: { type: 'string', pattern: '^[A-Za-z0-9]([A-Za-z0-9._-]{0,251}[A-Za-z0-9])?$' },
      policies: {
        type: 'object',
        properties: {
          resourceAllocator: {
            type: 'object',
            properties: {
              policyRuleURI: { type: ['string', 'null'] },
              parameters: { type: ['object', 'null'], properties: { gpus: { type: 'integer', minimum: 0 } } },
              settings: { type: ['object', 'null'] },
            },
          },
        },
        additionalProperties: { type: 'object', properties: { policyRuleURI: { type: ['string', 'null'] }, parameters: { type: ['object', 'null'] }, settings: { type: ['object', 'null'] } } },
      },
    },
  },
  example: { id: 'fuzz-block', policies: { resourceAllocator: { policyRuleURI: 'fuzz/alloc:1', parameters: { gpus: 0 }, settings: {} } } },
};

/** What `parseClusterFilter` (packages/placement/src/filter.ts) checks, for one condition. */
const condition = {
  type: 'object',
  required: ['variable', 'operator', 'value'],
  additionalProperties: false,
  properties: {
    variable: { type: 'string', pattern: '^[A-Za-z0-9_]+(\\.[A-Za-z0-9_]+){0,9}$' },
    operator: { enum: ['==', '!=', '<', '<=', '>', '>=', 'IN', 'LIKE'] },
    value: { type: ['string', 'number', 'boolean', 'null'] },
  },
} as const;

const sampleNode = {
  id: 'fuzz-node-1',
  gpus: { count: 1, memory: 16, gpus: [{ modelName: 'a100', memory: 16 }], modelNames: ['a100'], features: ['nvlink'] },
  vcpus: { count: 8 },
  memory: 64,
  swap: 0,
  storage: { disks: 1, size: 100 },
  network: { interfaces: 1, txBandwidth: 10, rxBandwidth: 10 },
  tags: ['fuzz'],
  nodeMetadata: {},
};

const absentCluster = 'fuzz-absent-cluster';

export const ROUTE_SPECS: Record<string, RouteSpec> = {
  'GET /healthz': {},
  'GET /readyz': {},
  'GET /metrics': { nonJsonSuccess: true },
  'GET /openapi.json': { nonJsonSuccess: true },
  'GET /docs': { nonJsonSuccess: true },
  'GET /docs/swagger-initializer.js': { nonJsonSuccess: true },
  'ALL /docs/assets': { nonJsonSuccess: true },
  'ALL /admin/queues': { nonJsonSuccess: true },

  'POST /auth/keys': { body: { schema: apiKeyCreateSchema, example: { name: 'fuzz-key', role: 'viewer' } } },
  'GET /auth/keys': { query: apiKeyListQuerySchema },
  'DELETE /auth/keys/:id': {},
  'GET /auth/whoami': {},

  'POST /create-cluster-infra': { body: infraBody(), headers: ['Idempotency-Key'] },
  'POST /remove-cluster-infra': { body: infraBody(), headers: ['Idempotency-Key'] },

  'POST /clusters/create': {
    body: {
      schema: clusterSchema,
      example: {
        id: 'fuzz-created',
        regionId: 'r1',
        status: 'active',
        nodes: { count: 1, nodeData: [sampleNode] },
        gpus: { count: 1, memory: 16, modelNames: ['a100'] },
        vcpus: { count: 8 },
        memory: 64,
        swap: 0,
        storage: { disks: 1, size: 100 },
        network: { interfaces: 1, txBandwidth: 10, rxBandwidth: 10 },
        config: { policyExecutorId: 'p', policyExecutionMode: 'local', publicHostname: 'h', useGateway: false, allowExternalNodes: true, urlMap: { controllerService: 'http://127.0.0.1:9' } },
        tags: ['fuzz'],
        clusterMetadata: { name: 'n', vendor: 'v', description: 'd', owner: 'o', email: 'e@x', countries: ['de'], miscContactInfo: {}, additionalInfo: {} },
        reputation: 1,
      },
    },
  },
  'GET /clusters/read/:id': {},
  'GET /clusters': { query: listQuerySchema },
  'PATCH /clusters/update/:id': { body: clusterUpdate(), headers: ['If-Match'], params: { id: (fx) => fx.clusterForUpdates } },
  'PUT /clusters/update/:id': { body: clusterUpdate(), headers: ['If-Match'], params: { id: (fx) => fx.clusterForUpdates } },
  'DELETE /clusters/delete/:id': { query: clusterDeleteQuerySchema, headers: ['If-Match'] },
  'POST /clusters/query': {
    query: listQuerySchema,
    body: {
      described: 'parseClusterFilter in packages/placement/src/filter.ts',
      // A body without `filter` is taken as the filter itself, and named so.
      fieldAliases: { '(body)': 'filter' },
      schema: {
        type: 'object',
        required: ['filter'],
        properties: { filter: { type: 'object', additionalProperties: false, properties: { clusterQuery: condition, clusterMetricsQuery: condition } } },
      },
      example: { filter: { clusterQuery: { variable: 'regionId', operator: '==', value: 'r1' } } },
    },
  },

  'GET /blocks': { query: blockListQuerySchema },
  'GET /blocks/:id': {},
  'DELETE /blocks/:id': { headers: ['Idempotency-Key'] },
  'POST /blockActions/dryRun': { body: blockBody },
  'POST /blockActions/selectClusters': { body: blockBody },
  'POST /blockActions/allocate': { body: blockBody, headers: ['Idempotency-Key'] },
  'POST /blockActions/deallocate': {
    headers: ['Idempotency-Key'],
    body: {
      described: 'BlockActionsService.deallocate in packages/placement/src/block-actions.ts',
      schema: { type: 'object', required: ['block_id'], properties: { block_id: { type: 'string', minLength: 1 } } },
      example: { block_id: 'fuzz-absent-block' },
    },
  },

  'GET /tasks/:id': {},
  'GET /task/:id': {},
  'GET /tasks': { query: taskListQuerySchema },
  'GET /tasks/:id/events': { stream: true },
  'POST /tasks/:id/cancel': {},
  'POST /tasks/:id/retry': { body: { schema: taskRetrySchema, example: { secrets: { secret: 's' } } }, params: { id: (fx) => fx.cancelledTask() } },
  'POST /admin/diagnostics/tasks': {
    headers: ['Idempotency-Key'],
    body: { schema: diagnosticTaskSchema, example: { steps: 1, step_ms: 0, fail_at_step: 1, fail_message: 'm', transient_failures: 0, secret: 's', cluster_id: 'c' } },
  },

  'POST /policies': {
    body: {
      schema: policyRegistrationSchema,
      example: { uri: 'fuzz/remote:1', runtime: 'remote', remote: { url: 'http://127.0.0.1:9/eval', executor_id: 'e1', policy_rule_uri: 'fuzz/rule:1' }, settings: {}, parameters: {}, description: 'fuzz' },
    },
  },
  'GET /policies': { query: listQuerySchema },
  'GET /policies/:uri': {},
  'DELETE /policies/:uri': {},
  'POST /policies/:uri/eval': { body: { schema: policyEvalSchema, example: { input: { a: 1 }, parameters: {}, context: {}, timeoutMs: 100 } } },
  'GET /pre-check-policies': { query: scopeQuerySchema },
  'GET /pre-check-policies/get': { query: scopeQuerySchema },
  'POST /pre-check-policies/update': {
    query: scopeQuerySchema,
    // Writes go to a cluster scope no other route reads, so a case the schema accepts changes nothing else.
    bodyQuery: 'cluster_id=fuzz-scope',
    body: { schema: actionMapSchema(true), example: { add_node: '', remove_node: { policyRuleURI: 'fuzz/rule:1', parameters: {}, settings: {}, mode: 'audit', timeoutMs: 100, failurePolicy: 'open' } } },
  },
  'GET /pre-check-policies/history': { query: scopeQuerySchema },
  'GET /pre-check-policies/decisions': { query: decisionListQuerySchema },

  'GET /cluster-metrics/node/:clusterId/:nodeId': {},
  'GET /cluster-metrics/:clusterId': { query: liveQuerySchema },
  'POST /cluster-metrics/:clusterId/report': {
    body: { schema: metricsReportSchema, example: { cluster: { vcpu: { load15m: 0.1 } }, nodes: [{ id: 'n1' }], blocks: [{ id: 'b1' }], collected_at: '2024-01-01T00:00:00Z' } },
  },
  'POST /cluster-metrics/:clusterId/node/query': { body: { schema: nodeQuerySchema, example: { 'vcpu.load15m': 0.5 } } },

  'POST /nodes/add-node-to-cluster/:clusterId': { body: { schema: nodeSchema, example: sampleNode } },
  'GET /nodes/remove-node-from-cluster/:clusterId/:nodeId': {},
  'DELETE /nodes/remove-node-from-cluster/:clusterId/:nodeId': {},
  'POST /pre-checks/add-node/:clusterId': { body: { schema: nodeSchema, example: sampleNode } },
  'POST /join-node/:clusterId': { body: { schema: joinNodeSchema, example: { node_data: sampleNode, mode: 'local_network', custom_ip: '' } } },
  'POST /pre-checks/remove-node/:clusterId': { body: { schema: removeNodeBodySchema, example: { node_id: 'fuzz-node-1' } } },
  'POST /remove-node/:clusterId': { body: { schema: removeNodeBodySchema, example: { node_id: 'fuzz-node-1' } } },
  'GET /sync-cluster/:clusterId': {},

  'POST /controller/block-scaling/:clusterId': {
    body: { schema: scaleUpSchema, example: { operation: 'scale', block_id: 'b1', cluster_id: absentCluster, instances_count: 1, allocation_data: [{ node_id: 'n1', gpu_ids: [0] }], init_data: [{}] } },
  },
  'POST /controller/createBlock/:clusterId': { body: { schema: createBlockSchema, example: { block_data: { id: 'b1', extra: {} } } } },
  'POST /controller/resourceAllocation/:clusterId': { body: { schema: createBlockSchema, example: { block_data: { id: 'b1' } } } },
  'POST /controller/removeBlock/:clusterId': { body: { schema: removeBlockSchema, example: { block_id: 'b1' } } },
  'POST /controller/removeInstance/:clusterId': { body: { schema: removeInstanceSchema, example: { block_id: 'b1', instance_id: 'i1' } } },
  'POST /controller/reassign-instance/:clusterId': { body: { schema: reassignInstanceSchema, example: { instanceId: 'i1', blockId: 'b1', extra_data: {} } } },
  'POST /initContainer/initCreateStatusUpdate/:clusterId': { body: { schema: initStatusUpdateSchema, example: { block_id: 'b1', stage: 'begin', status: 'ok', status_data: {} } } },
  'POST /initContainer/queryInitContainerData/:clusterId': { body: { schema: queryInitContainerSchema, example: { block_id: 'b1' } } },
  'POST /vdag-controller/:clusterId': { body: { schema: vdagControllerSchema, example: { action: 'list_controllers', payload: {} } } },
  'POST /blocks/mgmt': { body: { schema: blockMgmtSchema, example: { block_id: 'b1', service: 's', action: 'a', payload: {}, instance_id: '', cluster_id: '' } } },
  'POST /cluster/mgmt': { body: { schema: clusterMgmtSchema, example: { cluster_id: absentCluster, service: 's', action: 'a', payload: {} } } },
};

/**
 * `PATCH/PUT /clusters/update/:id` validates `{dotted.path: value}` (clusterUpdateSchema), applies
 * it and validates the result as a cluster: for these paths that is the cluster schema's rule.
 */
function clusterUpdate(): BodySpec {
  return {
    described: 'clusterUpdateSchema, then clusterSchema on the updated entry (packages/registry/src/clusters.ts)',
    schema: {
      type: 'object',
      minProperties: 1,
      properties: {
        regionId: { type: 'string' },
        'gpus.count': { type: 'integer', minimum: 0 },
        'config.useGateway': { type: 'boolean' },
        tags: stringList,
        reputation: { type: 'number' },
      },
    },
    example: { regionId: 'r2', 'gpus.count': 2, 'config.useGateway': true, tags: ['a'], reputation: 2 },
  };
}

/** `{cluster_id, kube_config_data}` with a kubeconfig as a JSON object (the cluster does not exist: a valid body is a 404). */
function infraBody(): BodySpec {
  return {
    schema: infraRequestSchema,
    example: {
      cluster_id: absentCluster,
      kube_config_data: {
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:6443' } }],
        users: [{ name: 'u', user: { token: 't' } }],
        contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
        'current-context': 'x',
      },
    },
  };
}

/** A value for a path parameter that names nothing (reads get 404, writes change nothing). */
export function absentParam(name: string): string {
  if (name === 'uri') return 'fuzz/absent:1';
  if (name === 'clusterId') return absentCluster;
  return `fuzz-absent-${name}`;
}
