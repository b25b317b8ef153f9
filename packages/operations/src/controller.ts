import {
  ConflictError,
  createBlockSchema,
  InputError,
  initStatusUpdateSchema,
  NotFoundError,
  queryInitContainerSchema,
  reassignInstanceSchema,
  removeBlockSchema,
  removeInstanceSchema,
  scaleDownSchema,
  scaleOperationSchema,
  scaleUpSchema,
  validate,
  type JsonObject,
  type ScaleBody,
} from '@ccg/contracts';
import type { BlockRow, ClusterRow } from '@ccg/db';
import { toBlockView, toClusterView, type WriteMeta } from '@ccg/registry';
import type { OperationsContext } from './context.js';

/** What a pre-check rule returned in place of the caller's body is checked like the body. */
const REWRITTEN = (action: string): string => `input returned by the ${action} pre-check`;

/**
 * The cluster controller's block actions (spec §3; original-gateway §1.3, §1.4): validate, pre-check,
 * then `POST {controllerService}/executeAction` with the flat body `{action, ...fields, cluster_id}`.
 * The original sent `cluster_id: null` (an unset env var); the real id is sent here.
 */
export class ControllerService {
  constructor(private readonly ctx: OperationsContext) {}

  /** `POST /controller/block-scaling/:clusterId`: `scale_block` pre-check `{block_data, input}`, then action `scale`. */
  async scale(clusterId: string, body: unknown, meta: WriteMeta = {}): Promise<unknown> {
    const request = parseScale(body, 'body');
    const cluster = await this.ctx.clusters.get(clusterId);
    const block = await this.checkScale(cluster, request, 'body');
    const input = { block_data: toBlockView(block) as JsonObject, input: request };
    const checked = await this.ctx.gate.check('scale_block', input, { ...meta, clusterId });
    let fields = request;
    if (checked !== input) {
      fields = parseScale(checked?.input, REWRITTEN('scale_block'));
      await this.checkScale(cluster, fields, REWRITTEN('scale_block'));
    }
    return this.ctx.client.executeAction(cluster.doc, 'scale', { ...fields, cluster_id: clusterId });
  }

  /**
   * `POST /controller/createBlock/:clusterId` (and `/resourceAllocation`, the same call): `add_block`
   * pre-check `{block_data, cluster_data, cluster_metrics}`, then `create_block {block_data, cluster_id}`.
   * The controller writes the block into its registry itself; the allocation flow owns ours.
   */
  async createBlock(clusterId: string, body: unknown, meta: WriteMeta = {}): Promise<unknown> {
    const { block_data } = validate<{ block_data: JsonObject }>(createBlockSchema, body, 'body');
    const cluster = await this.ctx.clusters.get(clusterId);
    const input = { block_data, cluster_data: toClusterView(cluster) as JsonObject, cluster_metrics: await this.ctx.metrics.forPrecheck(clusterId) };
    const checked = await this.ctx.gate.check('add_block', input, { ...meta, clusterId });
    const blockData = checked === input ? block_data : validate<{ block_data: JsonObject }>(createBlockSchema, { block_data: checked?.block_data }, REWRITTEN('add_block')).block_data;
    return this.ctx.client.executeAction(cluster.doc, 'create_block', { block_data: blockData, cluster_id: clusterId }, { long: true });
  }

  /**
   * `POST /controller/removeBlock/:clusterId`: `remove_block` pre-check `{block_data, cluster_data,
   * cluster_metrics, block_metrics: null, block_instance_nodes: []}` (block_data from the registry,
   * else `{id}`), then `remove_block {block_id, cluster_id}`.
   */
  async removeBlock(clusterId: string, body: unknown, meta: WriteMeta = {}): Promise<unknown> {
    const { block_id } = validate<{ block_id: string }>(removeBlockSchema, body, 'body');
    const cluster = await this.ctx.clusters.get(clusterId);
    const input = {
      block_data: await this.blockData(block_id, clusterId),
      cluster_data: toClusterView(cluster) as JsonObject,
      cluster_metrics: await this.ctx.metrics.forPrecheck(clusterId),
      block_metrics: null,
      block_instance_nodes: [] as string[],
    };
    const checked = await this.ctx.gate.check('remove_block', input, { ...meta, clusterId });
    const blockId = checked === input ? block_id : rewrittenId((checked?.block_data as JsonObject | undefined)?.id, 'block_data.id', 'remove_block');
    return this.ctx.client.executeAction(cluster.doc, 'remove_block', { block_id: blockId, cluster_id: clusterId }, { long: true });
  }

  /** `POST /controller/removeInstance/:clusterId`: `scale_block` pre-check `{block_data, input}`, then `remove_instance`. */
  async removeInstance(clusterId: string, body: unknown, meta: WriteMeta = {}): Promise<unknown> {
    type Body = { block_id: string; instance_id: string };
    const request = validate<Body>(removeInstanceSchema, body, 'body');
    const cluster = await this.ctx.clusters.get(clusterId);
    const input = { block_data: await this.blockData(request.block_id, clusterId), input: request };
    const checked = await this.ctx.gate.check('scale_block', input, { ...meta, clusterId });
    const f = checked === input ? request : validate<Body>(removeInstanceSchema, checked?.input, REWRITTEN('scale_block'));
    return this.ctx.client.executeAction(cluster.doc, 'remove_instance', { block_id: f.block_id, instance_id: f.instance_id, cluster_id: clusterId });
  }

