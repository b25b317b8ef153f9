import {
  blockMgmtSchema,
  clusterMgmtSchema,
  ConflictError,
  InputError,
  validate,
  type BlockMgmtBody,
  type ClusterMgmtBody,
  type JsonObject,
} from '@ccg/contracts';
import { toBlockView, toClusterView, type WriteMeta } from '@ccg/registry';
import type { OperationsContext } from './context.js';

/** The `input` of the block_mgmt / cluster_mgmt pre-checks. */
interface Command {
  action: string;
  payload: unknown;
}

const commandSchema = {
  type: 'object',
  required: ['action'],
  properties: { action: { type: 'string', minLength: 1 }, payload: {} },
} as const;

/**
 * Management commands (spec §6, §7; original-gateway §1.9): sent to the cluster's parameter updater
 * as `POST {parameterUpdater}/mgmt {block_id, service, mgmt_action, mgmt_data, instance_id}`.
 * `instance_id` is always a string: the parameter updater routes to an instance on anything but "".
 */
export class MgmtService {
  constructor(private readonly ctx: OperationsContext) {}

  /**
   * `POST /blocks/mgmt`. A command with a `cluster_id` for the `stability_checker` service is a
   * cluster command (the Parser's way to reach it); anything else goes to the block's cluster.
   */
  async block(body: unknown, meta: WriteMeta = {}): Promise<unknown> {
    const req = validate<BlockMgmtBody>(blockMgmtSchema, body, 'body');
    const command: Command = { action: req.action, payload: req.payload ?? {} };
    const clusterId = req.cluster_id ?? '';
    if (clusterId !== '' && req.service === 'stability_checker') return this.toCluster(clusterId, req.service, command, meta);

    const blockId = req.block_id ?? '';
    if (blockId === '') throw new InputError('invalid body: block_id is required (a cluster command needs cluster_id and service "stability_checker")', { field: 'block_id' });
    const block = await this.ctx.blocks.get(blockId);
    if (block.cluster_id === null) {
      throw new ConflictError(`block ${blockId} is not placed on any cluster`, { block_id: blockId, block_cluster_id: null }, 'BLOCK_NOT_ON_CLUSTER');
    }
    if (clusterId !== '' && clusterId !== block.cluster_id) {
      throw new ConflictError(`block ${blockId} is on cluster ${block.cluster_id}, not on ${clusterId}`, { block_id: blockId, block_cluster_id: block.cluster_id, cluster_id: clusterId }, 'BLOCK_NOT_ON_CLUSTER');
    }
    const cluster = await this.ctx.clusters.get(block.cluster_id);
    const input = { block_data: toBlockView(block) as JsonObject, input: command };
    const checked = await this.ctx.gate.check('block_mgmt', input, { ...meta, clusterId: block.cluster_id });
    const cmd = checked === input ? command : rewritten(checked?.input, 'block_mgmt');
    return this.ctx.client.mgmt(cluster.doc, {
      block_id: blockId,
      service: req.service,
      mgmt_action: cmd.action,
      mgmt_data: cmd.payload,
      instance_id: req.instance_id ?? '',
    });
  }

  /** `POST /cluster/mgmt`: a command for the cluster controller's own services. */
  async cluster(body: unknown, meta: WriteMeta = {}): Promise<unknown> {
    const req = validate<ClusterMgmtBody>(clusterMgmtSchema, body, 'body');
    return this.toCluster(req.cluster_id, req.service, { action: req.action, payload: req.payload ?? {} }, meta);
  }

  /** `cluster_mgmt` pre-check `{cluster_data, input: {action, payload}}`, then `/mgmt` with an empty block and instance. */
  private async toCluster(clusterId: string, service: string, command: Command, meta: WriteMeta): Promise<unknown> {
    const cluster = await this.ctx.clusters.get(clusterId);
    const input = { cluster_data: toClusterView(cluster) as JsonObject, input: command };
    const checked = await this.ctx.gate.check('cluster_mgmt', input, { ...meta, clusterId });
    const cmd = checked === input ? command : rewritten(checked?.input, 'cluster_mgmt');
    return this.ctx.client.mgmt(cluster.doc, { block_id: '', service, mgmt_action: cmd.action, mgmt_data: cmd.payload, instance_id: '' });
  }
}

/** The `{action, payload}` a pre-check rule returned in place of the caller's. */
function rewritten(value: unknown, action: string): Command {
  const cmd = validate<{ action: string; payload?: unknown }>(commandSchema, value, `input returned by the ${action} pre-check`);
  return { action: cmd.action, payload: cmd.payload ?? {} };
}
