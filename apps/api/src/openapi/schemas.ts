/**
 * The named schemas of the OpenAPI document (`components.schemas`). Request schemas are the very
 * objects ajv validates with (exported by @ccg/contracts, or a task definition's `inputSchema`);
 * the document builder replaces every occurrence of one of these objects with a `$ref`, so
 * nothing is copied. The few schemas defined here describe answers, which nothing validates.
 */
import {
  actionMapSchema,
  blockMgmtSchema,
  clusterMgmtSchema,
  clusterSchema,
  clusterUpdateSchema,
  createBlockSchema,
  gpuSchema,
  initStatusUpdateSchema,
  joinNodeSchema,
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
  scaleDownSchema,
  scaleUpSchema,
  taskRetrySchema,
  vdagControllerSchema,
  actionEntrySchema,
} from '@ccg/contracts';
import { errorEnvelopeSchema } from '../errors.js';

/** `POST /pre-check-policies/update`: built by the same function the ActionMap validates with. */
export const actionMapUpdateSchema = actionMapSchema(true);

/** `POST /controller/block-scaling`: the service validates with one of the two by `operation`. */
export const scaleRequestSchema = { oneOf: [scaleUpSchema, scaleDownSchema] };

/** What the version columns add to a stored document. */
const versioned = {
  type: 'object',
  required: ['version', 'created_at', 'updated_at'],
  properties: {
    version: { type: 'integer', minimum: 1, description: 'sent as ETag; If-Match takes it' },
    created_at: { type: 'string', format: 'date-time' },
    updated_at: { type: 'string', format: 'date-time' },
  },
};

export const clusterViewSchema = { allOf: [clusterSchema, versioned] };

export const taskViewSchema = {
  type: 'object',
  required: ['task_id', 'task_type', 'task_status', 'steps'],
  properties: {
    task_id: { type: 'string' },
    task_type: { type: 'string' },
    task_data: { type: 'object', description: 'the input; secret fields shown as "[redacted]"' },
    task_status: { enum: ['pending', 'in_progress', 'completed', 'failed', 'cancelled'] },
    task_status_data: { type: ['object', 'null'] },
    task_create_timestamp: { type: 'integer', description: 'epoch seconds' },
    task_update_timestamp: { type: 'integer', description: 'epoch seconds' },
    cluster_id: { type: ['string', 'null'] },
    actor: { type: ['string', 'null'] },
    attempts: { type: 'integer' },
    retries: { type: 'integer' },
    cancel_requested: { type: 'boolean' },
    created_at: { type: ['string', 'null'], format: 'date-time' },
    updated_at: { type: ['string', 'null'], format: 'date-time' },
    started_at: { type: ['string', 'null'], format: 'date-time' },
    finished_at: { type: ['string', 'null'], format: 'date-time' },
    progress: { type: 'object', properties: { completed_steps: { type: 'integer' }, total_steps: { type: 'integer' } } },
    steps: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          index: { type: 'integer' },
          name: { type: 'string' },
          status: { enum: ['pending', 'in_progress', 'completed', 'failed', 'cancelled'] },
          message: { type: ['string', 'null'] },
          output: {},
          attempts: { type: 'integer' },
          started_at: { type: ['string', 'null'], format: 'date-time' },
          finished_at: { type: ['string', 'null'], format: 'date-time' },
        },
      },
    },
  },
};

/**
 * A block as the Parser or the spec sends it: the Parser IR `{id, policies}` or the spec's sample
 * `{blockId, policyRulesSpec}`. It is normalised and checked in code (packages/placement
 * block.ts), which answers 400 naming the field.
 */
export const blockRequestSchema = {
  type: 'object',
  description: 'the block IR {id, policies: {clusterAllocator: {policyRuleURI, parameters: {filter}}, ...}} or {blockId, policyRulesSpec}',
};

/**
 * The placement filter language (docs/ARCHITECTURE.md "Placement filters"); parsed in code
 * (packages/placement filter.ts), which answers 400 naming the condition.
 */
export const placementFilterSchema = {
  type: 'object',
  description: '{clusterQuery?, clusterMetricsQuery?}: groups {logicalOperator: AND|OR, conditions} of leaves {variable, operator, value}',
  properties: { clusterQuery: { type: 'object' }, clusterMetricsQuery: { type: 'object' } },
};

/** A keyset page of `items`. */
export function page(items: object): object {
  return {
    type: 'object',
    required: ['items', 'next_cursor'],
    properties: { items: { type: 'array', items }, next_cursor: { type: ['string', 'null'], description: 'pass as ?cursor= for the next page' } },
  };
}

/** Named schemas, in document order. Task input schemas are added from the catalogue. */
export const componentSchemas: Record<string, object> = {
  ErrorEnvelope: errorEnvelopeSchema,
  Cluster: clusterSchema,
  ClusterView: clusterViewSchema,
  ClusterUpdate: clusterUpdateSchema,
  Node: nodeSchema,
  Gpu: gpuSchema,
  MetricsReport: metricsReportSchema,
  NodeQuery: nodeQuerySchema,
  PlacementFilter: placementFilterSchema,
  Block: blockRequestSchema,
  Task: taskViewSchema,
  TaskRetry: taskRetrySchema,
  PolicyRegistration: policyRegistrationSchema,
  PolicyEval: policyEvalSchema,
  ActionEntry: actionEntrySchema,
  ActionMapUpdate: actionMapUpdateSchema,
  ScaleRequest: scaleRequestSchema,
  ScaleUp: scaleUpSchema,
  ScaleDown: scaleDownSchema,
  CreateBlock: createBlockSchema,
  RemoveBlock: removeBlockSchema,
  RemoveInstance: removeInstanceSchema,
  ReassignInstance: reassignInstanceSchema,
  InitStatusUpdate: initStatusUpdateSchema,
  QueryInitContainer: queryInitContainerSchema,
  BlockMgmt: blockMgmtSchema,
  ClusterMgmt: clusterMgmtSchema,
  VdagController: vdagControllerSchema,
  JoinNode: joinNodeSchema,
  RemoveNode: removeNodeBodySchema,
};
