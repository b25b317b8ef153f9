/**
 * Request bodies of the per-cluster controller proxies (spec §3, §5–§7; original-gateway §1.3,
 * §1.4, §1.8, §1.9). Wire formats of what the gateway forwards: aios-neighbours §1.2–§1.7.
 */
const id = { type: 'string', minLength: 1, maxLength: 253 } as const;
const anyJson = {} as const;

/** First pass of `POST /controller/block-scaling/:clusterId`: names a bad or unknown `operation`. */
export const scaleOperationSchema = {
  type: 'object',
  required: ['operation'],
  properties: { operation: { enum: ['scale', 'downscale'] } },
} as const;

/** `operation: "scale"`: start `instances_count` new instances, optionally placed by hand. */
export const scaleUpSchema = {
  type: 'object',
  required: ['operation', 'block_id', 'instances_count'],
  additionalProperties: false,
  properties: {
    operation: { const: 'scale' },
    block_id: id,
    cluster_id: { type: 'string' },
    instances_count: { type: 'integer', minimum: 1, maximum: 1000 },
    allocation_data: {
      type: 'array',
      maxItems: 1000,
      items: {
        type: 'object',
        required: ['node_id', 'gpu_ids'],
        properties: {
          node_id: id,
          gpu_ids: { type: 'array', maxItems: 64, uniqueItems: true, items: { type: 'integer', minimum: 0 } },
        },
      },
    },
    /** Per-instance extra config; the controller injects entry i as CUSTOM_INIT_DATA of instance i. */
    init_data: { type: 'array', maxItems: 1000, items: { type: 'object' } },
  },
} as const;

/** `operation: "downscale"`: remove the listed instances. */
export const scaleDownSchema = {
  type: 'object',
  required: ['operation', 'block_id', 'instances_list'],
  additionalProperties: false,
  properties: {
    operation: { const: 'downscale' },
    block_id: id,
    cluster_id: { type: 'string' },
    instances_list: { type: 'array', minItems: 1, maxItems: 1000, uniqueItems: true, items: id },
  },
} as const;

export interface AllocationEntry {
  node_id: string;
  gpu_ids: number[];
}

export type ScaleBody =
  | { operation: 'scale'; block_id: string; cluster_id?: string; instances_count: number; allocation_data?: AllocationEntry[]; init_data?: object[] }
  | { operation: 'downscale'; block_id: string; cluster_id?: string; instances_list: string[] };

/** `/controller/createBlock` and `/controller/resourceAllocation`. */
export const createBlockSchema = {
  type: 'object',
  required: ['block_data'],
  properties: {
    block_data: { type: 'object', required: ['id'], properties: { id } },
  },
} as const;

/** `/controller/removeBlock`. */
export const removeBlockSchema = {
  type: 'object',
  required: ['block_id'],
  properties: { block_id: id },
} as const;

/** `/controller/removeInstance`. */
export const removeInstanceSchema = {
  type: 'object',
  required: ['block_id', 'instance_id'],
  properties: { block_id: id, instance_id: id },
} as const;

/** `/controller/reassign-instance` (the controller's field names are camelCase here). */
export const reassignInstanceSchema = {
  type: 'object',
  required: ['instanceId', 'blockId'],
  properties: { instanceId: id, blockId: id, extra_data: anyJson },
} as const;

/** `/initContainer/initCreateStatusUpdate`: an init container's stage report (extra fields pass through). */
export const initStatusUpdateSchema = {
  type: 'object',
  required: ['block_id', 'stage', 'status'],
  properties: {
    block_id: id,
    stage: { enum: ['begin', 'main', 'finish'] },
    status: { type: 'string', minLength: 1 },
    status_data: anyJson,
  },
} as const;

/** `/initContainer/queryInitContainerData`. */
export const queryInitContainerSchema = {
  type: 'object',
  required: ['block_id'],
  properties: { block_id: id },
} as const;

/**
 * `POST /blocks/mgmt` (spec §6). The Parser also sends `cluster_id` and `instance_id`, as empty
 * strings when absent; `block_id` may be empty only for a cluster command (checked in the service).
 */
export const blockMgmtSchema = {
  type: 'object',
  required: ['service', 'action'],
  properties: {
    block_id: { type: 'string', maxLength: 253 },
    service: { type: 'string', minLength: 1, maxLength: 200 },
    action: { type: 'string', minLength: 1, maxLength: 200 },
    payload: anyJson,
    instance_id: { type: ['string', 'null'], maxLength: 253 },
    cluster_id: { type: ['string', 'null'], maxLength: 253 },
  },
} as const;

export interface BlockMgmtBody {
  block_id?: string;
  service: string;
  action: string;
  payload?: unknown;
  instance_id?: string | null;
  cluster_id?: string | null;
}

/** `POST /cluster/mgmt` (spec §7). */
export const clusterMgmtSchema = {
  type: 'object',
  required: ['cluster_id', 'service', 'action'],
  properties: {
    cluster_id: id,
    service: { type: 'string', minLength: 1, maxLength: 200 },
    action: { type: 'string', minLength: 1, maxLength: 200 },
    payload: anyJson,
  },
} as const;

export interface ClusterMgmtBody {
  cluster_id: string;
  service: string;
  action: string;
  payload?: unknown;
}

export const VDAG_CONTROLLER_ACTIONS = ['create_controller', 'remove_controller', 'scale_controller', 'list_controllers'] as const;

/** `POST /vdag-controller/:clusterId` (spec §5): the payload is the cluster controller's to check. */
export const vdagControllerSchema = {
  type: 'object',
  required: ['action'],
  properties: {
    action: { enum: VDAG_CONTROLLER_ACTIONS },
    payload: { type: 'object' },
  },
} as const;

export interface VdagControllerBody {
  action: (typeof VDAG_CONTROLLER_ACTIONS)[number];
  payload?: Record<string, unknown>;
}