  /** `POST /controller/reassign-instance/:clusterId`: `scale_block` pre-check `{block_data, input}`, then `reassign`. */
  async reassignInstance(clusterId: string, body: unknown, meta: WriteMeta = {}): Promise<unknown> {
    type Body = { instanceId: string; blockId: string; extra_data?: unknown };
    const request = validate<Body>(reassignInstanceSchema, body, 'body');
    const cluster = await this.ctx.clusters.get(clusterId);
    const input = { block_data: await this.blockData(request.blockId, clusterId), input: request };
    const checked = await this.ctx.gate.check('scale_block', input, { ...meta, clusterId });
    const f = checked === input ? request : validate<Body>(reassignInstanceSchema, checked?.input, REWRITTEN('scale_block'));
    // The controller reads extra_data for its resourceAllocator input: always send it.
    return this.ctx.client.executeAction(cluster.doc, 'reassign', { instanceId: f.instanceId, blockId: f.blockId, extra_data: f.extra_data ?? {}, cluster_id: clusterId });
  }

  /**
   * `POST /initContainer/initCreateStatusUpdate/:clusterId`: an init container's stage report, sent on
   * as `init_create_status_update` with the reporter's other fields (`message`, `mode`). No pre-check.
   */
  async initCreateStatusUpdate(clusterId: string, body: unknown): Promise<unknown> {
    const report = validate<JsonObject>(initStatusUpdateSchema, body, 'body');
    const cluster = await this.ctx.clusters.get(clusterId);
    return this.ctx.client.executeAction(cluster.doc, 'init_create_status_update', { ...report, cluster_id: clusterId });
  }

  /** `POST /initContainer/queryInitContainerData/:clusterId` → `query_init_container_data {block_id}`. No pre-check. */
  async queryInitContainerData(clusterId: string, body: unknown): Promise<unknown> {
    const { block_id } = validate<{ block_id: string }>(queryInitContainerSchema, body, 'body');
    const cluster = await this.ctx.clusters.get(clusterId);
    return this.ctx.client.executeAction(cluster.doc, 'query_init_container_data', { block_id, cluster_id: clusterId });
  }

  /**
   * A scale body checked against the cluster: allocation entries must name nodes of its
   * `nodes.nodeData` and cover every new instance; the block must be a registered block of it.
   */
  private async checkScale(cluster: ClusterRow, request: ScaleBody, what: string): Promise<BlockRow> {
    if (request.cluster_id !== undefined && request.cluster_id !== cluster.id) {
      throw new InputError(`invalid ${what}: cluster_id "${request.cluster_id}" is not the cluster in the path (${cluster.id})`, { field: 'cluster_id' });
    }
    if (request.operation === 'scale' && request.allocation_data?.length) {
      const nodes = new Set(nodeIds(cluster.doc));
      request.allocation_data.forEach((entry, i) => {
        if (!nodes.has(entry.node_id)) {
          throw new InputError(`invalid ${what}: allocation_data.${i}.node_id "${entry.node_id}" is not a node of cluster ${cluster.id}`, {
            field: `allocation_data.${i}.node_id`,
          });
        }
      });
      // The controller places instance i by entry i; an empty list means "let the resourceAllocator decide".
      if (request.allocation_data.length < request.instances_count) {
        throw new InputError(`invalid ${what}: allocation_data has ${request.allocation_data.length} entries for ${request.instances_count} new instances`, {
          field: 'allocation_data',
        });
      }
    }
    const block = await this.ctx.blocks.get(request.block_id);
    checkOnCluster(block, cluster.id);
    return block;
  }

  /** The registered block as the pre-check sees it, or `{id}` for a block the gateway does not know. */
  private async blockData(blockId: string, clusterId: string): Promise<JsonObject> {
    const block = await findBlock(this.ctx, blockId);
    if (!block) return { id: blockId };
    if (block.cluster_id !== null) checkOnCluster(block, clusterId);
    return toBlockView(block) as JsonObject;
  }
}

/** A scale or downscale body; an unknown `operation` is a 400 naming it. */
function parseScale(body: unknown, what: string): ScaleBody {
  const { operation } = validate<{ operation: ScaleBody['operation'] }>(scaleOperationSchema, body, what);
  return validate<ScaleBody>(operation === 'scale' ? scaleUpSchema : scaleDownSchema, body, what);
}

/** 409 unless the registered block runs on that cluster. */
function checkOnCluster(block: BlockRow, clusterId: string): void {
  if (block.cluster_id === clusterId) return;
  const where = block.cluster_id === null ? 'is not placed on any cluster' : `is on cluster ${block.cluster_id}`;
  throw new ConflictError(`block ${block.id} ${where}, not on ${clusterId}`, { block_id: block.id, block_cluster_id: block.cluster_id, cluster_id: clusterId }, 'BLOCK_NOT_ON_CLUSTER');
}

/** The block's registry row, or null when it is not registered. */
async function findBlock(ctx: OperationsContext, blockId: string): Promise<BlockRow | null> {
  try {
    return await ctx.blocks.get(blockId);
  } catch (err) {
    if (err instanceof NotFoundError) return null;
    throw err;
  }
}

function nodeIds(doc: JsonObject): string[] {
  const nodeData = (doc.nodes as JsonObject | undefined)?.nodeData;
  return Array.isArray(nodeData) ? nodeData.map((n) => (n as JsonObject)?.id).filter((id): id is string => typeof id === 'string') : [];
}

function rewrittenId(value: unknown, field: string, action: string): string {
  if (typeof value === 'string' && value !== '') return value;
  throw new InputError(`invalid ${REWRITTEN(action)}: ${field} must be a non-empty string`, { field });
}
