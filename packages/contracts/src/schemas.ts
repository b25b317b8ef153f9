/**
 * JSON Schemas of the gateway's request bodies and stored documents. ajv validates with them;
 * unknown fields are kept (additionalProperties is left open on documents) because cluster
 * entries carry fields the gateway does not interpret.
 */
const nonNegative = { type: 'number', minimum: 0 } as const;
const count = { type: 'integer', minimum: 0 } as const;
const stringList = { type: 'array', items: { type: 'string' } } as const;

/** Cluster and node ids end up in Kubernetes labels and URLs: label-value rules apply. */
export const ID_PATTERN = '^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$';

export const gpuSchema = {
  type: 'object',
  properties: { modelName: { type: 'string' }, memory: nonNegative },
} as const;

export const nodeSchema = {
  type: 'object',
  required: ['id'],
  properties: {
    id: { type: 'string', pattern: ID_PATTERN },
    clusterId: { type: 'string' },
    gpus: {
      type: 'object',
      properties: {
        count,
        memory: nonNegative,
        gpus: { type: 'array', items: gpuSchema },
        modelNames: stringList,
        features: stringList,
      },
    },
    vcpus: { type: 'object', properties: { count } },
    memory: nonNegative,
    swap: nonNegative,
    storage: { type: 'object', properties: { disks: count, size: nonNegative } },
    network: {
      type: 'object',
      properties: { interfaces: count, txBandwidth: nonNegative, rxBandwidth: nonNegative },
    },
    tags: stringList,
    nodeMetadata: { type: 'object' },
  },
} as const;

export const clusterSchema = {
  type: 'object',
  required: ['id'],
  properties: {
    id: { type: 'string', pattern: ID_PATTERN },
    regionId: { type: 'string' },
    status: { type: 'string' },
    nodes: {
      type: 'object',
      properties: { count, nodeData: { type: 'array', items: nodeSchema } },
    },
    gpus: { type: 'object', properties: { count, memory: nonNegative, modelNames: stringList } },
    vcpus: { type: 'object', properties: { count } },
    memory: nonNegative,
    swap: nonNegative,
    storage: { type: 'object', properties: { disks: count, size: nonNegative } },
    network: {
      type: 'object',
      properties: { interfaces: count, txBandwidth: nonNegative, rxBandwidth: nonNegative },
    },
    config: {
      type: 'object',
      properties: {
        policyExecutorId: { type: 'string' },
        policyExecutionMode: { type: 'string' },
        customPolicySystem: { type: 'object' },
        publicHostname: { type: 'string' },
        useGateway: { type: 'boolean' },
        allowExternalNodes: { type: 'boolean' },
        actionsPolicyMap: { type: 'object' },
        urlMap: { type: 'object', additionalProperties: { type: 'string' } },
      },
    },
    tags: stringList,
    clusterMetadata: {
      type: 'object',
      properties: {
        name: { type: 'string' },
        vendor: { type: 'string' },
        description: { type: 'string' },
        owner: { type: 'string' },
        email: { type: 'string' },
        countries: stringList,
        miscContactInfo: { type: 'object' },
        additionalInfo: { type: 'object' },
      },
    },
    reputation: { type: 'number' },
  },
} as const;

/** PATCH/PUT /clusters/update/:id: dotted path -> new value. */
export const clusterUpdateSchema = {
  type: 'object',
  minProperties: 1,
  propertyNames: { minLength: 1, maxLength: 512 },
} as const;

export const listQuerySchema = {
  type: 'object',
  properties: {
    limit: { type: 'string', pattern: '^[0-9]{1,4}$' },
    cursor: { type: 'string', maxLength: 1024 },
  },
} as const;

export const taskListQuerySchema = {
  type: 'object',
  properties: {
    ...listQuerySchema.properties,
    task_type: { type: 'string', maxLength: 100 },
    task_status: { enum: ['pending', 'in_progress', 'completed', 'failed', 'cancelled'] },
    cluster_id: { type: 'string', maxLength: 100 },
  },
  additionalProperties: false,
} as const;

export const blockListQuerySchema = {
  type: 'object',
  properties: {
    ...listQuerySchema.properties,
    cluster_id: { type: 'string', maxLength: 100 },
    status: { type: 'string', maxLength: 50 },
  },
  additionalProperties: false,
} as const;

export const diagnosticTaskSchema = {
  type: 'object',
  properties: {
    steps: { type: 'integer', minimum: 1, maximum: 50, default: 3 },
    step_ms: { type: 'integer', minimum: 0, maximum: 600_000, default: 100 },
    fail_at_step: { type: 'integer', minimum: 1, maximum: 50 },
    fail_message: { type: 'string', maxLength: 1000 },
    /** Fail this many attempts of the failing step with a retryable error, then succeed. */
    transient_failures: { type: 'integer', minimum: 0, maximum: 10 },
    /** Optional secret, carried encrypted through the queue and never stored (exercises the secret path). */
    secret: { type: 'string', maxLength: 4096 },
    cluster_id: { type: 'string', maxLength: 100 },
  },
  additionalProperties: false,
} as const;

export const taskRetrySchema = {
  type: 'object',
  properties: { secrets: { type: 'object', additionalProperties: { type: 'string' } } },
} as const;

/** POST /cluster-metrics/:clusterId/report: what a cluster's metrics writer pushes. */
export const metricsReportSchema = {
  type: 'object',
  required: ['cluster', 'nodes'],
  properties: {
    cluster: { type: 'object' },
    nodes: { type: 'array', maxItems: 10_000, items: { type: 'object' } },
    blocks: { type: 'array', maxItems: 100_000 },
    collected_at: { type: 'string', format: 'date-time' },
  },
} as const;

/** POST /cluster-metrics/:clusterId/node/query: dotted path -> value, all must be equal. */
export const nodeQuerySchema = {
  type: 'object',
  minProperties: 1,
  maxProperties: 50,
  propertyNames: { minLength: 1, maxLength: 512 },
} as const;

export const liveQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: { live: { enum: ['true', 'false'] } },
} as const;

export const clusterDeleteQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: { force: { enum: ['true', 'false'] } },
} as const;
